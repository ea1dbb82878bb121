package advise

import (
	"strings"
	"testing"
	"time"
)

func f(x float64) *float64 { return &x }

func TestDecide(t *testing.T) {
	tests := []struct {
		a    Answers
		m    *Measured
		want string
		next string
	}{
		{Answers{KnowledgeChanges: true}, nil, RAG, "ragtune eval run"},
		{Answers{Attribution: true}, nil, RAG, ""},
		{Answers{BehaviourChange: true}, nil, FineTune, "examples of the wanted behaviour"},
		{Answers{KnowledgeChanges: true, BehaviourChange: true}, nil, Hybrid, "start with RAG"},
		{Answers{}, nil, RAG, ""},
		{Answers{Attribution: true}, &Measured{Run: "r1", Accuracy: f(0.3)}, RAG, "improve chunking and retrieval"},
		{Answers{Attribution: true}, &Measured{Run: "r1", Accuracy: f(0.8), BehaviourPass: f(0.4)}, Hybrid, "add fine-tuning for behaviour"},
	}
	for _, tc := range tests {
		d := Decide(tc.a, tc.m)
		if d.Recommendation != tc.want || !strings.Contains(d.NextStep, tc.next) || len(d.Reasons) == 0 {
			t.Errorf("%+v %+v: %+v, want %s / %q", tc.a, tc.m, d, tc.want, tc.next)
		}
	}
	if d := Decide(Answers{KnowledgeChanges: true, BehaviourChange: true}, nil); !strings.Contains(strings.Join(d.Reasons, " "), "complexity") {
		t.Errorf("hybrid must name its cost, complexity: %v", d.Reasons)
	}
}

func TestCostModel(t *testing.T) {
	w, p := DefaultWorkload(), DefaultPrices()
	// Low volume: the upfront cost of fine-tuning dominates.
	w.MonthlyRequests = 5000
	c := Monthly(w, p)
	if c.RAG >= c.FineTune || c.RAG >= c.Hybrid {
		t.Errorf("at 5k requests a month RAG should be cheapest: %+v", c)
	}
	// gpt-4o-mini: fine-tuned tokens cost twice as much, so the shorter
	// prompt never pays: no break-even, and the reason says so.
	if n, why := BreakEven(w, p); n != nil || !strings.Contains(why, "never") {
		t.Errorf("break-even with gpt-4o-mini prices = %v (%s)", n, why)
	}
	// gpt-4o list prices: fine-tuned requests are cheaper than RAG's long
	// prompts, so fine-tuning wins above some volume.
	p4o := Prices{BaseInput: 2.5, BaseOutput: 10, TunedInput: 3.75, TunedOutput: 15, Training: 25, EmbeddingInput: 0.02}
	n, why := BreakEven(w, p4o)
	if n == nil || *n < 10000 || *n > 1e6 {
		t.Fatalf("break-even with gpt-4o prices = %v (%s)", n, why)
	}
	w.MonthlyRequests = *n * 2
	if c := Monthly(w, p4o); c.FineTune >= c.RAG {
		t.Errorf("above break-even fine-tuning should be cheaper: %+v", c)
	}
	// Knowledge that changes forces retraining, which raises the cost.
	w2 := w
	w2.RetrainsPerYear = 12
	if Monthly(w2, p4o).FineTune <= Monthly(w, p4o).FineTune {
		t.Error("retraining did not cost anything")
	}
	chart := Chart(DefaultWorkload(), p, 40)
	if strings.Count(chart, "\n") != 10 || !strings.Contains(chart, "10000000 |") {
		t.Errorf("chart:\n%s", chart)
	}
}

func TestSVG(t *testing.T) {
	p4o := Prices{BaseInput: 2.5, BaseOutput: 10, TunedInput: 3.75, TunedOutput: 15, Training: 25, EmbeddingInput: 0.02}
	svg := SVG(DefaultWorkload(), p4o)
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<polyline") != 3 || !strings.Contains(svg, "break-even") {
		t.Errorf("svg: %.300s", svg)
	}
	if strings.Contains(SVG(DefaultWorkload(), DefaultPrices()), "break-even") {
		t.Error("a break-even line drawn where there is none")
	}
}

func TestMeasureChurn(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	if MeasureChurn([]Ingest{{At: day(0), Changed: 100, Documents: 100}}) != nil {
		t.Error("one ingest gives no rate")
	}
	if MeasureChurn([]Ingest{{At: day(0), Changed: 100}, {At: day(2), Changed: 5}}) != nil {
		t.Error("two days of history give no rate")
	}
	// Initial load, then changes on days 10, 20 and 40 and a no-op on 50;
	// 60 days is two months: 1.5 changing ingests a month.
	c := MeasureChurn([]Ingest{{"docs", day(0), 100, 100}, {"docs", day(10), 4, 100}, {"wiki", day(15), 30, 130},
		{"docs", day(20), 2, 131}, {"docs", day(40), 6, 130}, {"docs", day(60), 0, 130}})
	if c == nil || c.ChangingIngests != 3 || c.ChangedDocs != 12 || c.ChangesPerMonth != 1.5 || !c.Frequent() || c.RetrainsPerYear() != 12 {
		t.Fatalf("churn %+v", c)
	}
	if c.ChangedShare != 12.0/130/2 {
		t.Errorf("changed share %v, want 12/130 over two months", c.ChangedShare)
	}
	slow := MeasureChurn([]Ingest{{"d", day(0), 50, 50}, {"d", day(90), 3, 50}, {"d", day(180), 0, 50}})
	if slow.Frequent() || slow.RetrainsPerYear() != 2 {
		t.Errorf("one change in six months: %+v, retrains %v", slow, slow.RetrainsPerYear())
	}
}
