package main

import (
	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/answer"
)

func (a *app) askCommand() *cobra.Command {
	var (
		rf                   retrievalFlags
		minCoverage, minSupp float64
		model                string
	)
	cmd := &cobra.Command{
		Use:   "ask QUESTION",
		Short: "Answer a question from your documents, citing sources, or decline",
		Long: `ask retrieves the k best chunks (4 by default: enough context, not so much
that the answer drowns) and answers from them. Every sentence carries a
citation [n] that points to a document, heading and line range.

When the retrieved text does not cover the question, ask answers exactly
"I do not have information about that." and says why: no_results (nothing
matched), low_retrieval_score (the best chunks miss too much of the
question) or unsupported_answer (no single sentence supports an answer).
The thresholds are [answer] min_coverage and min_support in ragtune.toml.`,
		Example: `  ragtune ask "How do I rotate keys?"
  ragtune ask "What does ingest --prune do?" -k 5 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("ask needs a question")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("min-coverage") {
				cfg.Answer.MinCoverage = minCoverage
			}
			if cmd.Flags().Changed("min-support") {
				cfg.Answer.MinSupport = minSupp
			}
			if cmd.Flags().Changed("model") {
				cfg.Generate.Provider, cfg.Generate.OpenAI.Model = "openai", model
			}
			p, q, hits, err := a.retrieve(cmd, cfg, &rf, args)
			if err != nil {
				return err
			}
			defer p.Close()
			gen, err := p.Generator(cmd.Context(), "")
			if err != nil {
				return err
			}
			res, err := answer.Answer(cmd.Context(), gen, answer.Request{Question: q.Text, Hits: hits})
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(res)
			}
			res.WriteText(a.stdout)
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().Float64Var(&minCoverage, "min-coverage", 0, "decline unless a chunk covers this share of the question (0-1)")
	cmd.Flags().Float64Var(&minSupp, "min-support", 0, "quote only sentences covering this share of the question (0-1)")
	cmd.Flags().StringVar(&model, "model", "", "answer with this chat model at [generate.openai] base_url instead of the built-in answerer")
	return cmd
}
