package project

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragtune/ragtune/internal/evaluate"
)

// ErrBadGrid marks a grid that cannot be run as written (a setting that
// does not exist or does not validate, a primary metric not measured).
var ErrBadGrid = fmt.Errorf("bad grid")

// Compare runs one eval per cell of the grid, each with the project's
// settings changed as the cell says, and ranks them by the grid's
// primary metric. Cells that share chunking share one index.
func (p *Project) Compare(ctx context.Context, grid *evaluate.Grid, progress Progress) (evaluate.Comparison, error) {
	var ds *evaluate.Dataset
	var items []evaluate.QAItem
	var err error
	if grid.Kind() == "retrieval" {
		ds, err = evaluate.LoadBEIR(grid.Dataset, grid.Split)
	} else {
		items, err = evaluate.LoadQA(grid.QA)
		items = evaluate.Spread(evaluate.SelectReviewed(items, false), grid.Limit)
	}
	if err != nil {
		return evaluate.Comparison{}, err
	}
	var results []evaluate.CellResult
	for _, cell := range grid.Cells() {
		r, err := p.compareCell(ctx, grid, cell, cellData{ds, items, progress})
		if err != nil {
			return evaluate.Comparison{}, err
		}
		results = append(results, r)
	}
	cmp := evaluate.Rank(results, grid.Primary, grid.TieBreak)
	if h := cmp.HeadToHead; h != nil {
		texts := map[string]string{}
		if ds != nil {
			for _, q := range ds.Queries {
				texts[q.ID] = q.Text
			}
		}
		for _, it := range items {
			texts[it.ID] = it.Question
		}
		evaluate.WithTexts(h.Improved, texts)
		evaluate.WithTexts(h.Worsened, texts)
	}
	return cmp, nil
}

type cellData struct {
	ds       *evaluate.Dataset
	items    []evaluate.QAItem
	progress Progress
}

func (p *Project) compareCell(ctx context.Context, grid *evaluate.Grid, cell evaluate.Cell, d cellData) (evaluate.CellResult, error) {
	r := evaluate.CellResult{Cell: cell, Label: cell.Label()}
	cfg := p.cfg
	for k, v := range cell {
		if err := cfg.Set(k, v); err != nil {
			return r, fmt.Errorf("%w: %w", ErrBadGrid, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return r, fmt.Errorf("%w: cell %s: %w", ErrBadGrid, r.Label, err)
	}
	v := p.with(cfg)
	defer v.Close()
	if d.ds != nil {
		run, err := v.EvalRetrieval(ctx, RetrievalEval{Dataset: d.ds, Split: grid.Split, Depth: 100, Progress: d.progress})
		if err != nil {
			return r, fmt.Errorf("grid cell %s: %w", r.Label, err)
		}
		r.RunID, r.Metrics, r.Latency, r.PerQuery = run.RunID, run.Result.Metrics, run.Result.LatencyMS, run.Result.PerQuery
	} else {
		run, err := v.EvalQA(ctx, QAEval{Items: d.items, Path: grid.QA, Corpus: grid.Corpus, Split: grid.Split, Limit: grid.Limit, Progress: d.progress})
		if err != nil {
			return r, fmt.Errorf("grid cell %s: %w", r.Label, err)
		}
		r.RunID, r.Metrics, r.Latency, r.PerQuery = run.RunID, run.Metrics, run.Result.LatencyMS, run.Result.PerQueryScores()
	}
	if _, ok := r.Metrics[grid.Primary]; !ok {
		return r, fmt.Errorf("%w: primary metric %q is not measured by this eval (have: %s)", ErrBadGrid, grid.Primary,
			strings.Join(evaluate.MetricNames(r.Metrics), ", "))
	}
	return r, nil
}
