package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) evalArmsCommand() *cobra.Command {
	var baseModel, tunedModel, against, corpus, split, mode, reportDir, judgeModel string
	var limit int
	cmd := &cobra.Command{
		Use:   "arms QA.jsonl",
		Short: "Compare base model, base + RAG, fine-tuned, fine-tuned + RAG on one QA set",
		Long: `arms answers the same QA test set four ways and puts the results in one
table: the base model alone, the base model with retrieved passages (RAG),
the fine-tuned model alone, and the fine-tuned model with passages
(hybrid). It reports accuracy (EM, F1, contains), faithfulness and
citation precision (RAG arms only: without passages there is nothing to
be faithful to), abstention, behaviour-check pass rate (the "expect"
field), latency, tokens and cost per request, and with a judge model
([judge] model or --judge-model) the judged correctness, faithfulness and
rubric pass rate of every arm.

Each arm's contains comes with its 95% bootstrap interval, and every arm
is tested against base+rag (--against to pick another arm) per question
on contains: a paired randomisation test, p Holm-adjusted over the arms;
a difference that is not significant at 0.05 is marked n.s.

Models come from [generate.openai]: --base-model (default: its model) and
--tuned-model (default: the newest succeeded job of 'ragtune tune'). An
arm whose model is not configured is reported as skipped, never guessed.
Without any chat endpoint, base+rag runs with the built-in answerer.
Each arm that runs is stored as an eval run, for 'eval diff' and
'advise --from-eval'.`,
		Example: `  ragtune eval arms support-qa.jsonl
  ragtune eval arms qa.jsonl --base-model gpt-4o-mini-2024-07-18 --tuned-model ft:gpt-4o-mini:acme:support:abc --report arms/`,
		Args: exactArgs(1, "one QA .jsonl file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := mustExist(args[0], corpus); err != nil {
				return err
			}
			if !slices.Contains(evaluate.Arms, against) {
				return usagef("--against must be one of %s", strings.Join(evaluate.Arms, ", "))
			}
			cfg, err := a.configWithMode(cmd, mode)
			if err != nil {
				return err
			}
			items, err := evaluate.LoadQA(args[0])
			if err != nil {
				return usageError{err}
			}
			items = evaluate.Spread(items, limit)
			p, err := a.openForEval(cmd, cfg)
			if err != nil {
				return err
			}
			defer p.Close()
			began := time.Now()
			progress, done := a.progress()
			results, err := p.EvalArms(cmd.Context(), project.ArmsEval{BaseModel: baseModel, TunedModel: tunedModel, Against: against,
				QA: project.QAEval{Items: items, Path: args[0], Corpus: corpus, Split: split, Limit: limit, Progress: progress, JudgeModel: judgeModel}})
			done()
			if err != nil {
				return a.noStoreHint(err, cfg)
			}
			if reportDir != "" {
				if err := evaluate.WriteReports(reportDir, map[string]func(io.Writer) error{
					"arms.md": func(w io.Writer) error { return evaluate.WriteArmsTable(w, results, true) },
				}); err != nil {
					return err
				}
			}
			m, _ := cfg.Retrieve.ModeValue() // validated by configWithMode
			if a.jsonOut {
				return a.printJSON(map[string]any{"qa_file": args[0], "questions": len(items), "mode": m, "k": cfg.Retrieve.K,
					"arms": results, "seconds": time.Since(began).Seconds(), "report_dir": reportDir})
			}
			fmt.Fprintf(a.stdout, "%s: %d questions, mode %s, k=%d (%.1fs)\n\n", args[0], len(items), m, cfg.Retrieve.K, time.Since(began).Seconds())
			return evaluate.WriteArmsTable(a.stdout, results, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&baseModel, "base-model", "", "base chat model (default: [generate.openai] model)")
	f.StringVar(&tunedModel, "tuned-model", "", "fine-tuned chat model (default: the newest succeeded fine-tuning job)")
	f.StringVar(&against, "against", evaluate.ArmBaseRAG, "the arm the others are tested against")
	f.StringVar(&corpus, "corpus", "", "answer against this BEIR corpus instead of the current store")
	f.StringVar(&split, "split", "test", "qrels split of --corpus")
	f.StringVar(&mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	f.StringVar(&judgeModel, "judge-model", "", "grade every arm's answers with this chat model (default [judge] model)")
	f.StringVar(&reportDir, "report", "", "also write the table as arms.md into this directory")
	f.IntVar(&limit, "limit", 0, "evaluate about this many questions, spread evenly over the file")
	return cmd
}
