package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// qaRun is one evaluated QA configuration.
type qaRun struct {
	res      *evaluate.QAResult
	metrics  map[string]float64
	perQuery string
	runID    string
	dataset  string
	gen      string
}

// runQA answers items with cfg's settings against the store (or corpus)
// and stores the record.
func (a *app) runQA(cmd *cobra.Command, cfg config.Config, items []evaluate.QAItem, path, corpus, split string, mode retrieve.Mode, limit int) (*qaRun, error) {
	return a.runQAArm(cmd, cfg, items, path, corpus, split, mode, limit, "")
}

// runQAArm is runQA for one arm of `eval arms`: a closed-book arm
// ("base", "fine-tuned") asks the model without the retrieved passages,
// which are still retrieved so that retrieval figures stay comparable.
func (a *app) runQAArm(cmd *cobra.Command, cfg config.Config, items []evaluate.QAItem, path, corpus, split string, mode retrieve.Mode, limit int, arm string) (*qaRun, error) {
	closedBook := arm == armBase || arm == armTuned
	began := time.Now()
	st, dataset, corpusHash, err := a.qaStore(cmd, cfg, corpus, split, mode)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	retriever, err := a.retriever(cmd.Context(), cfg, st, mode)
	if err != nil {
		return nil, err
	}
	gen, err := a.generator(cfg, st)
	if err != nil {
		return nil, err
	}
	generate := func(ctx context.Context, q string, hits []retrieve.Hit) (answer.Result, error) {
		return answer.Answer(ctx, gen, answer.Request{Question: q, Hits: hits, ClosedBook: closedBook})
	}
	bar := a.bar("answering")
	res, err := evaluate.EvaluateQA(cmd.Context(), items, retriever, generate,
		evaluate.QAOptions{Mode: mode, K: cfg.Retrieve.K, Progress: bar.update})
	bar.done()
	if err != nil {
		return nil, err
	}
	flat := flattenQA(res)
	id := evaluate.NewRecordID(began)
	extra := map[string]any{"qa_file": path, "limit": limit, "generator": gen.ID()}
	if arm != "" {
		extra["arm"] = arm
	}
	perQuery := filepath.Join(a.cacheDir("eval"), "runs", fmt.Sprintf("%s-qa-%s.jsonl", dataset, id))
	if err := writeFile(perQuery, func(w io.Writer) error { return evaluate.WritePerItem(w, res) }); err != nil {
		return nil, err
	}
	runID, err := a.saveRecord(cmd, cfg, evaluate.Record{ID: id, CreatedAt: began, Kind: "qa", RunFile: perQuery,
		Dataset: dataset, CorpusHash: corpusHash, Metrics: flat, PerQuery: res.PerQueryScores(),
		Config: runConfig(cfg, mode, extra)})
	if err != nil {
		return nil, err
	}
	return &qaRun{res: res, metrics: flat, runID: runID, dataset: dataset, gen: gen.ID(), perQuery: perQuery}, nil
}

func (a *app) evalQA(cmd *cobra.Command, cfg config.Config, path, corpus, split string, mode retrieve.Mode, limit int, gates map[string]float64, reportDir string) error {
	began := time.Now()
	items, err := evaluate.LoadQA(path)
	if err != nil {
		return err
	}
	run, err := a.runQA(cmd, cfg, spread(items, limit), path, corpus, split, mode, limit)
	if err != nil {
		return err
	}
	res, flat, runID, dataset := run.res, run.metrics, run.runID, run.dataset
	if reportDir != "" {
		title := fmt.Sprintf("ragtune eval run: %s, %s, k=%d, run %s", dataset, mode, cfg.Retrieve.K, runID)
		if err := writeRunReport(reportDir, evaluate.QAReport(title, res, flat)); err != nil {
			return err
		}
	}
	failed := checkGates(flat, gates)
	if a.jsonOut {
		if err := a.printJSON(map[string]any{"run_id": runID, "dataset": dataset, "queries": res.Items, "mode": res.Mode, "k": cfg.Retrieve.K,
			"metrics": res.Retrieval, "answer": res.Answer, "latency_ms": res.LatencyMS, "generator": run.gen, "per_query_file": run.perQuery,
			"seconds": time.Since(began).Seconds(), "gates_failed": failed}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "%s: %d questions, mode %s, k=%d, answerer %s (%.1fs)\n\n", dataset, res.Items, res.Mode, cfg.Retrieve.K, run.gen, time.Since(began).Seconds())
		names := make([]string, 0, len(flat))
		for k := range flat {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(a.stdout, "  %-22s %.4f\n", k, flat[k])
		}
		fmt.Fprintf(a.stdout, "\n  latency p50 %.1f ms, p95 %.1f ms\n", res.LatencyMS.P50, res.LatencyMS.P95)
		for _, f := range failed {
			fmt.Fprintf(a.stdout, "  GATE FAILED %s\n", f)
		}
		fmt.Fprintf(a.stdout, "  run id %s (ragtune eval history)\n", runID)
	}
	if len(failed) > 0 {
		return exitError{exitGate, fmt.Errorf("quality gate failed: %v", failed)}
	}
	return nil
}

// qaStore opens the store questions are answered from: a scratch index
// of --corpus, or the project's store.
func (a *app) qaStore(cmd *cobra.Command, cfg config.Config, corpus, split string, mode retrieve.Mode) (*store.Store, string, string, error) {
	if corpus == "" {
		st, err := a.openStore(cmd, cfg)
		return st, cfg.StoreDir(), "store:" + cfg.StoreDir(), err
	}
	ds, err := evaluate.LoadBEIR(corpus, split)
	if err != nil {
		return nil, "", "", err
	}
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		return nil, "", "", err
	}
	e, err := a.vectorEmbedder(cmd.Context(), cfg, mode)
	if err != nil {
		return nil, "", "", err
	}
	bar := a.bar("indexing " + ds.Name)
	defer bar.done()
	st, _, err := evaluate.ScratchStore(cmd.Context(), a.cacheDir("eval"), ds, cfg.Chunk, tok, e, bar.update, a.scratchAttach(cfg))
	return st, ds.Name, ds.Hash, err
}

// spread keeps about n items evenly spaced through the file, so a quick
// run still samples every part of it.
func spread(items []evaluate.QAItem, n int) []evaluate.QAItem {
	if n <= 0 || n >= len(items) {
		return items
	}
	out := make([]evaluate.QAItem, 0, n)
	for i := range n {
		out = append(out, items[i*len(items)/n])
	}
	return out
}

// flattenQA gives every QA figure a gate-able name.
func flattenQA(r *evaluate.QAResult) map[string]float64 {
	m := map[string]float64{}
	for k, v := range r.Retrieval {
		m[k] = v
	}
	a := r.Answer
	for k, v := range map[string]float64{"em": a.EM, "f1": a.F1, "contains": a.Contains, "faithfulness": a.Faithfulness,
		"citation_precision": a.CitationPrecision, "citation_recall": a.CitationRecall, "abstain_rate": a.AbstainRate,
		"tokens_in": a.TokensIn, "tokens_out": a.TokensOut, "cost_usd": a.CostUSD} {
		m[k] = v
	}
	for k, v := range map[string]*float64{"abstention_precision": a.AbstentionPrecision, "abstention_recall": a.AbstentionRecall,
		"abstention_f1": a.AbstentionF1, "behaviour_pass": a.BehaviourPass} {
		if v != nil {
			m[k] = *v
		}
	}
	return m
}
