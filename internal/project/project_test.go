package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// newConfig is the default configuration for a project in dir, with
// caches under dir too.
func newConfig(dir string) (config.Config, Env) {
	cfg := config.Default()
	cfg.Dir, cfg.Store.Path = dir, filepath.Join(dir, ".ragtune")
	env := Env{Getenv: func(k string) string {
		if k == "RAGTUNE_CACHE_DIR" {
			return filepath.Join(dir, "cache")
		}
		return ""
	}}
	return cfg, env
}

// initProject is a new project with the default configuration in a
// temporary folder; it is closed when the test ends.
func initProject(t *testing.T) (*Project, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, env := newConfig(dir)
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, dir
}

func TestOpenNeedsInit(t *testing.T) {
	cfg, env := newConfig(t.TempDir())
	if _, err := Open(t.Context(), cfg, env); !errors.Is(err, ErrNoStore) {
		t.Fatalf("Open before Init: %v; want ErrNoStore", err)
	}
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p, err = Open(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	st, err := p.Status(t.Context(), StatusRequest{Verify: true, Documents: true})
	if err != nil || st.Documents != 0 || st.Identity["embedder"] != "none" || st.Problems == nil || st.DocumentList == nil {
		t.Fatalf("Status of a new project = %+v, %v", st, err)
	}
}

// TestPartsAreBuiltOnce ingests a document and checks that the retriever
// of a mode is built once and that an unusable mode is an error.
func TestPartsAreBuiltOnce(t *testing.T) {
	p, dir := initProject(t)
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("# Keys\n\nSigning keys rotate every ninety days.\n"), 0o644)
	rep, err := p.Ingest(t.Context(), IngestRequest{Roots: []string{dir}})
	if err != nil || rep.Added != 1 {
		t.Fatalf("ingest: %+v, %v", rep, err)
	}
	r1, err := p.Retriever(t.Context(), retrieve.Lexical)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := p.Retriever(t.Context(), retrieve.Lexical)
	if r1 != r2 {
		t.Error("the lexical retriever was built twice")
	}
	if _, err := p.Retriever(t.Context(), retrieve.Dense); !errors.Is(err, retrieve.ErrNoVectors) {
		t.Errorf("dense without an embedder: %v; want ErrNoVectors", err)
	}
	hits, err := p.Search(t.Context(), retrieve.Query{Text: "how often do keys rotate", Mode: retrieve.Lexical})
	if err != nil || len(hits) != 1 || hits[0].DocPath != "a.md" {
		t.Fatalf("search: %+v, %v", hits, err)
	}
	runs, err := p.Store().IngestRuns(t.Context())
	if err != nil || len(runs) != 1 || runs[0].Documents != 1 {
		t.Errorf("ingest history: %+v, %v", runs, err)
	}
	bad := p.Config()
	bad.Retrieve.Mode = "lexcial"
	v := p.with(bad)
	defer v.Close()
	if _, err := v.EvalRetrieval(t.Context(), RetrievalEval{Dataset: &evaluate.Dataset{Name: "x"}}); err == nil || !strings.Contains(err.Error(), "lexcial") {
		t.Errorf("a mistyped mode must fail, not run lexical: %v", err)
	}
}

// TestOpenForEvalWithoutProject evaluates a public collection before any
// init: the run goes to the history in the cache, and what needs the
// project's own corpus says there is no store.
func TestOpenForEvalWithoutProject(t *testing.T) {
	cfg, env := newConfig(t.TempDir())
	p, err := OpenForEval(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Corpus(t.Context()); !errors.Is(err, ErrNoStore) {
		t.Errorf("corpus of a history-only project: %v; want ErrNoStore", err)
	}
	ds, err := evaluate.LoadBEIR("../../examples/scifact-mini", "test")
	if err != nil {
		t.Fatal(err)
	}
	run, err := p.EvalRetrieval(t.Context(), RetrievalEval{Dataset: ds, Depth: 100})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := evaluate.ListRecords(t.Context(), p.Store(), 10)
	if err != nil || len(recs) != 1 || recs[0].ID != run.RunID {
		t.Errorf("history: %+v, %v", recs, err)
	}
}

// TestRetrievalEvalEndToEnd indexes the mini collection into a real
// scratch index, evaluates lexical retrieval, checks the index is reused,
// and that the TREC run file re-scores to the same numbers.
func TestRetrievalEvalEndToEnd(t *testing.T) {
	p, _ := initProject(t)
	ds, err := evaluate.LoadBEIR("../../examples/scifact-mini", "test")
	if err != nil {
		t.Fatal(err)
	}
	run, err := p.EvalRetrieval(t.Context(), RetrievalEval{Dataset: ds, Depth: 100})
	if err != nil || run.Reused {
		t.Fatalf("first eval: reused=%v err=%v", run != nil && run.Reused, err)
	}
	res := run.Result
	// With 71 documents BM25 finds most relevant abstracts; a broken
	// pipeline (IDs, ranking, metric) lands far below this.
	if res.Queries != 12 || res.Metrics["ndcg@10"] < 0.5 || res.Metrics["recall@100"] < 0.9 {
		t.Fatalf("metrics %v over %d queries", res.Metrics, res.Queries)
	}
	again, err := p.EvalRetrieval(t.Context(), RetrievalEval{Dataset: ds, Depth: 100})
	if err != nil || !again.Reused || again.Result.Metrics["ndcg@10"] != res.Metrics["ndcg@10"] {
		t.Fatalf("second eval: %+v, %v", again, err)
	}
	raw, err := os.ReadFile(run.RunFile)
	if err != nil {
		t.Fatal(err)
	}
	reread := evaluate.Run{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[1] != "Q0" {
			t.Fatalf("bad TREC line %q", line)
		}
		var score float64
		if _, err := fmt.Sscan(f[4], &score); err != nil {
			t.Fatal(err)
		}
		reread[f[0]] = append(reread[f[0]], evaluate.Scored{DocID: f[2], Score: score})
	}
	means, _ := evaluate.Evaluate(reread, ds.Qrels, evaluate.DefaultMetrics)
	for k, v := range res.Metrics {
		if d := means[k] - v; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s from run file %.6f, in memory %.6f", k, means[k], v)
		}
	}
	var buf bytes.Buffer
	if err := evaluate.WriteTREC(&buf, res.Run, "ragtune-lexical"); err != nil || buf.String() != string(raw) {
		t.Errorf("the run file is not the run: %v", err)
	}
}

// TestWarnsOnUnknownGold answers a QA set whose gold IDs name documents
// the store does not hold: the eval runs and says so in the log.
func TestWarnsOnUnknownGold(t *testing.T) {
	dir := t.TempDir()
	cfg, env := newConfig(dir)
	var logged bytes.Buffer
	env.Log = slog.New(slog.NewTextHandler(&logged, nil))
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("# Keys\n\nSigning keys rotate every ninety days.\n"), 0o644)
	if _, err := p.Ingest(t.Context(), IngestRequest{Roots: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	items := []evaluate.QAItem{{ID: "1", Question: "How often do keys rotate?", Answers: []string{"every ninety days"}, GoldDocIDs: []string{"docs/a.md"}}}
	run, err := p.EvalQA(t.Context(), QAEval{Items: items, Path: "qa.jsonl"})
	if err != nil || run.Result.Items != 1 {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "gold_doc_ids that match no stored document") || !strings.Contains(logged.String(), "first=docs/a.md") {
		t.Errorf("no warning for an unknown gold ID; log: %q", logged.String())
	}
}

// TestCheckCutShortIsAnInterruption: a signal that lands after the writes,
// during the store check, reports an interrupted ingest, never damage.
func TestCheckCutShortIsAnInterruption(t *testing.T) {
	p, dir := initProject(t)
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("# A\n\nSome text about key rotation schedules.\n"), 0o644)
	if _, err := p.Ingest(t.Context(), IngestRequest{Roots: []string{filepath.Join(dir, "a.md")}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := p.checkAfterWrite(ctx)
	if !errors.Is(err, ingest.ErrInterrupted) || errors.Is(err, ErrDamaged) {
		t.Fatalf("check with a cancelled context: %v", err)
	}
	if err := p.checkAfterWrite(t.Context()); err != nil {
		t.Fatalf("check: %v", err)
	}
}
