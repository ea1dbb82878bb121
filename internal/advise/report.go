package advise

import (
	"fmt"
	"io"
	"strings"
)

// KnowledgeFromChurn reconciles the measured churn with the user's
// answer to "does your information change frequently?" (nil: not
// given). The measurement answers an open question; when it contradicts
// the answer, the answer stands for the decision, the note says so, and
// the cost model uses the measured rate. It returns the answer to use,
// whether there is one, and a note for the reasons (empty when there is
// no measurement).
func KnowledgeFromChurn(c *Churn, given *bool) (bool, bool, string) {
	if c == nil {
		if given == nil {
			return false, false, ""
		}
		return *given, true, ""
	}
	measured := c.Frequent()
	switch {
	case given == nil:
		verdict := "it changes rarely"
		if measured {
			verdict = "it changes often"
		}
		return measured, true, c.Reason() + ": " + verdict
	case *given != measured:
		return *given, true, c.Reason() + fmt.Sprintf(", which does not match your answer --knowledge-changes %s; the cost model uses the measured rate", yesNo(*given))
	}
	return *given, true, c.Reason()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// FromEval reads a stored QA eval run's figures: accuracy (contains) and
// behaviour pass rate for the decision, and the measured prompt and
// answer sizes into w.
func FromEval(runID string, metrics map[string]float64, w *Workload) *Measured {
	m := &Measured{Run: runID}
	if v, ok := metrics["contains"]; ok {
		m.Accuracy = &v
	}
	if v, ok := metrics["behaviour_pass"]; ok {
		m.BehaviourPass = &v
	}
	if in := metrics["tokens_in"]; in > 0 {
		w.ContextTokens = max(0, in-w.PromptTokens) // measured prompt size of a real model
	}
	if out := metrics["tokens_out"]; out > 0 {
		w.OutputTokens = out
	}
	return m
}

// Request is everything a recommendation is made from.
type Request struct {
	Answers  Answers
	Sources  Sources   // how each answer was given
	Measured *Measured // from an eval run; nil when none
	Churn    *Churn    // from the ingest history; nil when too little
	Notes    []string  // reasons that come first (how churn was read)
	Evidence *Evidence // the stored eval runs; nil when not read
	Prepared *Prepared // the prepared training data; nil when none
	Workload Workload
	Prices   Prices
}

// Report is a recommendation with its costs; its JSON is the CLI's.
type Report struct {
	// Fields in the order of their JSON names, as the CLI printed them
	// before this type existed.
	Answers        Answers    `json:"answers"`
	BreakEvenWhy   string     `json:"break_even_reason"`
	BreakEven      *float64   `json:"break_even_requests_per_month"`
	Churn          *Churn     `json:"churn"`
	Evidence       *Evidence  `json:"evidence,omitempty"`
	Measured       *Measured  `json:"measured"`
	Monthly        Costs      `json:"monthly_cost_usd"`
	Next           NextStep   `json:"next"`
	NextStep       string     `json:"next_step"`
	Prepared       *Prepared  `json:"prepared_data,omitempty"`
	Prices         Prices     `json:"prices"`
	PricesAsOf     string     `json:"prices_as_of"`
	Questions      []Question `json:"questions"`
	Reasons        []string   `json:"reasons"`
	Recommendation string     `json:"recommendation"`
	Workload       Workload   `json:"workload"`
}

// Advise decides and prices: knowledge kept in the weights must follow
// the documents, so a fine-tuned model is retrained as often as the
// measured churn (or monthly when the user says knowledge changes).
func Advise(req Request) Report {
	w := req.Workload
	req.Prepared.apply(&w)
	switch {
	case req.Churn != nil:
		w.RetrainsPerYear = req.Churn.RetrainsPerYear()
	case req.Answers.KnowledgeChanges:
		w.RetrainsPerYear = 12
	}
	d := Decide(req.Answers, req.Measured)
	be, why := BreakEven(w, req.Prices)
	next := planNext(d, req)
	return Report{Recommendation: d.Recommendation, Reasons: append(append([]string(nil), req.Notes...), d.Reasons...),
		NextStep: next.Text, Next: next, Monthly: Monthly(w, req.Prices), BreakEven: be, BreakEvenWhy: why, Answers: req.Answers,
		Questions: questions(req), Measured: req.Measured, Churn: req.Churn, Evidence: req.Evidence, Prepared: req.Prepared,
		Workload: w, Prices: req.Prices, PricesAsOf: PricesAsOf}
}

// WriteText writes the recommendation for a person: the verdict and its
// reasons, the next step, the monthly costs, the break-even and a chart.
func (rep Report) WriteText(w io.Writer) {
	wl := rep.Workload
	fmt.Fprintf(w, "Recommendation: %s\n\n", strings.ToUpper(rep.Recommendation))
	for _, r := range rep.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	fmt.Fprintf(w, "\nNext step: %s\n", rep.NextStep)
	for _, d := range rep.Next.Details {
		fmt.Fprintf(w, "  %s\n", d)
	}
	for _, c := range rep.Next.Commands {
		fmt.Fprintf(w, "  $ %s\n", c)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "At %.0f requests a month: RAG $%.2f, fine-tune $%.2f, hybrid $%.2f\n", wl.MonthlyRequests, rep.Monthly.RAG, rep.Monthly.FineTune, rep.Monthly.Hybrid)
	fmt.Fprintf(w, "Break-even: %s\n\n", rep.BreakEvenWhy)
	fmt.Fprint(w, Chart(wl, rep.Prices, 48))
}

// YesNo is an answer to one of advise's questions, as a flag: unset
// until given.
type YesNo struct {
	Val   bool
	IsSet bool
}

func (y *YesNo) String() string {
	if !y.IsSet {
		return ""
	}
	if y.Val {
		return "yes"
	}
	return "no"
}

func (y *YesNo) Set(s string) error {
	switch strings.ToLower(s) {
	case "yes", "y", "true":
		y.Val, y.IsSet = true, true
	case "no", "n", "false":
		y.Val, y.IsSet = false, true
	default:
		return fmt.Errorf("want yes or no, not %q", s)
	}
	return nil
}

func (y *YesNo) Type() string { return "yes|no" }

// Ptr is the answer, nil when none was given.
func (y *YesNo) Ptr() *bool {
	if !y.IsSet {
		return nil
	}
	return &y.Val
}
