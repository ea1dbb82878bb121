package server

import (
	"context"
	"encoding/json"
	"path"
	"strings"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/store"
)

// publicRuns is the eval history as API clients see it: a run's
// settings, dataset and files name no path on the server — a value that
// holds a path (a QA file, a corpus folder) keeps only its last element.
// Every eval and decision endpoint reads runs through it.
type publicRuns struct{ evaluate.RunStore }

func (p publicRuns) EvalRuns(ctx context.Context, limit int) ([]store.EvalRun, error) {
	runs, err := p.RunStore.EvalRuns(ctx, limit)
	for i := range runs {
		runs[i] = scrubRun(runs[i])
	}
	return runs, err
}

func (p publicRuns) EvalRun(ctx context.Context, id string) (store.EvalRun, error) {
	r, err := p.RunStore.EvalRun(ctx, id)
	return scrubRun(r), err
}

func scrubRun(r store.EvalRun) store.EvalRun {
	r.Dataset = baseOfPath(r.Dataset) // RunFile stays: the server reads query texts from it, and never sends it
	var cfg map[string]any
	if json.Unmarshal([]byte(r.Config), &cfg) == nil {
		for k, v := range cfg {
			if s, ok := v.(string); ok {
				cfg[k] = baseOfPath(s)
			}
		}
		if b, err := json.Marshal(cfg); err == nil {
			r.Config = string(b)
		}
	}
	return r
}

// baseOfPath is the last element of a value that holds a path ("../a/b",
// "/srv/x", `C:\x`); a URL or any other value stays as it is.
func baseOfPath(s string) string {
	if strings.Contains(s, "://") || !strings.ContainsAny(s, `/\`) {
		return s
	}
	return path.Base(strings.ReplaceAll(s, `\`, "/"))
}
