package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ragtune/ragtune/internal/advise"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) adviseCommand() *cobra.Command {
	var knowledge, behaviour, attribution advise.YesNo
	var fromEval, report string
	useHistory := true
	w, p := advise.DefaultWorkload(), advise.DefaultPrices()
	cmd := &cobra.Command{
		Use:   "advise",
		Short: "Should you fine-tune or use RAG? Three questions, your volume, and what each option costs",
		Long: `advise asks three questions — does your information change often, must the
model's behaviour change, do answers need sources — and recommends RAG,
fine-tuning or both. It prices each option per month at your volume
(RAG: longer prompts; fine-tuning: higher token prices plus the training
run, data preparation and evaluation, amortised, and retraining when
knowledge changes), finds the break-even volume and draws cost against
volume. --from-eval reads a stored QA eval run: poor accuracy means fix
retrieval first; good accuracy with failing behaviour checks means add
fine-tuning for behaviour.

Prices default to ` + advise.PricesAsOf + `; override them with the --price-* flags.`,
		Example: `  ragtune advise --knowledge-changes yes --behavior-change no --attribution yes --monthly-requests 50000
  ragtune advise --knowledge-changes no --behavior-change yes --attribution no --from-eval 20261124-141633 --json`,
		Args: exactArgs(0, "no arguments (the questions are flags)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var churn *advise.Churn
			if useHistory {
				churn = a.measureChurn(cmd)
			}
			var notes []string
			if val, ok, note := advise.KnowledgeFromChurn(churn, knowledge.Ptr()); ok {
				knowledge.Val, knowledge.IsSet = val, true
				if note != "" {
					notes = append(notes, note)
				}
			}
			for _, q := range []struct {
				y    *advise.YesNo
				flag string
				text string
			}{{&knowledge, "knowledge-changes", "Does your information change frequently?"},
				{&behaviour, "behavior-change", "Must the model's tone, format or terminology change?"},
				{&attribution, "attribution", "Do answers need source attribution?"}} {
				if !q.y.IsSet {
					if err := a.askYesNo(q.y, q.text, q.flag); err != nil {
						return err
					}
				}
			}
			req := advise.Request{Answers: advise.Answers{KnowledgeChanges: knowledge.Val, BehaviourChange: behaviour.Val, Attribution: attribution.Val},
				Churn: churn, Notes: notes, Workload: w, Prices: p}
			if fromEval != "" {
				rec, err := a.loadRecord(cmd, fromEval)
				if err != nil {
					return err
				}
				req.Measured = advise.FromEval(rec.ID, rec.Metrics, &req.Workload)
			}
			rep := advise.Advise(req)
			if report != "" {
				if err := evaluate.WriteFile(report, func(out io.Writer) error {
					_, err := io.WriteString(out, advise.SVG(rep.Workload, p))
					return err
				}); err != nil {
					return err
				}
			}
			if a.jsonOut {
				return a.printJSON(rep)
			}
			rep.WriteText(a.stdout)
			return nil
		},
	}
	f := cmd.Flags()
	f.Var(&knowledge, "knowledge-changes", "does your information change frequently? yes|no")
	f.Var(&behaviour, "behavior-change", "must the model's tone, format or terminology change? yes|no")
	f.Var(&attribution, "attribution", "do answers need source attribution? yes|no")
	f.StringVar(&report, "chart", "", "also write the cost-by-volume chart as an SVG file")
	f.BoolVar(&useHistory, "ingest-history", true, "read how often documents change from the project's ingest history (needs a week of it); it answers --knowledge-changes when that is not given")
	f.StringVar(&fromEval, "from-eval", "", "a stored QA eval run (ragtune eval history) to read accuracy, behaviour and tokens from")
	f.Float64Var(&w.MonthlyRequests, "monthly-requests", w.MonthlyRequests, "requests per month")
	f.Float64Var(&w.PromptTokens, "prompt-tokens", w.PromptTokens, "system prompt and question tokens per request")
	f.Float64Var(&w.ContextTokens, "context-tokens", w.ContextTokens, "retrieved context tokens per RAG request")
	f.Float64Var(&w.OutputTokens, "output-tokens", w.OutputTokens, "answer tokens per request")
	f.Float64Var(&w.DataPrepUSD, "data-prep-usd", w.DataPrepUSD, "one-off cost of preparing training data")
	f.Float64Var(&w.EvaluationUSD, "evaluation-usd", w.EvaluationUSD, "cost of evaluating each trained model")
	f.Float64Var(&w.AmortiseMonths, "amortize-months", w.AmortiseMonths, "months to spread one-off costs over")
	f.Float64Var(&w.VectorStoreMonthly, "vector-store-usd", w.VectorStoreMonthly, "monthly cost of the vector store (0 for the embedded one)")
	f.Float64Var(&p.BaseInput, "price-input", p.BaseInput, "base model input price per million tokens")
	f.Float64Var(&p.BaseOutput, "price-output", p.BaseOutput, "base model output price per million tokens")
	f.Float64Var(&p.TunedInput, "price-tuned-input", p.TunedInput, "fine-tuned model input price per million tokens")
	f.Float64Var(&p.TunedOutput, "price-tuned-output", p.TunedOutput, "fine-tuned model output price per million tokens")
	f.Float64Var(&p.Training, "price-training", p.Training, "training price per million tokens")
	return cmd
}

// askYesNo prompts on a terminal; elsewhere the flag is required.
func (a *app) askYesNo(y *advise.YesNo, question, flag string) error {
	in, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) || a.jsonOut {
		return usagef("answer --%s yes|no (%s)", flag, question)
	}
	r := bufio.NewReader(in)
	for {
		fmt.Fprintf(a.stderr, "%s [yes/no] ", question)
		line, err := r.ReadString('\n')
		if err != nil {
			return usagef("answer --%s yes|no", flag)
		}
		if y.Set(strings.TrimSpace(line)) == nil {
			return nil
		}
	}
}

// measureChurn reads the project's ingest history; nil when there is no
// project store or too little history. The history is local even when
// the corpus is on a cluster.
func (a *app) measureChurn(cmd *cobra.Command) *advise.Churn {
	cfg, err := a.config()
	if err != nil {
		return nil
	}
	p, err := project.Open(cmd.Context(), cfg, a.env())
	if err != nil {
		return nil // no project here: no history either
	}
	defer p.Close()
	churn, err := p.Churn(cmd.Context())
	if err != nil {
		a.log.Warn("reading the ingest history", "err", err)
	}
	return churn
}
