package evaluate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// The four arms of a fine-tune-or-RAG comparison.
const (
	ArmBase     = "base"
	ArmBaseRAG  = "base+rag"
	ArmTuned    = "fine-tuned"
	ArmTunedRAG = "fine-tuned+rag"
)

// Arms lists the arms in the order they are run and shown.
var Arms = []string{ArmBase, ArmBaseRAG, ArmTuned, ArmTunedRAG}

// ArmResult is one arm's outcome; Skipped says why an arm did not run.
type ArmResult struct {
	Arm       string         `json:"arm"`
	RAG       bool           `json:"rag"`
	Model     string         `json:"model,omitempty"`
	Generator string         `json:"generator,omitempty"`
	Skipped   string         `json:"skipped,omitempty"`
	RunID     string         `json:"run_id,omitempty"`
	Answer    map[string]any `json:"answer,omitempty"`
	// CI holds the 95% bootstrap intervals of the figures scored per
	// question (em, f1, contains; answer_or_decline_accuracy on sets
	// with unanswerable questions).
	CI map[string]Interval `json:"ci,omitempty"`
	// Versus tests this arm against the reference arm per question.
	Versus    *ArmTest               `json:"versus,omitempty"`
	LatencyMS *Latency               `json:"latency_ms,omitempty"`
	PerQuery  map[string]QueryScores `json:"-"`
}

// ArmTest is the paired test of an arm against the reference arm on one
// metric over the questions both answered (Delta: this arm minus the
// reference), Holm-adjusted over the arms tested.
type ArmTest struct {
	Against string `json:"against"`
	Paired
}

// ArmModels is what the arms can be run with.
type ArmModels struct {
	Endpoint bool   // a chat endpoint is configured
	Base     string // the base chat model ("" if none)
	Tuned    string // the fine-tuned chat model ("" if none)
}

// ArmPlan says how one arm runs: with which model (empty for the
// built-in answerer), closed-book or not, or why it cannot run.
type ArmPlan struct {
	Arm        string
	Model      string
	ClosedBook bool // the model is asked without the retrieved passages
	Skipped    string
}

// PlanArm decides how arm runs with the models at hand. An arm whose
// model is not configured is skipped, never guessed; without any chat
// endpoint base+rag runs with the built-in answerer.
func PlanArm(arm string, m ArmModels) ArmPlan {
	p := ArmPlan{Arm: arm, ClosedBook: arm == ArmBase || arm == ArmTuned}
	model := m.Base
	if arm == ArmTuned || arm == ArmTunedRAG {
		model = m.Tuned
	}
	switch {
	case !m.Endpoint && arm == ArmBaseRAG:
		// offline: RAG with the extractive answerer
	case !m.Endpoint:
		p.Skipped = "no chat endpoint: set [generate.openai] base_url"
	case model == "" && (arm == ArmTuned || arm == ArmTunedRAG):
		p.Skipped = "no fine-tuned model: pass --tuned-model or finish a job with 'ragtune tune start'"
	case model == "":
		p.Skipped = "no base model: set [generate.openai] model or pass --base-model"
	default:
		p.Model = model
	}
	return p
}

// ArmOutcome is the ArmResult of a plan that ran as run (with record ID
// runID): arms without passages report no faithfulness or citation
// figures, since nothing was given to be faithful to or to cite.
func ArmOutcome(p ArmPlan, res *QAResult, generator, runID string) ArmResult {
	r := ArmResult{Arm: p.Arm, RAG: !p.ClosedBook, Model: p.Model, Skipped: p.Skipped}
	if res == nil {
		return r
	}
	r.Generator, r.RunID, r.LatencyMS = generator, runID, &res.LatencyMS
	r.PerQuery = res.PerQueryScores()
	r.CI = cellIntervals(r.PerQuery, "em", "f1", "contains", "answer_or_decline_accuracy")
	r.Answer = map[string]any{}
	for k, v := range res.Answer.Map() {
		r.Answer[k] = v
	}
	if !r.RAG {
		for _, k := range []string{"faithfulness", "citation_precision", "citation_recall", "judge_faithfulness", "judge_agreement_faithfulness", "judge_kappa_faithfulness"} {
			r.Answer[k] = nil
		}
	}
	return r
}

// CompareArms tests every arm that ran against the reference arm on metric,
// per question, Holm-adjusted over the arms tested; nothing is tested
// when the reference did not run.
func CompareArms(results []ArmResult, reference, metric string) {
	var ref *ArmResult
	for i := range results {
		if results[i].Arm == reference && results[i].Skipped == "" {
			ref = &results[i]
		}
	}
	if ref == nil {
		return
	}
	var family []*Paired
	for i := range results {
		r := &results[i]
		if r == ref || r.Skipped != "" {
			continue
		}
		r.Versus = &ArmTest{Against: reference, Paired: ComparePerQuery(ref.PerQuery, r.PerQuery, metric)}
		if r.Versus.N > 0 {
			family = append(family, &r.Versus.Paired)
		}
	}
	Holm(family)
}

var armColumns = []struct{ key, title, format string }{
	{"em", "EM", "%.3f"}, {"f1", "F1", "%.3f"}, {"contains", "contains", "%.3f"}, {"faithfulness", "faithful", "%.3f"},
	{"citation_precision", "cite prec", "%.3f"}, {"abstention_f1", "abstain F1", "%.3f"}, {"behaviour_pass", "behaviour", "%.3f"},
	{"tokens_in", "tokens in", "%.0f"}, {"tokens_out", "tokens out", "%.0f"}, {"cost_usd", "$/request", "%.5f"},
}

// judgeColumns are shown when a judge graded at least one arm.
var judgeColumns = []struct{ key, title, format string }{
	{"judge_correctness", "judge correct", "%.3f"}, {"judge_faithfulness", "judge faithful", "%.3f"}, {"judge_rubric_pass", "judge rubric", "%.3f"},
}

// WriteArmsTable prints the arms side by side, as Markdown or plain text.
func WriteArmsTable(w io.Writer, results []ArmResult, markdown bool) error {
	columns := armColumns
	for _, r := range results {
		if _, judged := r.Answer["judge_items"]; judged {
			// before the three token and cost columns
			columns = slices.Concat(armColumns[:len(armColumns)-3], judgeColumns, armColumns[len(armColumns)-3:])
			break
		}
	}
	head := []string{"arm", "model"}
	for _, c := range columns {
		head = append(head, c.title)
	}
	against, metric := armReference(results)
	if against != "" {
		head = append(head, "vs "+against)
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
			for range len(head) - 2 {
				row = append(row, "skipped")
			}
			rows = append(rows, row)
			continue
		}
		for _, c := range columns {
			v, ok := r.Answer[c.key].(float64)
			if !ok {
				row = append(row, "n/a")
				continue
			}
			if iv, ok := r.CI[c.key]; ok && c.key == PrimaryMetric("qa") {
				row = append(row, fmt.Sprintf(c.format+" [%.2f, %.2f]", v, iv.Lo, iv.Hi))
				continue
			}
			row = append(row, fmt.Sprintf(c.format, v))
		}
		if against != "" {
			row = append(row, r.versusText())
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
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
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
	if against != "" {
		fmt.Fprintf(&b, "\nvs %s: %s per question, this arm minus %s; paired randomisation test, p Holm-adjusted over the arms tested; n.s.: not significant at %g. Intervals: 95%% bootstrap over the questions.\n", against, metric, against, DefaultAlpha)
	}
	b.WriteString("\nn/a: not measurable for that arm (no passages to be faithful to or cite, or no unanswerable/behaviour items in the set).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// armReference is the arm the others were tested against, and on which
// metric ("" when none was).
func armReference(results []ArmResult) (against, metric string) {
	for _, r := range results {
		if r.Versus != nil {
			return r.Versus.Against, r.Versus.Metric
		}
	}
	return "", ""
}

// versusText is the arm's difference from the reference for the table:
// "+0.150, p < 0.001", "-0.020, p = 0.41 n.s.", "—" for the reference.
func (r ArmResult) versusText() string {
	t := r.Versus
	switch {
	case t == nil:
		return "—"
	case t.N == 0:
		return "untested"
	case t.Significant:
		return fmt.Sprintf("%+.3f, %s", t.Delta, PText(t.AdjustedP()))
	default:
		return fmt.Sprintf("%+.3f, %s n.s.", t.Delta, PText(t.AdjustedP()))
	}
}
