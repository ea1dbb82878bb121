package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/advise"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/testset"
)

func (a *app) evalGenerateCommand() *cobra.Command {
	var (
		req        project.TestSetRequest
		out        string
		force, yes bool
	)
	req.Options = testset.Options{Size: 50, UnanswerableShare: 0.2, PairShare: 0.1, Seed: 1}
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Make a QA test set from your own documents (no test set yet? start here)",
		Long: `eval generate writes a QA test set from the documents in the store, for teams
that have none. Passages are sampled across documents (seeded, so the same
corpus and seed give the same set). For each, a question is written with its
short answer and the verbatim sentence that supports it; items whose quote
is not in the passage, whose answer the quote does not hold, that only make
sense next to the passage ("according to the text…"), that give their answer
away or repeat another item are dropped. Unanswerable questions are added:
twins of kept questions with a name or number swapped for one that no stored
passage contains, and, with a chat model, questions near a passage's topic
that the model finds answered by none of the corpus' top passages.

Without a chat model (the offline default) questions are built from the
sentences themselves — definitions ("X is Y" → "What is X?"), instructions
under a task heading, and cloze questions (a number, date or name asked
for). They repeat the passages' words, so they are easier than real users'
questions; review them, and prefer a model when you have one.
With [generate] provider = "openai" (or --model) a chat model writes them,
also questions that need two passages of one document. The cost is
estimated first; --max-cost refuses a larger estimate and stops spending
at that amount.

Every item is a proposal ("review": {"status": "proposed"}) with its
provenance (document, chunk ids, quote, generator, seed). Accept, edit or
reject them with 'ragtune eval review'; 'eval run --accepted-only' then
uses only what a person approved.`,
		Example: `  ragtune eval generate                                # 50 questions + 10 unanswerable into testsets/generated.jsonl
  ragtune eval generate --size 200 --seed 7 --out testsets/v2.jsonl
  ragtune eval generate --model gpt-4.1-mini --max-cost 0.50
  ragtune eval run testsets/generated.jsonl            # then measure
  ragtune eval review list testsets/generated.jsonl    # and review`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.Options.Size < 1 || req.Options.Size > 100000 {
				return usagef("--size must be between 1 and 100000 (got %d)", req.Options.Size)
			}
			for _, s := range []float64{req.Options.UnanswerableShare, req.Options.PairShare} {
				if !(s >= 0 && s <= 1) { // NaN fails too
					return usagef("--unanswerable and --pairs are shares of --size, from 0 to 1 (got %g)", s)
				}
			}
			if req.Writer != "" && req.Writer != "offline" && req.Writer != "model" {
				return usagef("--writer is offline or model (got %q)", req.Writer)
			}
			return a.withProject(cmd, func(p *project.Project) error {
				if out == "" {
					out = filepath.Join(p.TestSetDir(), "generated.jsonl")
				}
				if _, err := os.Stat(out); err == nil && !force {
					return usagef("%s exists (its review decisions would be lost): choose another --out, or --force", out)
				}
				if err := a.checkCost(cmd, p, req, yes); err != nil {
					return err
				}
				progress, done := a.progress()
				req.Options.Progress = progress("writing questions")
				run, err := p.GenerateTestSet(cmd.Context(), req)
				done()
				if errors.Is(err, testset.ErrNoModel) {
					return usagef("%v: set [generate.openai] base_url and model in ragtune.toml (--model names another model there), or use --writer offline", err)
				}
				if errors.Is(err, testset.ErrNoPrice) {
					return usagef("%v: add its prices to ragtune.toml ([prices.\"%s\"] input_per_mtok, output_per_mtok) or drop --max-cost", err, req.Model)
				}
				if err != nil {
					return err
				}
				if len(run.Items) == 0 {
					return noItems(run.Report)
				}
				if err := testset.WriteFile(out, run.Items); err != nil {
					return err
				}
				return a.printGenerated(out, run)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&req.Options.Size, "size", req.Options.Size, "answerable questions wanted")
	f.Float64Var(&req.Options.UnanswerableShare, "unanswerable", req.Options.UnanswerableShare, "unanswerable questions to add, as a share of --size")
	f.Float64Var(&req.Options.PairShare, "pairs", req.Options.PairShare, "chat model only: questions needing two passages of one document, as a share of --size")
	f.Uint64Var(&req.Options.Seed, "seed", req.Options.Seed, "sampling seed: the same corpus and seed give the same set")
	f.StringVar(&req.Options.PathPrefix, "path-prefix", "", "only sample documents under this path")
	f.StringVar(&out, "out", "", "where to write the set (default testsets/generated.jsonl beside ragtune.toml)")
	f.BoolVar(&force, "force", false, "overwrite --out if it exists")
	f.StringVar(&req.Writer, "writer", "", "offline | model (default: model when [generate] provider is openai or --model is given)")
	f.StringVar(&req.Model, "model", "", "write with this chat model at [generate.openai] base_url")
	f.Float64Var(&req.MaxCostUSD, "max-cost", 0, "chat model: refuse when the estimate is higher, stop when spending reaches it (USD; 0 = no limit)")
	f.BoolVar(&yes, "yes", false, "chat model: do not ask before spending (non-interactive runs never ask)")
	return cmd
}

// noItems says why a generation kept nothing.
func noItems(rep *testset.Report) error {
	why := []string{fmt.Sprintf("%d passages written from", rep.Sampled)}
	if len(rep.Dropped) > 0 {
		why = append(why, "dropped: "+counts(rep.Dropped))
	}
	if rep.WriterErrs > 0 {
		why = append(why, fmt.Sprintf("%d passages the writer failed on", rep.WriterErrs))
	}
	if rep.Stopped != "" {
		why = append(why, "stopped: "+rep.Stopped)
	}
	return fmt.Errorf("no question survived the checks (%s); try more documents, or a chat model", strings.Join(why, "; "))
}

// checkCost prints the model generation's estimate, refuses one above
// --max-cost, and asks on a terminal unless --yes.
func (a *app) checkCost(cmd *cobra.Command, p *project.Project, req project.TestSetRequest, yes bool) error {
	if !p.UsesModel(req) {
		return nil
	}
	est, err := p.EstimateTestSet(cmd.Context(), req)
	if err != nil {
		return err
	}
	if !a.jsonOut {
		fmt.Fprintf(a.stderr, "estimate: about %d calls, %d input and %d output tokens, $%.4f (at most %d calls, $%.4f)\n",
			est.Calls, est.InputTokens, est.OutputTokens, est.USD, est.MaxCalls, est.MaxUSD)
	}
	if req.MaxCostUSD > 0 && est.USD > req.MaxCostUSD {
		return usagef("the estimate ($%.4f) is above --max-cost $%.4f: lower --size or raise --max-cost", est.USD, req.MaxCostUSD)
	}
	if yes || !a.interactive() {
		return nil
	}
	var y advise.YesNo
	if err := a.askYesNo(&y, "Go ahead?", "yes"); err != nil {
		return err
	}
	if !y.Val {
		return usagef("stopped before any call")
	}
	return nil
}

func (a *app) printGenerated(out string, run *project.TestSetRun) error {
	rep := run.Report
	if a.jsonOut {
		return a.printJSON(map[string]any{"file": out, "report": rep, "usage": run.Usage})
	}
	fmt.Fprintf(a.stdout, "wrote %d items to %s (writer %s, seed %d, %.1fs)\n", rep.Items, out, rep.Generator, rep.Seed, rep.Seconds)
	fmt.Fprintf(a.stdout, "  %d passages written from; items from %d of the store's %d documents\n", rep.Sampled, rep.DocsUsed, rep.Documents)
	fmt.Fprintf(a.stdout, "  kinds: %s\n  methods: %s\n", counts(rep.ByKind), counts(rep.ByMethod))
	if len(rep.Dropped) > 0 {
		fmt.Fprintf(a.stdout, "  dropped: %s\n", counts(rep.Dropped))
	}
	if rep.WriterErrs > 0 {
		fmt.Fprintf(a.stdout, "  passages the writer failed on: %d\n", rep.WriterErrs)
	}
	if u := run.Usage; u != nil {
		fmt.Fprintf(a.stdout, "  chat model: %d calls, %d + %d tokens, $%.4f\n", u.Calls, u.PromptTokens, u.CompletionTokens, u.CostUSD)
		if u.Unmetered > 0 {
			fmt.Fprintf(a.stdout, "  %d calls came back without token counts: their cost is not in the total\n", u.Unmetered)
		}
	}
	if rep.Stopped != "" {
		fmt.Fprintf(a.stdout, "  stopped early: %s\n", rep.Stopped)
	}
	fmt.Fprintf(a.stdout, "next: ragtune eval review list %s, then ragtune eval run %s\n", out, out)
	return nil
}

// counts lists a tally by key: "a 2, b 5", or "none".
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
