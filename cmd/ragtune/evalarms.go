package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// The four arms of a fine-tune-or-RAG comparison.
const (
	armBase     = "base"
	armBaseRAG  = "base+rag"
	armTuned    = "fine-tuned"
	armTunedRAG = "fine-tuned+rag"
)

// armResult is one arm's outcome; Skipped says why an arm did not run.
type armResult struct {
	Arm       string            `json:"arm"`
	RAG       bool              `json:"rag"`
	Model     string            `json:"model,omitempty"`
	Generator string            `json:"generator,omitempty"`
	Skipped   string            `json:"skipped,omitempty"`
	RunID     string            `json:"run_id,omitempty"`
	Answer    map[string]any    `json:"answer,omitempty"`
	LatencyMS *evaluate.Latency `json:"latency_ms,omitempty"`
}

func (a *app) evalArmsCommand() *cobra.Command {
	var baseModel, tunedModel, corpus, split, mode, reportDir string
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
field), latency, tokens and cost per request.

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
			cfg, err := a.configWithMode(cmd, mode)
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			items, err := evaluate.LoadQA(args[0])
			if err != nil {
				return usageError{err}
			}
			items = spread(items, limit)
			if tunedModel == "" {
				if tunedModel, err = a.newestTunedModel(cmd, cfg); err != nil {
					return err
				}
			}
			if baseModel == "" {
				baseModel = cfg.Generate.OpenAI.Model
			}
			m, _ := retrieve.ParseMode(cfg.Retrieve.Mode)
			began := time.Now()
			var results []armResult
			for _, arm := range []string{armBase, armBaseRAG, armTuned, armTunedRAG} {
				r, err := a.runArm(cmd, cfg, items, args[0], corpus, split, m, limit, arm, baseModel, tunedModel)
				if err != nil {
					return fmt.Errorf("arm %s: %w", arm, err)
				}
				results = append(results, r)
			}
			if reportDir != "" {
				if err := writeReportFiles(reportDir, map[string]func(io.Writer) error{
					"arms.md": func(w io.Writer) error { return writeArmsTable(w, results, true) },
				}); err != nil {
					return err
				}
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"qa_file": args[0], "questions": len(items), "mode": m, "k": cfg.Retrieve.K,
					"arms": results, "seconds": time.Since(began).Seconds(), "report_dir": reportDir})
			}
			fmt.Fprintf(a.stdout, "%s: %d questions, mode %s, k=%d (%.1fs)\n\n", args[0], len(items), m, cfg.Retrieve.K, time.Since(began).Seconds())
			return writeArmsTable(a.stdout, results, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&baseModel, "base-model", "", "base chat model (default: [generate.openai] model)")
	f.StringVar(&tunedModel, "tuned-model", "", "fine-tuned chat model (default: the newest succeeded fine-tuning job)")
	f.StringVar(&corpus, "corpus", "", "answer against this BEIR corpus instead of the current store")
	f.StringVar(&split, "split", "test", "qrels split of --corpus")
	f.StringVar(&mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	f.StringVar(&reportDir, "report", "", "also write the table as arms.md into this directory")
	f.IntVar(&limit, "limit", 0, "evaluate about this many questions, spread evenly over the file")
	return cmd
}

// runArm runs one arm, or says why it cannot.
func (a *app) runArm(cmd *cobra.Command, cfg config.Config, items []evaluate.QAItem, path, corpus, split string, mode retrieve.Mode, limit int,
	arm, baseModel, tunedModel string) (armResult, error) {
	r := armResult{Arm: arm, RAG: arm == armBaseRAG || arm == armTunedRAG}
	model := baseModel
	if arm == armTuned || arm == armTunedRAG {
		model = tunedModel
	}
	switch {
	case cfg.Generate.OpenAI.BaseURL == "" && arm == armBaseRAG:
		cfg.Generate.Provider = "builtin" // offline: RAG with the extractive answerer
	case cfg.Generate.OpenAI.BaseURL == "":
		r.Skipped = "no chat endpoint: set [generate.openai] base_url"
		return r, nil
	case model == "" && (arm == armTuned || arm == armTunedRAG):
		r.Skipped = "no fine-tuned model: pass --tuned-model or finish a job with 'ragtune tune start'"
		return r, nil
	case model == "":
		r.Skipped = "no base model: set [generate.openai] model or pass --base-model"
		return r, nil
	default:
		cfg.Generate.Provider, cfg.Generate.OpenAI.Model = "openai", model
		r.Model = model
	}
	run, err := a.runQAArm(cmd, cfg, items, path, corpus, split, mode, limit, arm)
	if err != nil {
		return r, err
	}
	r.Generator, r.RunID, r.LatencyMS = run.gen, run.runID, &run.res.LatencyMS
	raw, _ := json.Marshal(run.res.Answer)
	json.Unmarshal(raw, &r.Answer)
	if !r.RAG {
		for _, k := range []string{"faithfulness", "citation_precision", "citation_recall"} {
			r.Answer[k] = nil // nothing was given to be faithful to or to cite
		}
	}
	return r, nil
}

// newestTunedModel is the model of the newest succeeded fine-tuning job
// in the store, or "" when there is none.
func (a *app) newestTunedModel(cmd *cobra.Command, cfg config.Config) (string, error) {
	st, err := a.openStore(cmd, cfg)
	if err != nil {
		return "", nil // no project store: no jobs either
	}
	defer st.Close()
	raws, err := st.Jobs(cmd.Context())
	if err != nil {
		return "", err
	}
	for _, raw := range raws { // newest first
		var j finetune.Job
		if json.Unmarshal(raw, &j) == nil && j.Status == "succeeded" && j.FineTunedModel != "" {
			return j.FineTunedModel, nil
		}
	}
	return "", nil
}

var armColumns = []struct{ key, title, format string }{
	{"em", "EM", "%.3f"}, {"f1", "F1", "%.3f"}, {"contains", "contains", "%.3f"}, {"faithfulness", "faithful", "%.3f"},
	{"citation_precision", "cite prec", "%.3f"}, {"abstention_f1", "abstain F1", "%.3f"}, {"behaviour_pass", "behaviour", "%.3f"},
	{"tokens_in", "tokens in", "%.0f"}, {"tokens_out", "tokens out", "%.0f"}, {"cost_usd", "$/request", "%.5f"},
}

// writeArmsTable prints the arms side by side, as Markdown or plain text.
func writeArmsTable(w io.Writer, results []armResult, markdown bool) error {
	head := []string{"arm", "model"}
	for _, c := range armColumns {
		head = append(head, c.title)
	}
	head = append(head, "p50 ms")
	rows := [][]string{head}
	var notes []string
	for _, r := range results {
		model := r.Model
		if model == "" {
			model = r.Generator
		}
		row := []string{r.Arm, model}
		if r.Skipped != "" {
			notes = append(notes, fmt.Sprintf("%s skipped: %s", r.Arm, r.Skipped))
			row[1] = "—"
			for range len(armColumns) + 1 {
				row = append(row, "skipped")
			}
			rows = append(rows, row)
			continue
		}
		for _, c := range armColumns {
			v, ok := r.Answer[c.key].(float64)
			if !ok {
				row = append(row, "n/a")
				continue
			}
			row = append(row, fmt.Sprintf(c.format, v))
		}
		rows = append(rows, append(row, fmt.Sprintf("%.0f", r.LatencyMS.P50)))
	}
	var b strings.Builder
	if markdown {
		for i, row := range rows {
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
			if i == 0 {
				b.WriteString(strings.Repeat("|---", len(row)) + "|\n")
			}
		}
	} else {
		widths := make([]int, len(head))
		for _, row := range rows {
			for i, c := range row {
				widths[i] = max(widths[i], len(c))
			}
		}
		for _, row := range rows {
			for i, c := range row {
				fmt.Fprintf(&b, "%-*s  ", widths[i], c)
			}
			b.WriteString("\n")
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
	}
	b.WriteString("\nn/a: not measurable for that arm (no passages to be faithful to or cite, or no unanswerable/behaviour items in the set).\n")
	_, err := io.WriteString(w, b.String())
	return err
}
