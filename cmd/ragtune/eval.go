package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/progress"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) evalCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "eval",
		Short: "Measure retrieval and answers on a labelled test set",
		Long: `eval measures instead of guessing. It runs a test set through retrieval
(and, for QA sets, the answerer) and reports standard metrics, computed
with trec_eval's conventions so they compare with published numbers.`,
	})
	cmd.AddCommand(a.evalRunCommand(), a.evalCompareCommand(), a.evalHistoryCommand(), a.evalDiffCommand(), a.evalArmsCommand(),
		a.evalGenerateCommand(), a.evalReviewCommand(), a.evalFeedbackCommand())
	return cmd
}

func (a *app) evalRunCommand() *cobra.Command {
	var (
		mode, split, runFile, failUnder, corpus, reportDir, model, judgeModel string
		depth, limit                                                          int
		acceptedOnly                                                          bool
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
has unanswerable questions) and behaviour-check pass rate. With a judge
model ([judge] model, or --judge-model) a chat model also grades the
answers: judge_correctness, judge_faithfulness, judge_rubric_pass, and how
often it agrees with contains, F1 and faithfulness (docs/evaluation.md).

Generated items a reviewer rejected (ragtune eval review) are skipped;
--accepted-only keeps only accepted and hand-written ones.

--fail-under makes the command a quality gate: it exits 3 when a metric
is below its threshold.`,
		Example: `  ragtune eval run ../shared/datasets/scifact
  ragtune eval run ./my-beir-set --json --fail-under ndcg@10=0.6,recall@100=0.9
  ragtune eval run qa.jsonl --fail-under contains=0.7,abstention_f1=0.8
  ragtune eval run squad/qa.jsonl --corpus squad --limit 500
  ragtune eval run qa.jsonl --judge-model gpt-4o-mini --fail-under judge_correctness=0.7`,
		Args: exactArgs(1, "one dataset directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := mustExist(args[0], corpus); err != nil {
				return err
			}
			cfg, err := a.configWithMode(cmd, mode)
			if err != nil {
				return err
			}
			if model != "" {
				cfg.Generate.Provider, cfg.Generate.OpenAI.Model = "openai", model
			}
			kind := "retrieval"
			if strings.HasSuffix(args[0], ".jsonl") {
				kind = "qa"
			}
			if judgeModel != "" && kind != "qa" {
				return usagef("--judge-model grades answers: it needs a QA .jsonl file, not a BEIR directory")
			}
			gates, err := evaluate.ParseGates(failUnder)
			if err == nil {
				err = gates.CheckNames(kind)
			}
			if err != nil {
				return usageError{err}
			}
			p, err := a.openForEval(cmd, cfg)
			if err != nil {
				return err
			}
			defer p.Close()
			out := evalOutput{gates: gates, reportDir: reportDir}
			if kind == "qa" {
				return a.evalQA(cmd, p, project.QAEval{Path: args[0], Corpus: corpus, Split: split, Limit: limit, AcceptedOnly: acceptedOnly, JudgeModel: judgeModel}, out)
			}
			if !evaluate.IsBEIR(args[0]) {
				return usagef("%s is neither a BEIR directory (no queries.jsonl) nor a QA .jsonl file", args[0])
			}
			ds, err := evaluate.LoadBEIR(args[0], split)
			if err != nil {
				return err
			}
			return a.evalBEIR(cmd, p, project.RetrievalEval{Dataset: ds, Split: split, Depth: depth, RunFile: runFile}, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	f.StringVar(&split, "split", "test", "qrels file to use: qrels/SPLIT.tsv")
	f.IntVar(&depth, "depth", 100, "documents ranked per query (chunks are fetched until this many documents are seen)")
	f.StringVar(&runFile, "run-file", "", "where to write the TREC run (default under the user cache directory)")
	f.StringVar(&failUnder, "fail-under", "", "quality gates, e.g. ndcg@10=0.6,recall@100=0.9 (exit 3 if any fails)")
	f.StringVar(&corpus, "corpus", "", "QA sets: answer against this BEIR corpus instead of the current store")
	f.StringVar(&model, "model", "", "QA sets: answer with this chat model at [generate.openai] base_url (e.g. a fine-tuned one)")
	f.StringVar(&judgeModel, "judge-model", "", "QA sets: grade the answers with this chat model (default [judge] model; endpoint [judge] base_url or [generate.openai]'s)")
	f.StringVar(&reportDir, "report", "", "write report.md and a self-contained report.html into this directory")
	f.IntVar(&limit, "limit", 0, "QA sets: evaluate about this many questions, spread evenly over the file")
	f.BoolVar(&acceptedOnly, "accepted-only", false, "QA sets: only items a person accepted (ragtune eval review); rejected items are always skipped")
	return cmd
}

// evalOutput is what eval run does with a result besides printing it.
type evalOutput struct {
	gates     evaluate.Gates
	reportDir string
}

func (a *app) evalBEIR(cmd *cobra.Command, p *project.Project, req project.RetrievalEval, out evalOutput) error {
	progress, done := a.progress()
	req.Progress = progress
	run, err := p.EvalRetrieval(cmd.Context(), req)
	done()
	if err != nil {
		return a.noStoreHint(err, p.Config())
	}
	res := run.Result
	if out.reportDir != "" {
		title := fmt.Sprintf("ragtune eval run: %s, %s, run %s", req.Dataset.Name, res.Mode, run.RunID)
		if err := evaluate.WriteRunReport(out.reportDir, evaluate.RetrievalReport(title, req.Dataset, res)); err != nil {
			return err
		}
		a.wroteReport(out.reportDir)
	}
	failed := out.gates.Check(res.Metrics)
	if a.jsonOut {
		if err := a.printJSON(map[string]any{"run_id": run.RunID, "dataset": res.Dataset, "queries": res.Queries, "mode": res.Mode, "metrics": res.Metrics,
			"run_file": run.RunFile, "per_query_file": run.PerQueryFile, "latency_ms": res.LatencyMS, "index_reused": run.Reused,
			"index_seconds": run.Indexed.Seconds(), "seconds": run.Elapsed.Seconds(), "chunking": run.Chunking, "gates_failed": failed,
			"report_dir": out.reportDir}); err != nil {
			return err
		}
	} else {
		run.WriteText(a.stdout, failed)
	}
	return gateResult(failed)
}

// wroteReport says where a report went (stderr, so --json stays clean).
func (a *app) wroteReport(dir string) {
	if !a.jsonOut {
		fmt.Fprintf(a.stderr, "report: %s and %s\n", filepath.Join(dir, "report.html"), filepath.Join(dir, "report.md"))
	}
}

func gateResult(failed []string) error {
	if len(failed) > 0 {
		return exitError{exitGate, fmt.Errorf("quality gate failed: %s", strings.Join(failed, "; "))}
	}
	return nil
}

// progress reports library work one stage at a time: bars on a
// terminal, elsewhere a log line on stderr every 15 s (--quiet: nothing).
// The returned function ends the last stage.
func (a *app) progress() (project.Progress, func()) {
	var o progress.Options
	switch {
	case a.quiet:
	case a.interactive():
		o.Terminal = a.stderr
	default:
		o.Log = slog.New(slog.NewTextHandler(a.stderr, nil))
	}
	s := progress.New(o)
	return s.Stage, s.Done
}
