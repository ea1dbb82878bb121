package advise

import (
	"strings"
	"testing"
)

func TestKnowledgeFromChurn(t *testing.T) {
	yes, no := true, false
	often := &Churn{ChangesPerMonth: 4}
	for _, tc := range []struct {
		churn    *Churn
		given    *bool
		want, ok bool
		note     string
	}{
		{nil, nil, false, false, ""},
		{nil, &yes, true, true, ""},
		{often, nil, true, true, "it changes often"},
		{often, &no, false, true, "does not match your answer --knowledge-changes no"},
		{often, &yes, true, true, ""},
	} {
		got, ok, note := KnowledgeFromChurn(tc.churn, tc.given)
		if got != tc.want || ok != tc.ok || !strings.Contains(note, tc.note) || (tc.churn == nil) != (note == "") {
			t.Errorf("KnowledgeFromChurn(%v, %v) = %v, %v, %q", tc.churn, tc.given, got, ok, note)
		}
	}
}

func TestAdviseRetrainsWithChurn(t *testing.T) {
	w, p := DefaultWorkload(), DefaultPrices()
	m := FromEval("run1", map[string]float64{"contains": 0.9, "tokens_in": w.PromptTokens + 1000, "tokens_out": 80}, &w)
	if *m.Accuracy != 0.9 || m.BehaviourPass != nil || w.ContextTokens != 1000 || w.OutputTokens != 80 {
		t.Fatalf("FromEval: %+v, workload %+v", m, w)
	}
	quiet := Advise(Request{Answers: Answers{Attribution: true}, Workload: w, Prices: p})
	churning := Advise(Request{Answers: Answers{Attribution: true}, Churn: &Churn{ChangesPerMonth: 30}, Notes: []string{"first"}, Workload: w, Prices: p})
	if quiet.Workload.RetrainsPerYear != 0 || churning.Workload.RetrainsPerYear != 12 {
		t.Errorf("retrains: %v and %v", quiet.Workload.RetrainsPerYear, churning.Workload.RetrainsPerYear)
	}
	if churning.Monthly.FineTune <= quiet.Monthly.FineTune || churning.Reasons[0] != "first" || churning.Recommendation != quiet.Recommendation {
		t.Errorf("churn must make fine-tuning dearer and keep the notes first: %+v vs %+v", churning, quiet)
	}
}

func TestYesNo(t *testing.T) {
	var y YesNo
	if y.Ptr() != nil || y.String() != "" {
		t.Fatal("an unset answer has a value")
	}
	for in, want := range map[string]bool{"yes": true, "Y": true, "false": false, "no": false} {
		if err := y.Set(in); err != nil || y.Val != want || *y.Ptr() != want {
			t.Errorf("Set(%q): %v %v", in, y.Val, err)
		}
	}
	if err := y.Set("maybe"); err == nil {
		t.Error("maybe was accepted")
	}
}
