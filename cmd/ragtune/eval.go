package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
)

func (a *app) evalCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure retrieval and answers on a labelled test set",
		Long: `eval measures instead of guessing. It runs a test set through retrieval
(and, for QA sets, the answerer) and reports standard metrics, computed
with trec_eval's conventions so they compare with published numbers.`,
	}
	cmd.AddCommand(a.evalRunCommand(), a.evalCompareCommand(), a.evalHistoryCommand(), a.evalDiffCommand(), a.evalArmsCommand())
	return cmd
}

func (a *app) evalRunCommand() *cobra.Command {
	var (
		mode, split, runFile, failUnder, corpus, reportDir, model string
		depth, limit                                              int
	)
	cmd := &cobra.Command{
		Use:   "run DATASET",
		Short: "Score retrieval on a BEIR directory, or answers on a QA JSONL file",
		Long: `eval run indexes the corpus of a BEIR directory (corpus.jsonl[.gz],
queries.jsonl, qrels/test.tsv) into a scratch store, reused while the
corpus and chunking settings stay the same, runs every judged query and
reports nDCG@10, Recall@10/100, MRR@10, MAP@100 and P@10. Documents rank by
their best chunk. The run is written in TREC format so any standard tool
can re-score it.

A QA file (JSONL: {"id","question","answers":[...],"gold_doc_ids":[...],
"answerable":true|false,"expect":{"regex","max_words","required","banned"}})
is answered against the current store, or against --corpus (a BEIR
directory, indexed like above). It reports has_answer@k (a retrieved chunk
holds a gold answer), SQuAD exact match and token F1, contains, faithfulness,
citation precision and recall, abstention precision/recall/F1 (when the set
has unanswerable questions) and behaviour-check pass rate.

--fail-under makes the command a quality gate: it exits 3 when a metric
is below its threshold.`,
		Example: `  ragtune eval run ../shared/datasets/scifact
  ragtune eval run ./my-beir-set --json --fail-under ndcg@10=0.6,recall@100=0.9
  ragtune eval run qa.jsonl --fail-under contains=0.7,abstention_f1=0.8
  ragtune eval run squad/qa.jsonl --corpus squad --limit 500`,
		Args: exactArgs(1, "one dataset directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.configWithMode(cmd, mode)
			if err != nil {
				return err
			}
			if model != "" {
				cfg.Generate.Provider, cfg.Generate.OpenAI.Model = "openai", model
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			gates, err := parseGates(failUnder)
			if err != nil {
				return usageError{err}
			}
			m, _ := retrieve.ParseMode(cfg.Retrieve.Mode)
			if strings.HasSuffix(args[0], ".jsonl") {
				return a.evalQA(cmd, cfg, args[0], corpus, split, m, limit, gates, reportDir)
			}
			if !evaluate.IsBEIR(args[0]) {
				return usagef("%s is neither a BEIR directory (no queries.jsonl) nor a QA .jsonl file", args[0])
			}
			return a.evalBEIR(cmd, cfg, args[0], split, m, depth, runFile, gates, reportDir)
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	f.StringVar(&split, "split", "test", "qrels file to use: qrels/SPLIT.tsv")
	f.IntVar(&depth, "depth", 100, "chunks retrieved per query")
	f.StringVar(&runFile, "run-file", "", "where to write the TREC run (default under the user cache directory)")
	f.StringVar(&failUnder, "fail-under", "", "quality gates, e.g. ndcg@10=0.6,recall@100=0.9 (exit 3 if any fails)")
	f.StringVar(&corpus, "corpus", "", "QA sets: answer against this BEIR corpus instead of the current store")
	f.StringVar(&model, "model", "", "QA sets: answer with this chat model at [generate.openai] base_url (e.g. a fine-tuned one)")
	f.StringVar(&reportDir, "report", "", "write report.md and a self-contained report.html into this directory")
	f.IntVar(&limit, "limit", 0, "QA sets: evaluate about this many questions, spread evenly over the file")
	return cmd
}

// retrievalRun is one evaluated retrieval configuration.
type retrievalRun struct {
	res      *evaluate.RetrievalResult
	runID    string
	runFile  string
	perQuery string
	reused   bool
	indexed  time.Duration
	elapsed  time.Duration
	chunking chunk.Options
}

// runRetrieval indexes ds (or reuses its index), runs its queries with
// cfg's settings, writes the TREC run and stores the record.
func (a *app) runRetrieval(cmd *cobra.Command, cfg config.Config, ds *evaluate.Dataset, mode retrieve.Mode, depth int, split, runFile string) (*retrievalRun, error) {
	began := time.Now()
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		return nil, err
	}
	e, err := a.vectorEmbedder(cmd.Context(), cfg, mode)
	if err != nil {
		return nil, err
	}
	bar := a.bar("indexing " + ds.Name)
	st, reused, err := evaluate.ScratchStore(cmd.Context(), a.cacheDir("eval"), ds, cfg.Chunk, tok, e, bar.update, a.scratchAttach(cfg))
	bar.done()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	indexed := time.Since(began)
	st.QuantizeVectors(cfg.Retrieve.Quantize == "int8")
	if e, err = a.queryEmbedder(cmd.Context(), cfg, st, e); err != nil {
		return nil, err
	}
	bar = a.bar("querying " + ds.Name)
	res, err := evaluate.EvaluateRetrieval(cmd.Context(), ds, &retrieve.Retriever{Store: st, Embedder: e, Fusion: cfg.Retrieve.FusionSettings(), MMRLambda: cfg.Retrieve.MMRLambda},
		evaluate.RetrievalOptions{Mode: mode, Depth: depth, Progress: bar.update})
	bar.done()
	if err != nil {
		return nil, err
	}
	id := evaluate.NewRecordID(began)
	if runFile == "" {
		runFile = filepath.Join(a.cacheDir("eval"), "runs", fmt.Sprintf("%s-%s-%s.trec", ds.Name, mode, id))
	}
	if err := writeRunFile(runFile, res.Run, "ragtune-"+string(mode)); err != nil {
		return nil, err
	}
	perQuery := strings.TrimSuffix(runFile, ".trec") + ".queries.jsonl"
	if err := writeFile(perQuery, func(w io.Writer) error { return evaluate.WritePerQuery(w, ds, res) }); err != nil {
		return nil, err
	}
	_, err = a.saveRecord(cmd, cfg, evaluate.Record{ID: id, CreatedAt: began, Kind: "retrieval",
		Dataset: ds.Name, CorpusHash: ds.Hash, Metrics: res.Metrics, PerQuery: res.PerQuery, RunFile: runFile,
		Config: runConfig(cfg, mode, map[string]any{"depth": depth, "split": split, "query_embedder": embedderID(e)})})
	if err != nil {
		return nil, err
	}
	return &retrievalRun{res: res, runID: id, runFile: runFile, perQuery: perQuery, reused: reused, indexed: indexed, elapsed: time.Since(began), chunking: cfg.Chunk}, nil
}

func (a *app) evalBEIR(cmd *cobra.Command, cfg config.Config, dir, split string, mode retrieve.Mode, depth int,
	runFile string, gates map[string]float64, reportDir string) error {
	began := time.Now()
	ds, err := evaluate.LoadBEIR(dir, split)
	if err != nil {
		return err
	}
	run, err := a.runRetrieval(cmd, cfg, ds, mode, depth, split, runFile)
	if err != nil {
		return err
	}
	res := run.res
	if reportDir != "" {
		title := fmt.Sprintf("ragtune eval run: %s, %s, run %s", ds.Name, mode, run.runID)
		if err := writeRunReport(reportDir, evaluate.RetrievalReport(title, ds, res)); err != nil {
			return err
		}
	}
	failed := checkGates(res.Metrics, gates)
	if a.jsonOut {
		out := map[string]any{"run_id": run.runID, "dataset": res.Dataset, "queries": res.Queries, "mode": res.Mode, "metrics": res.Metrics,
			"run_file": run.runFile, "per_query_file": run.perQuery, "latency_ms": res.LatencyMS, "index_reused": run.reused,
			"index_seconds": run.indexed.Seconds(), "seconds": time.Since(began).Seconds(), "chunking": run.chunking, "gates_failed": failed, "report_dir": reportDir}
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		a.printRetrieval(res, run.runFile, run.reused, run.indexed, time.Since(began), failed)
		fmt.Fprintf(a.stdout, "  run id %s (ragtune eval history)\n", run.runID)
	}
	if len(failed) > 0 {
		return exitError{exitGate, fmt.Errorf("quality gate failed: %s", strings.Join(failed, "; "))}
	}
	return nil
}

func writeRunReport(dir string, r evaluate.RunReport) error {
	return writeReportFiles(dir, map[string]func(io.Writer) error{
		"report.md":   func(w io.Writer) error { return evaluate.WriteRunMarkdown(w, r) },
		"report.html": func(w io.Writer) error { return evaluate.WriteRunHTML(w, r) },
	})
}

// writeReportFiles creates dir and writes each named file with its writer.
func writeReportFiles(dir string, files map[string]func(io.Writer) error) error {
	for name, write := range files {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

func writeRunFile(path string, run evaluate.Run, tag string) error {
	return writeFile(path, func(w io.Writer) error { return evaluate.WriteTREC(w, run, tag) })
}

// writeFile creates path (and its directory) and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func (a *app) printRetrieval(res *evaluate.RetrievalResult, runFile string, reused bool, indexed, total time.Duration, failed []string) {
	how := "indexed"
	if reused {
		how = "reused index"
	}
	fmt.Fprintf(a.stdout, "%s: %d queries, mode %s (%s in %.1fs, total %.1fs)\n\n", res.Dataset, res.Queries, res.Mode, how, indexed.Seconds(), total.Seconds())
	names := make([]string, 0, len(res.Metrics))
	for k := range res.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(a.stdout, "  %-12s %.4f\n", k, res.Metrics[k])
	}
	fmt.Fprintf(a.stdout, "\n  latency p50 %.1f ms, p95 %.1f ms\n  run file %s\n", res.LatencyMS.P50, res.LatencyMS.P95, runFile)
	for _, f := range failed {
		fmt.Fprintf(a.stdout, "  GATE FAILED %s\n", f)
	}
}

// runConfig records the settings a run depends on, flat, so diff can
// name what changed.
func runConfig(cfg config.Config, mode retrieve.Mode, extra map[string]any) map[string]any {
	c := map[string]any{"mode": string(mode), "k": cfg.Retrieve.K, "chunk_strategy": string(cfg.Chunk.Strategy),
		"chunk_size": cfg.Chunk.Size, "chunk_overlap": cfg.Chunk.Overlap, "min_coverage": cfg.Answer.MinCoverage,
		"min_support": cfg.Answer.MinSupport, "max_sentences": cfg.Answer.MaxSentences}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// parseGates reads "ndcg@10=0.6,abstention_f1=0.8".
func parseGates(s string) (map[string]float64, error) {
	gates := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("--fail-under %q: want METRIC=VALUE, e.g. ndcg@10=0.6", part)
		}
		gates[strings.ToLower(strings.TrimSpace(name))] = x
	}
	return gates, nil
}

// checkGates lists the gates a result fails; a gate on a metric the run
// did not measure fails too, so a typo cannot pass silently.
func checkGates(metrics map[string]float64, gates map[string]float64) []string {
	var failed []string
	for name, min := range gates {
		v, ok := metrics[name]
		switch {
		case !ok:
			failed = append(failed, fmt.Sprintf("%s was not measured", name))
		case v < min:
			failed = append(failed, fmt.Sprintf("%s = %.4f < %.4f", name, v, min))
		}
	}
	sort.Strings(failed)
	return failed
}

// progress wraps a progress bar that exists only on a terminal.
type progress struct{ bar *progressbar.ProgressBar }

func (a *app) bar(what string) *progress {
	if !a.interactive() {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))}
}

func (p *progress) update(done, total int) {
	if p.bar != nil {
		p.bar.ChangeMax(total)
		p.bar.Set(done)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
