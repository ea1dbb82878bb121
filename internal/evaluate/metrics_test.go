package evaluate

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

func ranked(scores map[string]float64) []Scored {
	r := Run{"q": nil}
	for d, s := range scores {
		r["q"] = append(r["q"], Scored{d, s})
	}
	r.Sort()
	return r["q"]
}

// The first cases are pytrec_eval's own unit tests
// (cvangysel/pytrec_eval, tests/pytrec_eval_tests.py: test_ndcg and
// test_ndcg_cut), values as published there.
func TestAgreesWithPytrecEvalUnitCases(t *testing.T) {
	qrel := map[string]int{"d1": 0, "d2": 1, "d3": 0}
	tests := []struct {
		scores map[string]float64
		metric Metric
		want   float64
	}{
		{map[string]float64{"d1": 1.0, "d2": 0.0, "d3": 1.5}, Metric{"ndcg", 1000}, 0.5},
		{map[string]float64{"d1": 1.0, "d2": 2.0, "d3": 1.5}, Metric{"ndcg", 1000}, 1.0},
		{map[string]float64{"d1": 4.0, "d2": 2.0, "d3": 1.5}, Metric{"ndcg", 1000}, 0.6309297535714575},
		{map[string]float64{"d1": 1.0, "d2": 0.0, "d3": 1.5}, Metric{"ndcg", 3}, 0.5},
		{map[string]float64{"d1": 1.0, "d2": 2.0, "d3": 1.5}, Metric{"ndcg", 1}, 1.0},
		{map[string]float64{"d1": 1.0, "d2": 0.0, "d3": 1.5}, Metric{"ndcg", 2}, 0.0},
		{map[string]float64{"d1": 1.0, "d2": 0.0, "d3": 1.5}, Metric{"ndcg", 1}, 0.0},
	}
	for _, tc := range tests {
		if got := Score(tc.metric, ranked(tc.scores), qrel); !near(got, tc.want) {
			t.Errorf("%s on %v = %.6f, want %.6f", tc.metric, tc.scores, got, tc.want)
		}
	}
}

// Graded judgements and the other measures, worked by hand from the
// trec_eval definitions (gain = grade, log2(rank+1) discount, ideal from
// all judged documents; map_cut divides by all relevant).
func TestGradedAndOtherMeasures(t *testing.T) {
	rel := map[string]int{"a": 3, "b": 1, "c": 2, "z": 1} // z is never retrieved
	run := ranked(map[string]float64{"b": 9, "x": 8, "a": 7, "y": 6, "c": 5})
	dcg := 1/math.Log2(2) + 3/math.Log2(4) + 2/math.Log2(6)
	idcg := 3/math.Log2(2) + 2/math.Log2(3) + 1/math.Log2(4) + 1/math.Log2(5)
	tests := []struct {
		m    Metric
		want float64
	}{
		{Metric{"ndcg", 10}, dcg / idcg},
		{Metric{"ndcg", 2}, (1 / math.Log2(2)) / (3/math.Log2(2) + 2/math.Log2(3))},
		{Metric{"recall", 3}, 2.0 / 4},
		{Metric{"recall", 100}, 3.0 / 4},
		{Metric{"p", 5}, 3.0 / 5},
		{Metric{"mrr", 10}, 1},
		{Metric{"map", 100}, (1.0/1 + 2.0/3 + 3.0/5) / 4},
		{Metric{"map", 2}, (1.0 / 1) / 4},
	}
	for _, tc := range tests {
		if got := Score(tc.m, run, rel); !near(got, tc.want) {
			t.Errorf("%s = %.6f, want %.6f", tc.m, got, tc.want)
		}
	}
}

func TestTiesAndSkippedQueries(t *testing.T) {
	// trec_eval breaks score ties by document ID, descending.
	run := Run{"q1": {{"a", 1}, {"c", 1}, {"b", 1}}, "q3": {{"a", 1}}}
	qrels := Qrels{"q1": {"a": 1}, "q2": {"x": 1}, "q3": {"a": 0}}
	means, per := Evaluate(run, qrels, []Metric{{"mrr", 10}})
	if got := run["q1"][0].DocID + run["q1"][1].DocID + run["q1"][2].DocID; got != "cba" {
		t.Errorf("tie order %s, want cba", got)
	}
	if len(per) != 2 || per["q3"] != nil {
		t.Errorf("evaluated %v; q3 has no relevant document and must be skipped", per)
	}
	// q1: a at rank 3 → 1/3; q2 missing from the run → 0.
	if !near(means["mrr@10"], (1.0/3)/2) {
		t.Errorf("mean mrr@10 = %f", means["mrr@10"])
	}
}

func TestParseMetric(t *testing.T) {
	if m, err := ParseMetric(" NDCG@10 "); err != nil || m != (Metric{"ndcg", 10}) {
		t.Errorf("ParseMetric = %v, %v", m, err)
	}
	for _, bad := range []string{"ndcg", "ndcg@0", "bleu@4", "recall@x"} {
		if _, err := ParseMetric(bad); err == nil {
			t.Errorf("ParseMetric(%q) accepted", bad)
		}
	}
}
