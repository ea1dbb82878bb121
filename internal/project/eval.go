package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// Progress makes the progress report of one stage of long work ("indexing
// scifact"); nil, or a nil function it returns, reports nothing.
type Progress func(stage string) func(done, total int)

func (pr Progress) stage(name string) func(done, total int) {
	if pr == nil {
		return nil
	}
	return pr(name)
}

// later is the progress report of a stage that begins when it first
// reports, so that the stage before it runs to its end; its calls must
// not overlap.
func (pr Progress) later(name string) func(done, total int) {
	if pr == nil {
		return nil
	}
	var report func(done, total int)
	return func(done, total int) {
		if report == nil {
			if report = pr(name); report == nil {
				report = func(int, int) {}
			}
		}
		report(done, total)
	}
}

// OpenForEval opens the project when it has a store, and otherwise a
// project over the evaluation history in the user cache directory, so
// that evals of public test collections work before any `ragtune init`.
// Such a project has no corpus of its own: what needs one fails with
// ErrNoStore.
func OpenForEval(ctx context.Context, cfg config.Config, env Env) (*Project, error) {
	p, err := Open(ctx, cfg, env)
	if !errors.Is(err, store.ErrNotFound) {
		return p, err
	}
	st, err := store.Create(ctx, CacheDir(env.getenv, filepath.Join("eval", "history")))
	if err != nil {
		return nil, err
	}
	p = newProject(cfg, env, st)
	p.noCorpus = fmt.Errorf("%w at %s", ErrNoStore, cfg.StoreDir())
	return p, nil
}

// with is a view of p under other settings: same store and environment,
// its own corpus handle and retrievers, p's embedder when the embedding
// settings are the same. Closing it leaves p's store open.
func (p *Project) with(cfg config.Config) *Project {
	v := newProject(cfg, p.env, p.store)
	v.borrowed, v.noCorpus = true, p.noCorpus
	p.mu.Lock()
	if reflect.DeepEqual(cfg.Embed, p.cfg.Embed) {
		v.embedder, v.embedLoad = p.embedder, p.embedLoad
	}
	v.tokenizer = p.tokenizer
	p.mu.Unlock()
	return v
}

// SaveRecord stores an eval run in the project's history.
func (p *Project) SaveRecord(ctx context.Context, r evaluate.Record) error {
	return evaluate.SaveRecord(ctx, p.store, r)
}

// RetrievalEval is an eval of retrieval on a BEIR collection.
type RetrievalEval struct {
	Dataset  *evaluate.Dataset
	Split    string // recorded with the run
	Depth    int    // documents ranked per query
	RunFile  string // where the TREC run goes; "" for the cache directory
	Progress Progress
}

// RetrievalRun is one evaluated retrieval configuration.
type RetrievalRun struct {
	Result       *evaluate.RetrievalResult
	RunID        string
	RunFile      string
	PerQueryFile string
	Reused       bool // the index was reused
	Indexed      time.Duration
	Elapsed      time.Duration
	Chunking     chunk.Options
}

// EvalRetrieval indexes the collection (or reuses its index), runs its
// queries with the project's settings, writes the TREC run and the
// per-query file, and stores the record.
func (p *Project) EvalRetrieval(ctx context.Context, req RetrievalEval) (*RetrievalRun, error) {
	began := time.Now()
	mode, err := p.cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, err
	}
	ds := req.Dataset
	s, err := p.OpenScratch(ctx, ScratchRequest{Dataset: ds, Mode: mode, Progress: req.Progress.stage("indexing " + ds.Name)})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	indexed := time.Since(began)
	r, err := s.Retriever(ctx, mode)
	if err != nil {
		return nil, err
	}
	res, err := evaluate.EvaluateRetrieval(ctx, ds, r,
		evaluate.RetrievalOptions{Mode: mode, Depth: req.Depth, Progress: req.Progress.stage("querying " + ds.Name)})
	if err != nil {
		return nil, err
	}
	id := evaluate.NewRecordID(began)
	run := &RetrievalRun{Result: res, RunID: id, RunFile: req.RunFile, Reused: s.Reused, Indexed: indexed, Chunking: p.cfg.Chunk}
	if run.RunFile == "" {
		run.RunFile = filepath.Join(p.cacheDir("eval"), "runs", fmt.Sprintf("%s-%s-%s.trec", ds.Name, mode, id))
	}
	if err := evaluate.WriteFile(run.RunFile, func(w io.Writer) error { return evaluate.WriteTREC(w, res.Run, "ragtune-"+string(mode)) }); err != nil {
		return nil, err
	}
	run.PerQueryFile = strings.TrimSuffix(run.RunFile, ".trec") + ".queries.jsonl"
	if err := evaluate.WriteFile(run.PerQueryFile, func(w io.Writer) error { return evaluate.WritePerQuery(w, ds, res) }); err != nil {
		return nil, err
	}
	err = p.SaveRecord(ctx, evaluate.Record{ID: id, CreatedAt: began, Kind: "retrieval",
		Dataset: ds.Name, CorpusHash: ds.Hash, Metrics: res.Metrics, PerQuery: res.PerQuery, RunFile: run.RunFile,
		Config: p.runConfig(mode, map[string]any{"depth": req.Depth, "split": req.Split, "query_embedder": embedderID(r)})})
	if err != nil {
		return nil, err
	}
	run.Elapsed = time.Since(began)
	return run, nil
}

// QAEval is an eval of answers on a QA set.
type QAEval struct {
	Items []evaluate.QAItem
	Path  string // the QA file, recorded with the run
	// Corpus, when set, is a BEIR directory to answer from (indexed like
	// a retrieval eval) instead of the project's corpus.
	Corpus string
	Split  string
	Limit  int    // recorded with the run
	Arm    string // set by EvalArms
	Model  string // answer with this chat model ("" for the configured answerer)
	// AcceptedOnly records that only reviewed, accepted items were used.
	AcceptedOnly bool
	// JudgeModel grades the answers with this chat model ("" for
	// judge.model; no judging when both are empty).
	JudgeModel string
	Progress   Progress
}

// QARun is one evaluated QA configuration.
type QARun struct {
	Result       *evaluate.QAResult
	Metrics      map[string]float64 // every figure, flat, as gates name them
	PerQueryFile string
	RunID        string
	Dataset      string
	Generator    string
}

// EvalQA answers the items with the project's settings against its
// corpus (or req.Corpus) and stores the record. A closed-book arm asks
// the model without the passages, which are still retrieved so that
// retrieval figures stay comparable.
func (p *Project) EvalQA(ctx context.Context, req QAEval) (*QARun, error) {
	began := time.Now()
	mode, err := p.cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, err
	}
	src, dataset, corpusHash, err := p.qaSource(ctx, req, mode)
	if err != nil {
		return nil, err
	}
	if src != p {
		defer src.Close()
	}
	retriever, err := src.Retriever(ctx, mode)
	if err != nil {
		return nil, err
	}
	if err := src.warnUnknownGold(ctx, req.Items); err != nil {
		return nil, err
	}
	gen, err := src.Generator(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	grader, err := p.Judge(req.JudgeModel)
	if err != nil {
		return nil, err
	}
	closedBook := req.Arm == evaluate.ArmBase || req.Arm == evaluate.ArmTuned
	generate := func(ctx context.Context, q string, hits []retrieve.Hit) (answer.Result, error) {
		return answer.Answer(ctx, gen, answer.Request{Question: q, Hits: hits, ClosedBook: closedBook})
	}
	opts := evaluate.QAOptions{Mode: mode, K: p.cfg.Retrieve.K, Progress: req.Progress.stage("answering"), ClosedBook: closedBook}
	extra := map[string]any{"qa_file": req.Path, "limit": req.Limit, "generator": gen.ID()}
	if grader != nil {
		opts.Judge, opts.JudgeProgress = grader, req.Progress.later("judging")
		// What the judged figures depend on, so that diff names a change
		// of judge, prompts or rubric.
		extra["judge_model"], extra["judge_prompt_version"] = grader.Model(), judge.PromptVersion
		extra["judge_rubric_sha256"], extra["judge_max_items"] = grader.Rubric().Hash(), grader.MaxItems()
	}
	res, err := evaluate.EvaluateQA(ctx, req.Items, retriever, generate, opts)
	if err != nil {
		return nil, err
	}
	run := &QARun{Result: res, Metrics: res.Flat(), Dataset: dataset, Generator: gen.ID(), RunID: evaluate.NewRecordID(began)}
	run.PerQueryFile = filepath.Join(p.cacheDir("eval"), "runs", fmt.Sprintf("%s-qa-%s.jsonl", dataset, run.RunID))
	if err := evaluate.WriteFile(run.PerQueryFile, func(w io.Writer) error { return evaluate.WritePerItem(w, res) }); err != nil {
		return nil, err
	}
	if req.Arm != "" {
		extra["arm"] = req.Arm
	}
	if req.AcceptedOnly {
		extra["accepted_only"] = true
	}
	err = p.SaveRecord(ctx, evaluate.Record{ID: run.RunID, CreatedAt: began, Kind: "qa", RunFile: run.PerQueryFile,
		Dataset: dataset, CorpusHash: corpusHash, Metrics: run.Metrics, PerQuery: res.PerQueryScores(),
		Config: p.runConfig(mode, extra)})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// qaSource is the project questions are answered from: a scratch index
// of req.Corpus, or p itself.
func (p *Project) qaSource(ctx context.Context, req QAEval, mode retrieve.Mode) (*Project, string, string, error) {
	if req.Corpus == "" {
		return p, p.cfg.StoreDir(), "store:" + p.cfg.StoreDir(), nil
	}
	ds, err := evaluate.LoadBEIR(req.Corpus, req.Split)
	if err != nil {
		return nil, "", "", err
	}
	s, err := p.OpenScratch(ctx, ScratchRequest{Dataset: ds, Mode: mode, Progress: req.Progress.stage("indexing " + ds.Name)})
	if err != nil {
		return nil, "", "", err
	}
	return s.Project, ds.Name, ds.Hash, nil
}

// runConfig records the settings a run depends on, flat, so diff can
// name what changed.
func (p *Project) runConfig(mode retrieve.Mode, extra map[string]any) map[string]any {
	cfg := p.cfg
	c := map[string]any{"mode": string(mode), "k": cfg.Retrieve.K, "chunk_strategy": string(cfg.Chunk.Strategy),
		"chunk_size": cfg.Chunk.Size, "chunk_overlap": cfg.Chunk.Overlap, "min_coverage": cfg.Answer.MinCoverage,
		"min_support": cfg.Answer.MinSupport, "max_sentences": cfg.Answer.MaxSentences}
	if cfg.Rerank.Provider != "" && cfg.Rerank.Provider != "none" {
		c["rerank"] = cfg.Rerank.Provider + ":" + cfg.Rerank.Model
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// embedderID names the query embedder a retriever uses ("" for none), so
// a run made through a trained query adapter says so in its settings.
func embedderID(r *retrieve.Retriever) string {
	if r.Embedder == nil {
		return ""
	}
	return r.Embedder.ID()
}

// warnUnknownGold logs when questions name gold documents the corpus does
// not hold: they would score 0 on gold_doc@k and citation recall, which
// looks like bad retrieval but is a wrong ID.
func (p *Project) warnUnknownGold(ctx context.Context, items []evaluate.QAItem) error {
	c, err := p.Corpus(ctx)
	if err != nil {
		return err
	}
	docs, err := c.Documents(ctx, "")
	if err != nil {
		return err
	}
	stored := make(map[string]bool, len(docs))
	for _, d := range docs {
		stored[d.Path] = true
	}
	missing, first := 0, ""
	for _, it := range items {
		for _, g := range it.GoldDocIDs {
			if !stored[g] {
				missing++
				if first == "" {
					first = g
				}
			}
		}
	}
	if missing > 0 {
		p.env.log().Warn("gold_doc_ids that match no stored document (a gold ID is the document's path as the store keeps it)",
			"missing", missing, "first", first, "documents", len(docs))
	}
	return nil
}

// WriteText writes the run for a person: the metrics, latency, run file
// and ID, and the gates it failed.
func (run *RetrievalRun) WriteText(w io.Writer, failed []string) {
	res := run.Result
	how := "indexed"
	if run.Reused {
		how = "reused index"
	}
	fmt.Fprintf(w, "%s: %d queries, mode %s (%s in %.1fs, total %.1fs)\n\n", res.Dataset, res.Queries, res.Mode, how, run.Indexed.Seconds(), run.Elapsed.Seconds())
	for _, k := range evaluate.MetricNames(res.Metrics) {
		fmt.Fprintf(w, "  %-12s %.4f\n", k, res.Metrics[k])
	}
	fmt.Fprintf(w, "\n  latency p50 %.1f ms, p95 %.1f ms\n  run file %s\n", res.LatencyMS.P50, res.LatencyMS.P95, run.RunFile)
	for _, f := range failed {
		fmt.Fprintf(w, "  GATE FAILED %s\n", f)
	}
	fmt.Fprintf(w, "  run id %s (ragtune eval history)\n", run.RunID)
}
