package advise

import (
	"bytes"
	_ "embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
)

// The decision page's files in a report directory.
const (
	DecisionHTML     = "decision.html"
	DecisionMarkdown = "decision.md"
)

var (
	//go:embed decision.html.tmpl
	decisionHTMLSource string
	//go:embed decision.md.tmpl
	decisionMarkdownSource string

	decisionHTML     = htmltemplate.Must(htmltemplate.New("decision.html").Parse(decisionHTMLSource))
	decisionMarkdown = texttemplate.Must(texttemplate.New("decision.md").Parse(decisionMarkdownSource))
)

// PageInfo is what the decision page says about itself.
type PageInfo struct {
	Project string    // the project directory or store it was made for
	Made    time.Time // when
}

// WriteDecision writes decision.html and decision.md into dir (created
// as needed) and returns their paths.
func WriteDecision(dir string, rep Report, info PageInfo) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making the report directory: %w", err)
	}
	v := newPage(rep, info)
	var paths []string
	for _, f := range []struct {
		name  string
		write func(io.Writer, *page) error
	}{{DecisionHTML, writeHTML}, {DecisionMarkdown, writeMarkdown}} {
		path := filepath.Join(dir, f.name)
		if err := evaluate.WriteFile(path, func(w io.Writer) error { return f.write(w, v) }); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// WriteDecisionHTML writes the self-contained decision page.
func WriteDecisionHTML(w io.Writer, rep Report, info PageInfo) error {
	return writeHTML(w, newPage(rep, info))
}

// WriteDecisionMarkdown writes the decision page as Markdown.
func WriteDecisionMarkdown(w io.Writer, rep Report, info PageInfo) error {
	return writeMarkdown(w, newPage(rep, info))
}

func writeHTML(w io.Writer, v *page) error { return decisionHTML.Execute(w, v) }

func writeMarkdown(w io.Writer, v *page) error {
	var b bytes.Buffer
	if err := decisionMarkdown.Execute(&b, v); err != nil {
		return err
	}
	// The template's control lines leave runs of blank lines.
	text := b.String()
	for strings.Contains(text, "\n\n\n") {
		text = strings.ReplaceAll(text, "\n\n\n", "\n\n")
	}
	_, err := io.WriteString(w, text)
	return err
}

// page is the report as both templates read it: every figure formatted.
type page struct {
	Project, Made string
	Verdict       string // the headline
	Option        string // rag | fine-tune | hybrid
	Reasons       []string
	Questions     []questionRow
	Runs          []runView
	NoRuns        bool
	Arms          []armRow
	Costs         []costRow
	Volume        string
	BreakEven     string
	BreakEvenWhy  string
	Assumptions   []string
	Chart         htmltemplate.HTML
	Next          NextStep
	Rule          string // the next step's rule, in words
	Cheapest      string // the cheapest option at the volume, with its cost
}

type questionRow struct {
	Text, Answer, Source, Measured, Means string
}

type runView struct {
	Role, ID, Kind, Dataset, When, Source, Settings string
	Questions                                       int
	Metrics                                         []metricRow
}

type metricRow struct{ Name, Mean, Interval string }

type armRow struct {
	Arm, Run, Generator, Accuracy, Interval, Behaviour, Delta, P, Significant string
}

type costRow struct {
	Option, PerRequest, Fixed, Monthly string
	Cheapest                           bool
}

func newPage(rep Report, info PageInfo) *page {
	v := &page{Project: info.Project, Made: info.Made.UTC().Format("2006-01-02 15:04 UTC"), Option: rep.Recommendation,
		Verdict: verdict(rep.Recommendation), Next: rep.Next, Rule: ruleLabel(rep.Next.Rule),
		Volume: thousands(rep.Workload.MonthlyRequests), BreakEvenWhy: sentence(rep.BreakEvenWhy),
		Chart: htmltemplate.HTML(SVG(rep.Workload, rep.Prices))} // SVG escapes its text
	v.BreakEven = "never"
	if rep.BreakEven != nil {
		v.BreakEven = "above " + thousands(*rep.BreakEven) + " requests a month"
	}
	for _, r := range rep.Reasons {
		v.Reasons = append(v.Reasons, sentence(r))
	}
	v.Next.Text = sentence(v.Next.Text)
	for _, q := range rep.Questions {
		v.Questions = append(v.Questions, questionRow{Text: q.Text, Answer: yesNo(q.Answer), Source: sourceLabel(q), Measured: q.Measured, Means: q.Means})
	}
	v.Runs, v.Arms = evidenceViews(rep.Evidence)
	v.NoRuns = len(v.Runs) == 0 && len(v.Arms) == 0
	v.Costs = costRows(rep)
	for _, c := range v.Costs {
		if c.Cheapest {
			v.Cheapest = c.Option + ", " + c.Monthly + " a month"
			break
		}
	}
	v.Assumptions = assumptions(rep)
	return v
}

func verdict(rec string) string {
	switch rec {
	case FineTune:
		return "Fine-tune"
	case Hybrid:
		return "Hybrid: fine-tune for behaviour, retrieve for knowledge"
	}
	return "Use RAG"
}

func sourceLabel(q Question) string {
	switch q.Source {
	case SourceFlag:
		return "your answer (flag)"
	case SourcePrompt:
		return "your answer (asked)"
	case SourceHistory:
		return "measured: ingest history"
	}
	return "given"
}

func ruleLabel(rule string) string {
	switch rule {
	case RuleRetrieval:
		return "Retrieval first"
	case RuleBehaviour:
		return "Fine-tune for behaviour"
	}
	return "Follow the recommendation"
}

// sentence capitalises the first letter of s.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func evidenceViews(ev *Evidence) ([]runView, []armRow) {
	if ev == nil {
		return nil, nil
	}
	var runs []runView
	if ev.QA != nil {
		runs = append(runs, runViewOf("Answers (QA)", *ev.QA))
	}
	if ev.Best != nil {
		runs = append(runs, runViewOf("Best configuration", ev.Best.Run))
	}
	if ev.Retrieval != nil {
		runs = append(runs, runViewOf("Retrieval", *ev.Retrieval))
	}
	var arms []armRow
	for _, a := range ev.Arms {
		row := armRow{Arm: a.Arm, Run: a.Run, Generator: a.Model, Accuracy: fmt.Sprintf("%.3f", a.Accuracy.Mean),
			Interval: interval(a.Accuracy.Interval), Behaviour: "—", Delta: "reference", P: "—", Significant: "—"}
		if a.Behaviour != nil {
			row.Behaviour = fmt.Sprintf("%.0f %%", 100**a.Behaviour)
		}
		if p := a.VsRAG; p != nil {
			row.Delta = fmt.Sprintf("%+.3f (%s)", p.Delta, interval(&p.DeltaCI))
			row.P = fmt.Sprintf("%.3f", p.P)
			row.Significant = yesNo(p.Significant)
		}
		arms = append(arms, row)
	}
	return runs, arms
}

func runViewOf(role string, r RunEvidence) runView {
	v := runView{Role: role, ID: r.ID, Kind: r.Kind, Dataset: r.Dataset, When: r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		Source: r.Source, Questions: r.Questions, Settings: settings(r.Config)}
	for _, m := range r.Metrics {
		v.Metrics = append(v.Metrics, metricRow{Name: m.Name, Mean: fmt.Sprintf("%.3f", m.Mean), Interval: interval(m.Interval)})
	}
	return v
}

// settings names the retrieval settings a run was made with.
func settings(cfg map[string]any) string {
	var parts []string
	for _, k := range []string{"qa_file", "arm", "generator", "mode", "k", "chunk_strategy", "chunk_size", "chunk_overlap", "rerank"} {
		if v, ok := cfg[k]; ok && fmt.Sprint(v) != "" {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	if on, _ := cfg["accepted_only"].(bool); on {
		parts = append(parts, "reviewed items only (accepted)")
	}
	return strings.Join(parts, ", ")
}

func interval(iv *evaluate.Interval) string {
	if iv == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f – %.3f", iv.Lo, iv.Hi)
}

func costRows(rep Report) []costRow {
	pr, fx := perRequest(rep.Workload, rep.Prices), fixed(rep.Workload, rep.Prices)
	m := rep.Monthly
	cheapest := math.Min(m.RAG, math.Min(m.FineTune, m.Hybrid))
	return []costRow{
		{"RAG", perReq(pr.RAG), money(fx.RAG), money(m.RAG), m.RAG == cheapest},
		{"Fine-tune", perReq(pr.FineTune), money(fx.FineTune), money(m.FineTune), m.FineTune == cheapest},
		{"Hybrid", perReq(pr.Hybrid), money(fx.Hybrid), money(m.Hybrid), m.Hybrid == cheapest},
	}
}

func assumptions(rep Report) []string {
	w, p := rep.Workload, rep.Prices
	out := []string{
		fmt.Sprintf("%s prompt + %s retrieved context + %s answer tokens per request", thousands(w.PromptTokens), thousands(w.ContextTokens), thousands(w.OutputTokens)),
		fmt.Sprintf("training run: %s tokens × %g epochs at $%.2f per million; data preparation %s and evaluation %s, spread over %g months",
			thousands(w.TrainingTokens), w.Epochs, p.Training, money(w.DataPrepUSD), money(w.EvaluationUSD), w.AmortiseMonths),
		fmt.Sprintf("retraining %g times a year (training run and evaluation each time)", w.RetrainsPerYear),
		fmt.Sprintf("per million tokens: base $%.2f in / $%.2f out, fine-tuned $%.2f in / $%.2f out (%s)", p.BaseInput, p.BaseOutput, p.TunedInput, p.TunedOutput, rep.PricesAsOf),
	}
	if rep.Measured != nil {
		out = append(out, "token counts per request measured by eval run "+rep.Measured.Run)
	}
	if rep.Prepared != nil {
		out = append(out, "training tokens and epochs from "+rep.Prepared.Path)
	}
	return out
}

func money(x float64) string {
	if x >= 100 {
		return "$" + thousands(x)
	}
	return fmt.Sprintf("$%.2f", x)
}

func perReq(x float64) string { return fmt.Sprintf("$%.6f", x) }

// thousands writes a rounded number with thin groups: 1,250,000.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", math.Round(x))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var groups []string
	for len(s) > 3 {
		groups = append([]string{s[len(s)-3:]}, groups...)
		s = s[:len(s)-3]
	}
	groups = append([]string{s}, groups...)
	out := strings.Join(groups, ",")
	if neg {
		return "-" + out
	}
	return out
}
