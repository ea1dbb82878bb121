package evaluate

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
)

// RunReport is what a single eval run's report shows.
type RunReport struct {
	Title     string
	Kind      string
	Metrics   map[string]float64
	CurveName string // "recall@k" or "has_answer@k"
	CurveK    []float64
	Curve     []float64
	Latencies []float64
	Columns   []string // per-query score columns
	Rows      []ReportRow
	Judge     *JudgeReport // QA runs with a judge
}

// JudgeReport is the judge's part of a QA report: who judged, how often
// it agreed with the deterministic metrics, and where it did not.
type JudgeReport struct {
	Summary       []string
	Disagreements []Disagreement
}

// Disagreement is a question on which the judge and a deterministic
// metric disagree.
type Disagreement struct {
	ID, Question  string
	Metric        string // contains or faithfulness
	Deterministic float64
	Judge         string
	Why           string
}

// ReportRow is one query in the per-query table.
type ReportRow struct {
	ID      string
	Text    string
	Scores  []float64
	Detail  string   // the answer, for QA
	Sources []string // retrieved documents, "✓" marking relevant ones
}

// curveKs are the cutoffs of recall curves.
var curveKs = []int{1, 3, 5, 10, 20, 50, 100}

// RetrievalReport builds the report of a retrieval run.
func RetrievalReport(title string, ds *Dataset, res *RetrievalResult) RunReport {
	r := RunReport{Title: title, Kind: "retrieval", Metrics: res.Metrics, CurveName: "recall@k", Columns: []string{"ndcg@10", "recall@100", "mrr@10"}}
	var ms []Metric
	for _, k := range curveKs {
		ms = append(ms, Metric{"recall", k})
	}
	curve, _ := Evaluate(res.Run, ds.Qrels, ms)
	for _, m := range ms {
		r.CurveK = append(r.CurveK, float64(m.K))
		r.Curve = append(r.Curve, curve[m.String()])
	}
	for _, q := range ds.Queries {
		scores, ok := res.PerQuery[q.ID]
		if !ok {
			continue
		}
		row := ReportRow{ID: q.ID, Text: q.Text}
		for _, c := range r.Columns {
			row.Scores = append(row.Scores, scores[c])
		}
		for _, d := range res.Run[q.ID][:min(3, len(res.Run[q.ID]))] {
			mark := ""
			if ds.Qrels[q.ID][d.DocID] > 0 {
				mark = " ✓"
			}
			row.Sources = append(row.Sources, d.DocID+mark)
		}
		r.Rows = append(r.Rows, row)
		r.Latencies = append(r.Latencies, res.Latencies[q.ID])
	}
	return r
}

// QAReport builds the report of a QA run.
func QAReport(title string, res *QAResult, metrics map[string]float64) RunReport {
	r := RunReport{Title: title, Kind: "qa", Metrics: metrics, CurveName: "has_answer@k", Columns: []string{"contains", "f1"}}
	for _, k := range []int{1, 3, 5, 10} {
		if v, ok := res.Retrieval[fmt.Sprintf("has_answer@%d", k)]; ok {
			r.CurveK, r.Curve = append(r.CurveK, float64(k)), append(r.Curve, v)
		}
	}
	for _, it := range res.PerItem {
		detail := it.Answer
		if it.Abstained {
			detail = "declined (" + it.AbstainReason + ")"
		}
		scores := []float64{it.Contains, it.F1}
		if !it.Answerable {
			// SQuAD 2.0's convention: declining an unanswerable question is
			// the right answer, answering it the wrong one.
			scores = []float64{0, 0}
			if it.Abstained {
				scores = []float64{1, 1}
			}
		}
		r.Rows = append(r.Rows, ReportRow{ID: it.ID, Text: it.Question, Scores: scores, Detail: detail, Sources: it.Cited})
		r.Latencies = append(r.Latencies, it.LatencyMS)
	}
	if res.Answer.Judge != nil {
		r.Judge = judgeReport(res)
	}
	return r
}

func judgeReport(res *QAResult) *JudgeReport {
	j := res.Answer.Judge
	if j.Failed != "" {
		return &JudgeReport{Summary: []string{fmt.Sprintf("not judged: the judge %s failed (%s); the answers are scored without it", j.Model, j.Failed)}}
	}
	rubric := ""
	if j.RubricSHA256 != "" {
		rubric = ", rubric " + j.RubricSHA256
	}
	jr := &JudgeReport{Summary: []string{
		fmt.Sprintf("judged by %s, prompts %s%s: %d questions, %d failed judgements, %d calls, %d + %d tokens, $%.4f",
			j.Model, j.PromptVersion, rubric, j.Items, j.Errors, j.Calls, j.TokensIn, j.TokensOut, j.CostUSD),
		agreementLine("correctness (grade >= 0.5) vs contains", j.AgreementContains, j.KappaContains, j.ComparedCorrectness),
		agreementLine("correctness (grade >= 0.5) vs F1 >= 0.5", j.AgreementF1, j.KappaF1, j.ComparedCorrectness),
		agreementLine("every claim supported vs every sentence lexically supported", j.AgreementFaithfulness, j.KappaFaithfulness, j.ComparedFaithfulness),
	}}
	for _, it := range res.PerItem {
		v := it.Judge
		if v == nil {
			continue
		}
		if v.AgreesContains != nil && !*v.AgreesContains {
			jr.Disagreements = append(jr.Disagreements, Disagreement{ID: it.ID, Question: it.Question, Metric: "contains",
				Deterministic: it.Contains, Judge: v.Correctness.Label, Why: v.Correctness.Reason})
		}
		if v.AgreesFaithfulness != nil && !*v.AgreesFaithfulness {
			d := Disagreement{ID: it.ID, Question: it.Question, Metric: "faithfulness", Deterministic: *it.Faithfulness,
				Judge: fmt.Sprintf("%.2f of %d claims supported", *v.Faithfulness, len(v.Claims))}
			for _, c := range v.Claims {
				if !c.Supported {
					d.Why = "unsupported: " + c.Text
					break
				}
			}
			jr.Disagreements = append(jr.Disagreements, d)
		}
	}
	return jr
}

func agreementLine(what string, rate, kappa *float64, n int) string {
	if rate == nil {
		return what + ": nothing to compare"
	}
	k := "n/a"
	if kappa != nil {
		k = fmt.Sprintf("%.3f", *kappa)
	}
	return fmt.Sprintf("%s: agree on %.3f of %d questions (Cohen's kappa %s)", what, *rate, n, k)
}

// WriteRunMarkdown writes the report as Markdown (metrics and the worst
// queries; the HTML report has them all).
func WriteRunMarkdown(w io.Writer, r RunReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n| metric | value |\n|---|---:|\n", r.Title)
	for _, k := range sortedKeys(r.Metrics) {
		fmt.Fprintf(&b, "| %s | %.4f |\n", k, r.Metrics[k])
	}
	if len(r.Curve) > 0 {
		fmt.Fprintf(&b, "\n%s: ", r.CurveName)
		for i := range r.Curve {
			fmt.Fprintf(&b, "@%g %.3f  ", r.CurveK[i], r.Curve[i])
		}
		b.WriteString("\n")
	}
	rows := worstFirst(r.Rows)
	fmt.Fprintf(&b, "\n## Weakest queries (by %s)\n\n| query | %s | top sources |\n|---|%s---|\n", r.Columns[0], strings.Join(r.Columns, " | "), strings.Repeat("---:|", len(r.Columns)))
	for _, row := range rows[:min(20, len(rows))] {
		fmt.Fprintf(&b, "| %s |", strings.ReplaceAll(shorten(row.Text, 80), "|", `\|`))
		for _, v := range row.Scores {
			fmt.Fprintf(&b, " %.3f |", v)
		}
		fmt.Fprintf(&b, " %s |\n", strings.Join(row.Sources, ", "))
	}
	if j := r.Judge; j != nil {
		b.WriteString("\n## Judge\n\n")
		for _, l := range j.Summary {
			b.WriteString("- " + l + "\n")
		}
		if len(j.Disagreements) > 0 {
			b.WriteString("\n### Where the judge and the deterministic metrics disagree\n\n| query | metric | deterministic | judge | why |\n|---|---|---:|---|---|\n")
			for _, d := range j.Disagreements {
				fmt.Fprintf(&b, "| %s | %s | %.3f | %s | %s |\n", mdCell(shorten(d.Question, 80)), d.Metric, d.Deterministic, mdCell(d.Judge), mdCell(shorten(d.Why, 120)))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

func worstFirst(rows []ReportRow) []ReportRow {
	out := append([]ReportRow(nil), rows...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Scores[0] < out[j].Scores[0] })
	return out
}

var runTemplate = template.Must(template.New("run").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.R.Title}}</title><style>` + reportCSS + `</style></head><body>
<h1>{{.R.Title}}</h1>
{{.MetricChart}}
{{.CurveChart}}
{{.LatencyChart}}
<h2>Per query (weakest first)</h2>
<table><tr><th>id</th><th>query</th>{{range .R.Columns}}<th>{{.}}</th>{{end}}{{if eq .R.Kind "qa"}}<th>answer</th>{{end}}<th>sources</th></tr>
{{range .Rows}}<tr><td class="s">{{.ID}}</td><td class="s">{{.Text}}</td>{{range .Scores}}<td>{{printf "%.3f" .}}</td>{{end}}{{if eq $.R.Kind "qa"}}<td class="s">{{.Detail}}</td>{{end}}<td class="s">{{range $i, $s := .Sources}}{{if $i}}, {{end}}{{$s}}{{end}}</td></tr>
{{end}}</table>
{{with .R.Judge}}<h2>Judge</h2>
<ul>{{range .Summary}}<li>{{.}}</li>{{end}}</ul>
{{if .Disagreements}}<h3>Where the judge and the deterministic metrics disagree</h3>
<table><tr><th>id</th><th>query</th><th>metric</th><th>deterministic</th><th>judge</th><th>why</th></tr>
{{range .Disagreements}}<tr><td class="s">{{.ID}}</td><td class="s">{{.Question}}</td><td class="s">{{.Metric}}</td><td>{{printf "%.3f" .Deterministic}}</td><td class="s">{{.Judge}}</td><td class="s">{{.Why}}</td></tr>
{{end}}</table>{{end}}{{end}}
</body></html>
`))

// notAScore are figures that are not on the 0–1 score axis of the metric
// chart, even when they happen to be below 1.
var notAScore = map[string]bool{"tokens_in": true, "tokens_out": true, "cost_usd": true, "judge_items": true, "judge_errors": true,
	"judge_calls": true, "judge_tokens_in": true, "judge_tokens_out": true, "judge_cost_usd": true,
	"judge_kappa_contains": true, "judge_kappa_f1": true, "judge_kappa_faithfulness": true}

// WriteRunHTML writes the report as self-contained HTML.
func WriteRunHTML(w io.Writer, r RunReport) error {
	var bars []Bar
	for _, k := range sortedKeys(r.Metrics) {
		if v := r.Metrics[k]; v <= 1 && !strings.HasPrefix(k, "has_answer_rank") && !notAScore[k] {
			bars = append(bars, Bar{Label: k, Value: v})
		}
	}
	return runTemplate.Execute(w, map[string]any{
		"R":            r,
		"Rows":         worstFirst(r.Rows),
		"MetricChart":  BarChart("Metrics", bars, "%.3f", false),
		"CurveChart":   LineChart(r.CurveName, r.CurveK, r.Curve),
		"LatencyChart": Histogram("Latency per query", r.Latencies, 10, "ms"),
	})
}
