package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) tuneCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "tune",
		Short: "Fine-tuning for behaviour: prepare data, run and follow jobs at the provider",
	})
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
			if err := mustExist(args[0]); err != nil {
				return err
			}
			req := finetune.FileRequest{Path: args[0], System: system, Out: out, DropInvalid: dropInvalid,
				Options: finetune.Options{Model: model, Epochs: epochs, ValidationSplit: valSplit, Seed: seed, MaxTokens: maxTokens, PricePerMTok: price}}
			if withContext {
				p, err := a.withContext(cmd)
				if err != nil {
					return err
				}
				defer p.Close()
				req.Rewrite = func(exs []finetune.Example) ([]finetune.Example, string, error) {
					return p.RAFT(cmd.Context(), exs, finetune.RAFTOptions{K: contextK, LeaveOut: leaveOut, Seed: seed})
				}
			}
			rep, err := finetune.PrepareFile(req)
			if err != nil {
				return err
			}
			failed := len(rep.Errors) > 0
			if a.jsonOut {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				rep.WriteText(a.stdout)
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

// withContext opens the project whose corpus --with-context retrieves
// from, with its retrieval mode checked first.
func (a *app) withContext(cmd *cobra.Command) (*project.Project, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Retrieve.ModeValue(); err != nil {
		return nil, usageError{err}
	}
	return a.openProject(cmd, cfg)
}
