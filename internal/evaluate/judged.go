package evaluate

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// JudgeMetrics are the judged figures of a QA run, with what they were
// judged by. A nil figure had nothing to judge (no gold answers, no
// passages, no rubric) or every judgement of it failed.
type JudgeMetrics struct {
	Model         string `json:"model"`
	PromptVersion string `json:"prompt_version"`
	RubricSHA256  string `json:"rubric_sha256,omitempty"`
	// Items is how many questions were judged (judge.max_items caps it);
	// Errors counts the judgements that failed or did not parse, and so
	// were not scored.
	Items  int `json:"items"`
	Errors int `json:"errors"`
	// Failed says why no answer was judged (a refused key, an unknown
	// model): the run keeps its other figures, and judged gates fail as
	// not measured.
	Failed string `json:"failed,omitempty"`
	// Correctness is the mean grade (1, 0.5, 0) of the answerable
	// questions with gold answers, a declined one scoring 0.
	Correctness *float64 `json:"correctness"`
	// Faithfulness is the share of the answers' claims a passage
	// supports, over answered questions with passages.
	Faithfulness *float64 `json:"faithfulness"`
	// RubricPass is the share of questions whose answer passed every
	// rubric criterion; RubricCriteria has each criterion's pass rate.
	RubricPass     *float64        `json:"rubric_pass"`
	RubricCriteria []CriterionRate `json:"rubric_criteria,omitempty"`
	// Agreement with the deterministic metrics on the same questions:
	// the judge's correct (grade >= 0.5) against contains = 1 and against
	// F1 >= 0.5, and its fully supported answers against those whose
	// every sentence passes the lexical support check; each with Cohen's
	// kappa (nil when one side never varies) and the number compared.
	AgreementContains     *float64 `json:"agreement_contains"`
	AgreementF1           *float64 `json:"agreement_f1"`
	AgreementFaithfulness *float64 `json:"agreement_faithfulness"`
	KappaContains         *float64 `json:"kappa_contains"`
	KappaF1               *float64 `json:"kappa_f1"`
	KappaFaithfulness     *float64 `json:"kappa_faithfulness"`
	ComparedCorrectness   int      `json:"compared_correctness"`
	ComparedFaithfulness  int      `json:"compared_faithfulness"`
	// What judging cost, for the whole run.
	Calls     int     `json:"calls"`
	TokensIn  int     `json:"tokens_in"`
	TokensOut int     `json:"tokens_out"`
	CostUSD   float64 `json:"cost_usd"`
}

// CriterionRate is one rubric criterion's pass rate.
type CriterionRate struct {
	ID        string  `json:"id"`
	Criterion string  `json:"criterion"`
	Pass      float64 `json:"pass"`
}

// ItemJudge is the judge's verdict on one question, and whether it
// agrees with the deterministic metrics (nil: not compared).
type ItemJudge struct {
	judge.Verdict
	AgreesContains     *bool `json:"agrees_contains,omitempty"`
	AgreesF1           *bool `json:"agrees_f1,omitempty"`
	AgreesFaithfulness *bool `json:"agrees_faithfulness,omitempty"`
}

// judgeItem is what the judge sees of one answered question: the gold
// answers when it should be answered, and the passages the answer cites
// (all of those it was given when it cites none; none for a closed-book
// answer, which had nothing to be faithful to).
func judgeItem(item QAItem, ans answer.Result, hits []retrieve.Hit, closedBook bool) judge.Item {
	it := judge.Item{Question: item.Question, Answer: ans.Answer, Declined: ans.Abstained}
	if item.ShouldAnswer() {
		it.Gold = item.Answers
	}
	if closedBook || ans.Abstained {
		return it
	}
	byID := map[string]string{}
	for _, h := range hits {
		byID[h.ID] = h.Text
	}
	for _, c := range ans.Citations {
		if text, ok := byID[c.ChunkID]; ok {
			it.Passages = append(it.Passages, judge.Passage{N: c.N, Text: text})
		}
	}
	if len(ans.Citations) == 0 {
		for i, h := range hits {
			it.Passages = append(it.Passages, judge.Passage{N: i + 1, Text: h.Text})
		}
	}
	return it
}

// judgeSample is the indices of the items to judge: every one, or max
// of them spread evenly.
func judgeSample(n, max int) []int {
	if max <= 0 || max > n {
		max = n
	}
	idx := make([]int, max)
	for i := range max {
		idx[i] = i * n / max
	}
	return idx
}

// runJudge judges the sampled items, attaches each verdict to its item
// result and fills res.Answer.Judge.
func runJudge(ctx context.Context, res *QAResult, items []judge.Item, opts QAOptions) error {
	j := opts.Judge
	sample := judgeSample(len(items), j.MaxItems())
	batch := make([]judge.Item, len(sample))
	for i, idx := range sample {
		batch[i] = items[idx]
	}
	verdicts, err := j.GradeAll(ctx, batch, opts.JudgeProgress)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("judging answers: %w", err)
		}
		// The answers are made and paid for: keep them, unjudged, and say why.
		res.Answer.Judge = &JudgeMetrics{Model: j.Model(), PromptVersion: judge.PromptVersion, Failed: err.Error()}
		return nil
	}
	var acc judgeAccumulator
	for i, idx := range sample {
		r := &res.PerItem[idx]
		r.Judge = acc.add(verdicts[i], *r, batch[i])
	}
	res.Answer.Judge = acc.finish(j)
	return nil
}

// judgeAccumulator sums verdicts into JudgeMetrics.
type judgeAccumulator struct {
	items, errors           int
	grades                  []float64
	claims, supported       int
	rubricItems, rubricPass int
	criterionPass           map[string]int
	contains, f1, faithful  agreement
	usage                   judge.Usage
}

func (a *judgeAccumulator) add(v judge.Verdict, r ItemResult, it judge.Item) *ItemJudge {
	a.items++
	a.errors += len(v.Errors)
	a.usage.Calls += v.Usage.Calls
	a.usage.PromptTokens += v.Usage.PromptTokens
	a.usage.CompletionTokens += v.Usage.CompletionTokens
	a.usage.CostUSD += v.Usage.CostUSD
	out := &ItemJudge{Verdict: v}
	if c := v.Correctness; c != nil {
		a.grades = append(a.grades, c.Grade)
		if c.Called {
			out.AgreesContains = a.contains.add(c.Grade >= 0.5, r.Contains == 1)
			out.AgreesF1 = a.f1.add(c.Grade >= 0.5, r.F1 >= 0.5)
		}
	}
	for _, c := range v.Claims {
		a.claims++
		if c.Supported {
			a.supported++
		}
	}
	if v.Faithfulness != nil && r.Faithfulness != nil {
		out.AgreesFaithfulness = a.faithful.add(*v.Faithfulness == 1, *r.Faithfulness == 1)
	}
	if v.RubricPass != nil {
		a.rubricItems++
		if *v.RubricPass {
			a.rubricPass++
		}
		if a.criterionPass == nil {
			a.criterionPass = map[string]int{}
		}
		for _, c := range v.Rubric {
			if c.Pass {
				a.criterionPass[c.ID]++
			}
		}
	}
	return out
}

func (a *judgeAccumulator) finish(j *judge.Judge) *JudgeMetrics {
	m := &JudgeMetrics{Model: j.Model(), PromptVersion: judge.PromptVersion, RubricSHA256: j.Rubric().Hash(),
		Items: a.items, Errors: a.errors, Faithfulness: optRatio(a.supported, a.claims), RubricPass: optRatio(a.rubricPass, a.rubricItems),
		AgreementContains: a.contains.rate(), AgreementF1: a.f1.rate(), AgreementFaithfulness: a.faithful.rate(),
		KappaContains: a.contains.kappa(), KappaF1: a.f1.kappa(), KappaFaithfulness: a.faithful.kappa(),
		ComparedCorrectness: a.contains.n, ComparedFaithfulness: a.faithful.n,
		Calls: a.usage.Calls, TokensIn: a.usage.PromptTokens, TokensOut: a.usage.CompletionTokens, CostUSD: a.usage.CostUSD}
	if len(a.grades) > 0 {
		sum := 0.0
		for _, g := range a.grades {
			sum += g
		}
		c := sum / float64(len(a.grades))
		m.Correctness = &c
	}
	if a.rubricItems > 0 {
		for i, c := range j.Rubric().Criteria {
			id := fmt.Sprintf("R%d", i+1)
			m.RubricCriteria = append(m.RubricCriteria, CriterionRate{ID: id, Criterion: c, Pass: ratio(a.criterionPass[id], a.rubricItems)})
		}
	}
	return m
}

// agreement counts paired yes/no judgements of two raters.
type agreement struct{ n, agree, yesA, yesB int }

func (g *agreement) add(a, b bool) *bool {
	g.n++
	if a == b {
		g.agree++
	}
	if a {
		g.yesA++
	}
	if b {
		g.yesB++
	}
	same := a == b
	return &same
}

func (g agreement) rate() *float64 { return optRatio(g.agree, g.n) }

// kappa is Cohen's kappa: agreement beyond what the raters' own rates
// of yes would give by chance; nil when chance agreement is certain.
func (g agreement) kappa() *float64 {
	if g.n == 0 {
		return nil
	}
	n := float64(g.n)
	pa, pb := float64(g.yesA)/n, float64(g.yesB)/n
	pe := pa*pb + (1-pa)*(1-pb)
	if pe >= 1 {
		return nil
	}
	k := (float64(g.agree)/n - pe) / (1 - pe)
	return &k
}

// judgeFlat are the judged figures under the names gates use.
func (m *JudgeMetrics) flat() map[string]*float64 {
	f := func(v float64) *float64 { return &v }
	return map[string]*float64{"judge_correctness": m.Correctness, "judge_faithfulness": m.Faithfulness, "judge_rubric_pass": m.RubricPass,
		"judge_agreement_contains": m.AgreementContains, "judge_agreement_f1": m.AgreementF1, "judge_agreement_faithfulness": m.AgreementFaithfulness,
		"judge_kappa_contains": m.KappaContains, "judge_kappa_f1": m.KappaF1, "judge_kappa_faithfulness": m.KappaFaithfulness,
		"judge_items": f(float64(m.Items)), "judge_errors": f(float64(m.Errors)), "judge_calls": f(float64(m.Calls)),
		"judge_tokens_in": f(float64(m.TokensIn)), "judge_tokens_out": f(float64(m.TokensOut)), "judge_cost_usd": f(m.CostUSD)}
}

// judgeMetricNames are the names of the judged figures.
var judgeMetricNames = []string{"judge_correctness", "judge_faithfulness", "judge_rubric_pass",
	"judge_agreement_contains", "judge_agreement_f1", "judge_agreement_faithfulness",
	"judge_kappa_contains", "judge_kappa_f1", "judge_kappa_faithfulness",
	"judge_items", "judge_errors", "judge_calls", "judge_tokens_in", "judge_tokens_out", "judge_cost_usd"}
