package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ragtune/ragtune/internal/advise"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

// adviseFlags are advise's inputs.
type adviseFlags struct {
	knowledge, behaviour, attribution advise.YesNo
	fromEval, chart, reportDir        string
	prepared                          string
	useHistory                        bool
	w                                 advise.Workload
	p                                 advise.Prices
}

func (a *app) adviseCommand() *cobra.Command {
	fl := &adviseFlags{useHistory: true, w: advise.DefaultWorkload(), p: advise.DefaultPrices()}
	cmd := &cobra.Command{
		Use:   "advise",
		Short: "Should you fine-tune or use RAG? Three questions, your volume, and what each option costs",
		Long: `advise asks three questions — does your information change often, must the
model's behaviour change, do answers need sources — and recommends RAG,
fine-tuning or both. It prices each option per month at your volume
(RAG: longer prompts; fine-tuning: higher token prices plus the training
run, data preparation and evaluation, amortised, and retraining when
knowledge changes), finds the break-even volume and draws cost against
volume. The project's stored eval runs are the evidence: --from-eval
names a QA run, otherwise the newest one that answered with retrieval is
read. Poor accuracy means fix retrieval first; good accuracy with failing
behaviour checks means add fine-tuning for behaviour.

--report DIR writes decision.html (one self-contained page) and
decision.md: the recommendation, the three answers and where they came
from, the eval and arms results with 95 % intervals, the costs with the
break-even chart, and the next step.

Prices default to ` + advise.PricesAsOf + `; override them with the --price-* flags.`,
		Example: `  ragtune advise --knowledge-changes yes --behavior-change no --attribution yes --monthly-requests 50000
  ragtune advise --knowledge-changes no --behavior-change yes --attribution no --from-eval 20261124-141633 --json
  ragtune advise --knowledge-changes yes --behavior-change no --attribution yes --report decision/`,
		Args: exactArgs(0, "no arguments (the questions are flags)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, info, err := a.adviseRequest(cmd, fl)
			if err != nil {
				return err
			}
			rep := advise.Advise(req)
			if err := writeAdviseFiles(fl, rep, info); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(rep)
			}
			rep.WriteText(a.stdout)
			if fl.reportDir != "" {
				fmt.Fprintf(a.stdout, "\nDecision report: %s\n", filepath.Join(fl.reportDir, advise.DecisionHTML))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Var(&fl.knowledge, "knowledge-changes", "does your information change frequently? yes|no")
	f.Var(&fl.behaviour, "behavior-change", "must the model's tone, format or terminology change? yes|no")
	f.Var(&fl.attribution, "attribution", "do answers need source attribution? yes|no")
	f.StringVar(&fl.chart, "chart", "", "also write the cost-by-volume chart as an SVG file")
	f.StringVar(&fl.reportDir, "report", "", "also write the decision report, decision.html and decision.md, into this directory")
	f.BoolVar(&fl.useHistory, "ingest-history", true, "read how often documents change from the project's ingest history (needs a week of it); it answers --knowledge-changes when that is not given")
	f.StringVar(&fl.fromEval, "from-eval", "", "a stored QA eval run (ragtune eval history) to read accuracy, behaviour and tokens from (default: the newest QA run that used retrieval)")
	f.StringVar(&fl.prepared, "prepared", "", "the report of 'ragtune tune prepare --json' (a file, or a directory with prepare.json) for the training data's size and cost (default: "+advise.PreparedFile+" in the project, when there)")
	f.Float64Var(&fl.w.MonthlyRequests, "monthly-requests", fl.w.MonthlyRequests, "requests per month")
	f.Float64Var(&fl.w.PromptTokens, "prompt-tokens", fl.w.PromptTokens, "system prompt and question tokens per request")
	f.Float64Var(&fl.w.ContextTokens, "context-tokens", fl.w.ContextTokens, "retrieved context tokens per RAG request")
	f.Float64Var(&fl.w.OutputTokens, "output-tokens", fl.w.OutputTokens, "answer tokens per request")
	f.Float64Var(&fl.w.DataPrepUSD, "data-prep-usd", fl.w.DataPrepUSD, "one-off cost of preparing training data")
	f.Float64Var(&fl.w.EvaluationUSD, "evaluation-usd", fl.w.EvaluationUSD, "cost of evaluating each trained model")
	f.Float64Var(&fl.w.AmortiseMonths, "amortize-months", fl.w.AmortiseMonths, "months to spread one-off costs over")
	f.Float64Var(&fl.w.VectorStoreMonthly, "vector-store-usd", fl.w.VectorStoreMonthly, "monthly cost of the vector store (0 for the embedded one)")
	f.Float64Var(&fl.p.BaseInput, "price-input", fl.p.BaseInput, "base model input price per million tokens")
	f.Float64Var(&fl.p.BaseOutput, "price-output", fl.p.BaseOutput, "base model output price per million tokens")
	f.Float64Var(&fl.p.TunedInput, "price-tuned-input", fl.p.TunedInput, "fine-tuned model input price per million tokens")
	f.Float64Var(&fl.p.TunedOutput, "price-tuned-output", fl.p.TunedOutput, "fine-tuned model output price per million tokens")
	f.Float64Var(&fl.p.Training, "price-training", fl.p.Training, "training price per million tokens")
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

// adviseRequest gathers what advise decides from: the answers (flags,
// the ingest history, the prompt), the stored eval runs, the prepared
// training data.
func (a *app) adviseRequest(cmd *cobra.Command, fl *adviseFlags) (advise.Request, advise.PageInfo, error) {
	facts := a.projectFacts(cmd, fl.useHistory)
	defer facts.close()
	req := advise.Request{Churn: facts.churn, Workload: fl.w, Prices: fl.p}
	info := advise.PageInfo{Project: facts.dir, Made: time.Now()}
	if err := a.adviseAnswers(fl, &req); err != nil {
		return req, info, err
	}
	var chosen *evaluate.Record
	if fl.fromEval != "" {
		rec, err := a.loadRecord(cmd, fl.fromEval)
		if err != nil {
			return req, info, err
		}
		chosen = &rec
	}
	if facts.runs != nil {
		ev, qa, err := advise.GatherEvidence(cmd.Context(), advise.EvidenceRequest{Runs: facts.runs, Chosen: chosen, Limit: adviseRunLimit})
		if err != nil {
			return req, info, err
		}
		req.Evidence = &ev
		setMeasured(&req, qa, chosen == nil)
	} else if chosen != nil {
		setMeasured(&req, chosen, false)
	}
	prep, err := a.readPrepared(fl.prepared, facts.dir)
	req.Prepared = prep
	return req, info, err
}

// setMeasured reads the QA run's figures into the request; a run advise
// found rather than was given is named in the reasons.
func setMeasured(req *advise.Request, qa *evaluate.Record, found bool) {
	if qa == nil {
		return
	}
	req.Measured = advise.FromEval(qa.ID, qa.Metrics, &req.Workload)
	if found {
		req.Notes = append(req.Notes, fmt.Sprintf("measured by the newest stored QA run, %s (%s, %s); --from-eval reads another",
			qa.ID, qa.Dataset, qa.CreatedAt.UTC().Format("2006-01-02")))
	}
}

// adviseAnswers fills in the three answers and where each came from:
// a flag, the ingest history, or the prompt.
func (a *app) adviseAnswers(fl *adviseFlags, req *advise.Request) error {
	src := func(y advise.YesNo) string {
		if y.IsSet {
			return advise.SourceFlag
		}
		return advise.SourcePrompt
	}
	req.Sources = advise.Sources{Knowledge: src(fl.knowledge), Behaviour: src(fl.behaviour), Attribution: src(fl.attribution)}
	knowledge := fl.knowledge
	if val, ok, note := advise.KnowledgeFromChurn(req.Churn, knowledge.Ptr()); ok {
		if !knowledge.IsSet {
			req.Sources.Knowledge = advise.SourceHistory
		}
		knowledge.Val, knowledge.IsSet = val, true
		if note != "" {
			req.Notes = append(req.Notes, note)
		}
	}
	behaviour, attribution := fl.behaviour, fl.attribution
	for _, q := range []struct {
		y    *advise.YesNo
		flag string
		text string
	}{{&knowledge, "knowledge-changes", advise.KnowledgeQuestion},
		{&behaviour, "behavior-change", advise.BehaviourQuestion},
		{&attribution, "attribution", advise.AttributionQuestion}} {
		if !q.y.IsSet {
			if err := a.askYesNo(q.y, q.text, q.flag); err != nil {
				return err
			}
		}
	}
	req.Answers = advise.Answers{KnowledgeChanges: knowledge.Val, BehaviourChange: behaviour.Val, Attribution: attribution.Val}
	return nil
}

// readPrepared reads the prepared-data report the flag names (a missing
// one is a usage error), or else the project's finetune/prepare.json
// when there is one.
func (a *app) readPrepared(flag, projectDir string) (*advise.Prepared, error) {
	if flag != "" {
		if err := mustExist(flag); err != nil {
			return nil, err
		}
		p, err := advise.ReadPrepared(flag)
		if err != nil {
			return nil, usageError{err}
		}
		return p, nil
	}
	if projectDir == "" {
		return nil, nil
	}
	path := filepath.Join(projectDir, advise.PreparedFile)
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	p, err := advise.ReadPrepared(path)
	if err != nil {
		a.log.Warn("ignoring the prepared-data report", "err", err)
	}
	return p, nil
}

// writeAdviseFiles writes the chart and the decision report when asked.
func writeAdviseFiles(fl *adviseFlags, rep advise.Report, info advise.PageInfo) error {
	if fl.chart != "" {
		if err := evaluate.WriteFile(fl.chart, func(out io.Writer) error {
			_, err := io.WriteString(out, advise.SVG(rep.Workload, rep.Prices))
			return err
		}); err != nil {
			return err
		}
	}
	if fl.reportDir == "" {
		return nil
	}
	if _, err := advise.WriteDecision(fl.reportDir, rep, info); err != nil {
		return fmt.Errorf("writing the decision report: %w", err)
	}
	return nil
}

// adviseFacts is what the project holds for advise.
type adviseFacts struct {
	dir   string            // the project directory; "" without a configuration
	churn *advise.Churn     // nil when too little ingest history
	runs  evaluate.RunStore // the eval history; nil without a project store
	close func()
}

// projectFacts opens the project's store for its ingest history and eval
// runs; it holds neither when there is no project store here. The
// history is local even when the corpus is on a cluster. The caller
// calls close.
func (a *app) projectFacts(cmd *cobra.Command, useHistory bool) adviseFacts {
	facts := adviseFacts{close: func() {}}
	cfg, err := a.config()
	if err != nil {
		return facts
	}
	facts.dir = cfg.Dir
	p, err := project.Open(cmd.Context(), cfg, a.env())
	if err != nil {
		return facts // no project here: no history either
	}
	facts.runs, facts.close = p.Store(), func() { p.Close() }
	if useHistory {
		if facts.churn, err = p.Churn(cmd.Context()); err != nil {
			a.log.Warn("reading the ingest history", "err", err)
		}
	}
	return facts
}

// adviseRunLimit bounds the stored runs advise reads for its evidence.
const adviseRunLimit = 200
