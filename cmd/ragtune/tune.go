package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/retrieve"
)

func (a *app) tuneCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tune",
		Short: "Fine-tuning for behaviour: prepare data, run and follow jobs at the provider",
	}
	var (
		system, model, out string
		epochs, maxTokens  int
		valSplit, price    float64
		seed               uint64
		dropInvalid        bool
		withContext        bool
		contextK           int
		leaveOut           float64
	)
	prepare := &cobra.Command{
		Use:   "prepare EXAMPLES.jsonl",
		Short: "Validate examples, count tokens, estimate the cost, and write training files",
		Long: `prepare reads training examples, one JSON object per line, in any of:
  chat         {"messages":[{"role","content","weight"?}…]}
  pairs        {"question","answer"} (with --system as the system prompt)
  QA test set  {"question","answers":[…],"answerable"?} — the eval format;
               the first gold answer is the target, unanswerable questions
               are taught to answer "I do not have information about that."
  preference   {"input":{"messages":[…]},"preferred_output":[…],
               "non_preferred_output":[…]} — DPO; the whole file then
               trains with DPO ("method": "dpo" in the report)
and checks every line: JSON object, messages present, known keys and
roles, non-empty content, an assistant turn, the model's per-example
token limit, duplicates, one format per file, at least 10 examples (50+
advised), no overlap between training and validation. All problems are
reported with their line numbers and the command exits 1; --drop-invalid
writes the clean subset instead.

Tokens are counted with the model's tokenizer and OpenAI's per-message
overhead; epochs follow OpenAI's default rule unless --epochs is given;
the cost is billed tokens times the dated training price (--price
overrides). Files: train.jsonl and validation.jsonl (OpenAI's format),
and for local training alpaca.json, sharegpt.json, mlx/train.jsonl and
mlx/valid.jsonl (mlx_lm.lora --data finetune/mlx) and an Ollama Modelfile
template; preference data also gets trl-dpo.jsonl (prompt/chosen/rejected).`,
		Example: `  ragtune tune prepare examples.jsonl --model gpt-4o-mini
  ragtune tune prepare pairs.jsonl --system "Answer like our support team." --out ft/ --json`,
		Args: exactArgs(1, "one examples file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			exs, problems, err := finetune.Read(args[0], system)
			if err != nil {
				return err
			}
			var raftNote string
			if withContext {
				if exs, raftNote, err = a.raft(cmd, exs, contextK, leaveOut, seed); err != nil {
					return err
				}
			}
			tok, err := chunk.NewTiktokenCounter(finetune.EncodingFor(model))
			if err != nil {
				return err
			}
			rep, train, val := finetune.Prepare(exs, problems, tok, finetune.Options{Model: model, Epochs: epochs,
				ValidationSplit: valSplit, Seed: seed, MaxTokens: maxTokens, PricePerMTok: price})
			if raftNote != "" {
				rep.Warnings = append(rep.Warnings, raftNote)
			}
			failed := len(rep.Errors) > 0
			if !failed || dropInvalid {
				if out == "" {
					out = filepath.Join(filepath.Dir(args[0]), "finetune")
				}
				if rep.Valid > 0 {
					if rep.Files, err = finetune.Write(out, train, val, model); err != nil {
						return err
					}
				}
				if failed {
					rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d problem(s) dropped; wrote the %d valid examples", len(rep.Errors), rep.Valid))
				}
			}
			if a.jsonOut {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				a.printPrepare(rep)
			}
			if failed && !dropInvalid {
				return exitError{exitFailure, fmt.Errorf("%d problem(s) in %s; fix them or use --drop-invalid", len(rep.Errors), args[0])}
			}
			return nil
		},
	}
	f := prepare.Flags()
	f.StringVar(&system, "system", "", "system prompt for question/answer pairs")
	f.StringVar(&model, "model", "gpt-4o-mini", "base model to fine-tune (tokenizer, limit and price)")
	f.IntVar(&epochs, "epochs", 0, "training epochs (default: OpenAI's rule, aiming for 3)")
	f.Float64Var(&valSplit, "validation-split", 0.1, "share of examples held out for validation")
	f.Uint64Var(&seed, "seed", 1, "seed of the train/validation split")
	f.IntVar(&maxTokens, "max-tokens", 0, "tokens allowed per example (default: the model's limit)")
	f.Float64Var(&price, "price", 0, "training price per million tokens (default: the dated table)")
	f.StringVar(&out, "out", "", "directory for the files (default: finetune/ beside the input)")
	f.BoolVar(&dropInvalid, "drop-invalid", false, "write the valid examples even when some lines have problems")
	f.BoolVar(&withContext, "with-context", false, "RAFT: put retrieved passages (the relevant one plus distractors) in each example, answers citing [n]")
	f.IntVar(&contextK, "context-k", 4, "passages per example with --with-context")
	f.Float64Var(&leaveOut, "leave-out", 0.2, "with --with-context: share of examples without the relevant passage, answered with the refusal")
	cmd.AddCommand(prepare, a.tuneEmbeddingsCommand())
	a.jobCommands(cmd)
	return cmd
}

// raft rewrites examples with context retrieved from the project's store.
func (a *app) raft(cmd *cobra.Command, exs []finetune.Example, k int, leaveOut float64, seed uint64) ([]finetune.Example, string, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, "", err
	}
	mode, err := cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, "", usageError{err}
	}
	p, err := a.openProject(cmd, cfg)
	if err != nil {
		return nil, "", err
	}
	defer p.Close()
	r, err := p.Retriever(cmd.Context(), mode)
	if err != nil {
		return nil, "", err
	}
	search := func(ctx context.Context, q string, n int) ([]finetune.Passage, error) {
		hits, err := r.Search(ctx, retrieve.Query{Text: q, K: n, Mode: mode})
		var out []finetune.Passage
		for _, h := range hits {
			src := h.DocPath
			if h.Heading != "" {
				src += " > " + h.Heading
			}
			out = append(out, finetune.Passage{Source: src, Text: h.Text})
		}
		return out, err
	}
	out, unsupported, err := finetune.WithContext(cmd.Context(), exs, search, finetune.RAFTOptions{K: k, LeaveOut: leaveOut, Seed: seed})
	if err != nil {
		return nil, "", err
	}
	note := ""
	if unsupported > 0 {
		note = fmt.Sprintf("%d example(s) kept without context: no retrieved passage supports their answer", unsupported)
	}
	return out, note, nil
}

func (a *app) printPrepare(r *finetune.Report) {
	fmt.Fprintf(a.stdout, "%d examples, %d valid (%d train, %d validation)\n", r.Examples, r.Valid, r.Train, r.Validation)
	for _, p := range r.Errors {
		fmt.Fprintf(a.stdout, "  line %d: %s: %s\n", p.Line, p.Code, p.Message)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(a.stdout, "  warning: %s\n", w)
	}
	fmt.Fprintf(a.stdout, "tokens per example (%s): min %d, median %d, p95 %d, max %d; assistant median %d\n", r.Encoding,
		r.Tokens.Min, r.Tokens.P50, r.Tokens.P95, r.Tokens.Max, r.AssistantTokens.P50)
	fmt.Fprintf(a.stdout, "%d epochs, %d billed tokens, estimated cost $%.2f at $%.2f per million (%s)\n", r.Epochs,
		r.BilledTokens, r.EstimatedCostUSD, r.PricePerMTok, r.PricesAsOf)
	for kind, p := range r.Files {
		fmt.Fprintf(a.stdout, "  %-10s %s\n", kind, p)
	}
}
