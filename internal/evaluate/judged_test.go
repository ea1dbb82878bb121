package evaluate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/judge/judgetest"
	"github.com/ragtune/ragtune/internal/retrieve"
)

var judgedHits = fixedHits{
	{Rank: 1, Hit: corpus.Hit{DocPath: "keys.md", Chunk: corpus.Chunk{ID: "c1", Text: "Signing keys rotate every ninety days."}}},
	{Rank: 2, Hit: corpus.Hit{DocPath: "backup.md", Chunk: corpus.Chunk{ID: "c2", Text: "Backups run nightly at two in the morning."}}},
}

// judgedSet is seven questions whose answers the fake judge and the
// deterministic metrics see alike or differently, on purpose:
//
//	k1 right, cited                         both: correct, faithful
//	k2 negates the gold answer              contains 1, judge incorrect; lexical support passes, judge unsupported
//	k3 right, "As an AI" (rubric fails)     both correct; both unfaithful
//	k4 declined                             correctness 0 without a call
//	k5 MALFORMED                            every judgement fails to parse: 3 errors
//	k6 paraphrase, unsupported              both incorrect, unfaithful
//	k7 part of the gold answer              contains 0, judge partially correct
//	u1 unanswerable, answered               faithfulness and rubric only
func judgedSet() ([]QAItem, map[string]answer.Result) {
	yes, no := true, false
	cite := func(n int, id string) []answer.Citation { return []answer.Citation{{N: n, ChunkID: id}} }
	declined := answer.ReasonUnsupportedAnswer
	items := []QAItem{
		{ID: "k1", Question: "How often do signing keys rotate?", Answers: []string{"ninety days"}, Answerable: &yes},
		{ID: "k2", Question: "Do signing keys rotate?", Answers: []string{"ninety days"}, Answerable: &yes},
		{ID: "k3", Question: "When do backups run?", Answers: []string{"two in the morning"}, Answerable: &yes},
		{ID: "k4", Question: "Who founded the company?", Answers: []string{"Ada"}, Answerable: &yes},
		{ID: "k5", Question: "How long do keys last?", Answers: []string{"ninety days"}, Answerable: &yes},
		{ID: "k6", Question: "How often are keys replaced?", Answers: []string{"ninety days"}, Answerable: &yes},
		{ID: "k7", Question: "At what time do backups run?", Answers: []string{"two in the morning"}, Answerable: &yes},
		{ID: "u1", Question: "What is the office wifi password?", Answerable: &no},
	}
	results := map[string]answer.Result{
		"How often do signing keys rotate?": {Answer: "Signing keys rotate every ninety days [1].", ShortAnswer: "every ninety days", Citations: cite(1, "c1")},
		"Do signing keys rotate?":           {Answer: "Keys do not rotate every ninety days [1].", Citations: cite(1, "c1")},
		"When do backups run?":              {Answer: "As an AI, I know backups run nightly at two in the morning [1].", ShortAnswer: "two in the morning", Citations: cite(1, "c2")},
		"Who founded the company?":          {Answer: answer.Declined, Abstained: true, AbstainReason: &declined},
		"How long do keys last?":            {Answer: "MALFORMED keys rotate every ninety days [1].", Citations: cite(1, "c1")},
		"How often are keys replaced?":      {Answer: "Keys are replaced each quarter [1].", Citations: cite(1, "c1")},
		"At what time do backups run?":      {Answer: "Backups run in the morning [1].", ShortAnswer: "in the morning", Citations: cite(1, "c2")},
		"What is the office wifi password?": {Answer: "Backups run nightly [1].", Citations: cite(1, "c2")},
	}
	return items, results
}

func judgedEval(t *testing.T, srv *judgetest.Server, cfg judge.Config, opts QAOptions) *QAResult {
	t.Helper()
	cfg.BaseURL, cfg.Model, cfg.MaxRetries = srv.BaseURL(), "gpt-4o-mini", 2
	j, err := judge.New(cfg, judge.Options{Prices: answer.DefaultPrices(), Rubric: judge.ParseRubric("- Never say \"As an AI\".\n- At most 12 words.")})
	if err != nil {
		t.Fatal(err)
	}
	items, results := judgedSet()
	opts.Judge = j
	res, err := EvaluateQA(t.Context(), items, judgedHits, func(_ context.Context, q string, _ []retrieve.Hit) (answer.Result, error) {
		return results[q], nil
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestJudgedMetrics(t *testing.T) {
	srv := judgetest.New(t)
	srv.FailNext(429) // one rate-limited call, retried
	res := judgedEval(t, srv, judge.Config{Concurrency: 3}, QAOptions{})
	j := res.Answer.Judge
	if j == nil {
		t.Fatal("no judged metrics")
	}
	b, _ := json.MarshalIndent(j, "", "  ")
	t.Logf("judge metrics: %s", b)
	// Correctness: k1 1, k2 0, k3 1, k4 0 (declined), k6 0, k7 0.5; k5 failed.
	// Against contains (k1 k2 k3 k6 k7 compared): k2 and k7 disagree.
	// Against F1 >= 0.5: all five agree.
	want := map[string]float64{
		"judge_correctness": 2.5 / 6, "judge_agreement_contains": 0.6, "judge_kappa_contains": (0.6 - 0.52) / 0.48,
		"judge_agreement_f1": 1, "judge_kappa_f1": 1, "judge_rubric_pass": 6.0 / 7, "judge_errors": 3, "judge_items": 8,
		// Claims: k1 1/1, k2 0/1, k3 0/1 ("I know" is in no passage), k6 0/1,
		// k7 1/1, u1 1/1. Lexical support fully passes k1 k2 k7 u1: the
		// judge parts with it on k2 only.
		"judge_faithfulness": 0.5, "judge_agreement_faithfulness": 5.0 / 6, "judge_kappa_faithfulness": 2.0 / 3,
	}
	flat := res.Flat()
	for k, v := range want {
		if got, ok := flat[k]; !ok || !near(got, v) {
			t.Errorf("%s = %v (reported %v), want %v", k, got, ok, v)
		}
	}
	for k := range flat {
		if !KnownMetric("qa", k) {
			t.Errorf("%s is reported but --fail-under cannot gate it", k)
		}
	}
	if failed := (Gates{"judge_correctness": 0.7}).Check(flat); len(failed) != 1 {
		t.Errorf("gate judge_correctness=0.7 must fail at %.3f: %v", flat["judge_correctness"], failed)
	}
	if j.Model != "gpt-4o-mini" || j.PromptVersion != judge.PromptVersion || len(j.RubricSHA256) != 16 || j.Calls != 21 ||
		j.TokensIn == 0 || j.CostUSD <= 0 || len(j.RubricCriteria) != 2 || j.RubricCriteria[0].Pass != 6.0/7 {
		t.Errorf("judge record %+v", j)
	}
	if n := len(srv.Requests()); n != j.Calls+1 {
		t.Errorf("%d requests for %d calls and one 429", n, j.Calls)
	}
	var lines strings.Builder
	if err := WritePerItem(&lines, res); err != nil {
		t.Fatal(err)
	}
	per := strings.Split(strings.TrimSpace(lines.String()), "\n")
	if !strings.Contains(per[1], `"agrees_contains":false`) || !strings.Contains(per[1], `"agrees_faithfulness":false`) ||
		!strings.Contains(per[4], `"errors":[`) || strings.Contains(per[4], `"correctness"`) {
		t.Errorf("per-item lines:\n%s\n%s", per[1], per[4])
	}
	if res.PerQueryScores()["k7"]["judge_correctness"] != 0.5 {
		t.Errorf("per-query judge score %v", res.PerQueryScores()["k7"])
	}
}

// max_items judges a spread sample; closed-book answers are not checked
// for faithfulness; without a judge nothing judged is reported.
func TestJudgedSampleAndClosedBook(t *testing.T) {
	srv := judgetest.New(t)
	res := judgedEval(t, srv, judge.Config{MaxItems: 2}, QAOptions{ClosedBook: true})
	j := res.Answer.Judge
	if j.Items != 2 || res.PerItem[0].Judge == nil || res.PerItem[4].Judge == nil || res.PerItem[1].Judge != nil || j.Faithfulness != nil {
		t.Errorf("sample of 2, closed book: %+v", j)
	}
	items, results := judgedSet()
	plain, err := EvaluateQA(t.Context(), items, judgedHits, func(_ context.Context, q string, _ []retrieve.Hit) (answer.Result, error) {
		return results[q], nil
	}, QAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range plain.Flat() {
		if strings.HasPrefix(k, "judge_") {
			t.Errorf("%s reported without a judge", k)
		}
	}
	if _, ok := plain.Answer.Map()["judge_correctness"]; ok {
		t.Error("judge figures in the arms map without a judge")
	}
}

func TestKappa(t *testing.T) {
	var g agreement
	for _, p := range [][2]bool{{true, true}, {true, false}, {false, false}, {false, false}} {
		g.add(p[0], p[1])
	}
	// po = 3/4; pa = 1/2, pb = 1/4; pe = 1/8 + 3/8 = 1/2; kappa = 1/2.
	if !near(*g.rate(), 0.75) || !near(*g.kappa(), 0.5) {
		t.Errorf("rate %v kappa %v", *g.rate(), *g.kappa())
	}
	var same agreement
	same.add(true, true)
	if same.kappa() != nil {
		t.Error("kappa is undefined when both raters never vary")
	}
}

// The run report names the judge, the agreement figures and the
// questions where the judge and the deterministic metrics disagree.
func TestJudgedReport(t *testing.T) {
	res := judgedEval(t, judgetest.New(t), judge.Config{}, QAOptions{})
	r := QAReport("qa", res, res.Flat())
	var md, html strings.Builder
	if err := WriteRunMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteRunHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"judged by gpt-4o-mini, prompts " + judge.PromptVersion, "vs contains: agree on 0.600 of 5 questions (Cohen's kappa 0.167)",
		"| Do signing keys rotate? | contains | 1.000 | incorrect | the answer negates the gold answer |",
		"| Do signing keys rotate? | faithfulness | 1.000 | 0.00 of 1 claims supported |", "| At what time do backups run? | contains | 0.000 | partially_correct |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	chart := html.String()[:strings.Index(html.String(), "Per query")]
	if !strings.Contains(html.String(), "Where the judge and the deterministic metrics disagree") || strings.Contains(chart, "judge_errors") || !strings.Contains(chart, "judge_correctness") {
		t.Errorf("html judge section or chart wrong")
	}
}

// A judge that refuses every call (an unknown model) leaves the answers,
// made and paid for, in the result, unjudged, with the reason.
func TestJudgeFailureKeepsTheAnswers(t *testing.T) {
	srv := judgetest.New(t)
	j, err := judge.New(judge.Config{BaseURL: srv.BaseURL(), Model: "missing-model"}, judge.Options{Prices: answer.DefaultPrices()})
	if err != nil {
		t.Fatal(err)
	}
	items, results := judgedSet()
	res, err := EvaluateQA(t.Context(), items, judgedHits, func(_ context.Context, q string, _ []retrieve.Hit) (answer.Result, error) {
		return results[q], nil
	}, QAOptions{Judge: j})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Answer.Judge
	if len(res.PerItem) != len(items) || m == nil || !strings.Contains(m.Failed, "404") || m.Correctness != nil {
		t.Fatalf("items %d, judge %+v", len(res.PerItem), m)
	}
	if failed := (Gates{"judge_correctness": 0.5}).Check(res.Flat()); len(failed) != 1 {
		t.Fatalf("a gate on an unjudged run: %v", failed)
	}
	// The report says it was not judged, not "0 failed judgements".
	if jr := QAReport("t", res, nil).Judge; jr == nil || len(jr.Summary) != 1 || !strings.HasPrefix(jr.Summary[0], "not judged") {
		t.Fatalf("report of an unjudged run: %+v", jr)
	}
}
