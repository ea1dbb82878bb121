package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// SQuAD's official evaluation script defines these; the expected values
// follow from its normalisation (lower case, no punctuation, no articles).
func TestSQuADMetrics(t *testing.T) {
	tests := []struct {
		pred  string
		golds []string
		em    float64
		f1    float64
	}{
		{"The Denver Broncos!", []string{"Denver Broncos"}, 1, 1},
		{"Denver Broncos defeated the Panthers", []string{"Denver Broncos"}, 0, 2 * (2.0 / 4) * 1 / (2.0/4 + 1)},
		{"Carolina", []string{"Denver Broncos", "Carolina Panthers"}, 0, 2 * 1 * 0.5 / 1.5},
		{"", []string{"x"}, 0, 0},
		{"a an the", []string{""}, 1, 1},
	}
	for _, tc := range tests {
		if em := ExactMatch(tc.pred, tc.golds); em != tc.em {
			t.Errorf("EM(%q) = %v, want %v", tc.pred, em, tc.em)
		}
		if f1 := TokenF1(tc.pred, tc.golds); !near(f1, tc.f1) {
			t.Errorf("F1(%q) = %v, want %v", tc.pred, f1, tc.f1)
		}
	}
	if Contains("They won 24–10 in Santa Clara, California.", []string{"Santa Clara"}) != 1 || Contains("Santa Clarabelle", []string{"Santa Clara"}) != 0 {
		t.Error("Contains must match whole normalised words")
	}
	if got := StripCitations("Paris is big [1][2]. Yes [3]."); got != "Paris is big. Yes." {
		t.Errorf("StripCitations = %q", got)
	}
}

func TestBehaviourChecks(t *testing.T) {
	e := &Expect{Regex: `^[A-Z]`, MaxWords: 5, Required: []string{"paris"}, Banned: []string{"as an AI"}}
	if b := CheckBehaviour("Paris is the capital [1].", e); len(b) != 0 {
		t.Errorf("good answer broke %q", b)
	}
	if b := CheckBehaviour("as an AI I think it is Lyon or so", e); len(b) != 4 {
		t.Errorf("bad answer broke %q, want all four checks", b)
	}
}

func TestLoadQAReportsBadLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "qa.jsonl")
	os.WriteFile(p, []byte(`{"question":"ok?"}`+"\n"+`{"question":""}`+"\n"+`nope`+"\n"+`{"question":"q","expect":{"regex":"("}}`+"\n"), 0o644)
	_, err := LoadQA(p)
	if err == nil || !strings.Contains(err.Error(), "3 bad lines") || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 4: expect.regex") {
		t.Errorf("LoadQA error = %v", err)
	}
}

// TestQAEvalOnSQuADMini answers real SQuAD questions, a third of which
// the corpus cannot answer, and checks every metric is measured and sane.
func TestQAEvalOnSQuADMini(t *testing.T) {
	ds, err := LoadBEIR("../../examples/squad-mini", "test")
	if err != nil {
		t.Fatal(err)
	}
	items, err := LoadQA("../../examples/squad-mini/qa.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	st := indexed(t, ds)
	gen := answer.NewExtractive(st, answer.DefaultThresholds())
	res, err := EvaluateQA(t.Context(), items, &retrieve.Retriever{Corpus: st},
		func(ctx context.Context, q string, hits []retrieve.Hit) (answer.Result, error) {
			return answer.Answer(ctx, gen, answer.Request{Question: q, Hits: hits})
		}, QAOptions{Mode: retrieve.Lexical})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answer
	if res.Items != 59 || res.Retrieval["has_answer@10"] < 0.9 || res.Retrieval["gold_doc@5"] < 0.9 {
		t.Errorf("retrieval %v over %d items", res.Retrieval, res.Items)
	}
	if a.AbstentionF1 == nil || *a.AbstentionRecall < 0.8 || a.BehaviourPass == nil || *a.BehaviourPass != 1 {
		t.Errorf("abstention/behaviour not measured or implausible: %+v", a)
	}
	// An extractive answer quotes its chunks, so it must be faithful and
	// its citations must hold.
	if a.Faithfulness < 0.99 || a.CitationPrecision < 0.99 || a.Contains < 0.4 {
		t.Errorf("answer metrics %+v", a)
	}
}

type fixedHits []retrieve.Hit

func (h fixedHits) Search(context.Context, retrieve.Query) ([]retrieve.Hit, error) { return h, nil }

// TestDecisionMetrics: answer-or-decline figures on four scripted
// outcomes, one of each (answerable or not) × (answered or declined).
func TestDecisionMetrics(t *testing.T) {
	yes, no := true, false
	items := []QAItem{
		{ID: "a1", Question: "q1", Answers: []string{"Denver Broncos"}, Answerable: &yes, Kind: KindAnswerable},
		{ID: "a2", Question: "q2", Answers: []string{"1889"}, Answerable: &yes, Kind: KindAnswerable},
		{ID: "u1", Question: "q3", Answerable: &no, Kind: KindRemovedSentence},
		{ID: "u2", Question: "q4", Answerable: &no, Kind: KindSwappedEntity},
	}
	declined := answer.ReasonUnsupportedAnswer
	score := func(p float64) *float64 { return &p }
	outcomes := map[string]answer.Result{
		"q1": {Answer: "The Denver Broncos won it. [1]", ShortAnswer: "the Denver Broncos", Answerability: score(0.9)},
		"q2": {Answer: answer.Declined, Abstained: true, AbstainReason: &declined, Answerability: score(0.2)},
		"q3": {Answer: answer.Declined, Abstained: true, AbstainReason: &declined, Answerability: score(0.1)},
		"q4": {Answer: "Something else entirely. [1]", ShortAnswer: "else", Answerability: score(0.6)},
	}
	hits := fixedHits{{Rank: 1}}
	res, err := EvaluateQA(t.Context(), items, hits, func(_ context.Context, q string, _ []retrieve.Hit) (answer.Result, error) {
		return outcomes[q], nil
	}, QAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answer
	// SQuAD 2.0: a1 exact (1), a2 declined (0), u1 rightly declined (1),
	// u2 answered (0). Answerability ranks answerable over unanswerable
	// in 3 of the 4 pairs.
	want := map[string]float64{
		"em": 0.5, "abstain_rate_answerable": 0.5, "abstain_rate_unanswerable": 0.5,
		"answer_precision": 0.5, "answer_recall": 0.5, "answer_or_decline_accuracy": 0.5,
		"squad2_em": 0.5, "squad2_f1": 0.5, "answerability_auc": 0.75, "abstention_precision": 0.5,
	}
	got := res.Flat()
	for k := range got {
		if !KnownMetric("qa", k) {
			t.Errorf("%s is reported but --fail-under cannot gate it", k)
		}
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !near(g, v) {
			t.Errorf("%s = %v (reported %v), want %v", k, g, ok, v)
		}
	}
	if a.DeclinedByKind[KindSwappedEntity] != 0 || a.DeclinedByKind[KindRemovedSentence] != 1 || a.DeclinedByKind[KindAnswerable] != 0.5 {
		t.Errorf("declined by kind %v", a.DeclinedByKind)
	}
	// The per-question scores average to the headline figures, so their
	// intervals and paired tests are about the figures reported.
	per := res.PerQueryScores()
	for _, k := range []string{"em", "f1", "contains", "answer_or_decline_accuracy"} {
		xs := Values(per, k)
		var sum float64
		for _, x := range xs {
			sum += x
		}
		if len(xs) == 0 || !near(sum/float64(len(xs)), got[k]) {
			t.Errorf("per-question %s %v does not average to %v", k, xs, got[k])
		}
	}
	if _, ok := per["u1"]["contains"]; ok {
		t.Errorf("an unanswerable question has no contains score: %v", per["u1"])
	}
}
