package evaluate

import (
	"reflect"
	"testing"
)

func TestGates(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		metrics map[string]float64
		failed  []string
		bad     bool
	}{
		{"", map[string]float64{"ndcg@10": 0.1}, nil, false},
		{"ndcg@10=0.5", map[string]float64{"ndcg@10": 0.6}, nil, false},
		{"NDCG@10 = 0.5, recall@100=0.9", map[string]float64{"ndcg@10": 0.4, "recall@100": 0.95}, []string{"ndcg@10 = 0.4000 < 0.5000"}, false},
		{"ndgc@10=0.5", map[string]float64{"ndcg@10": 0.9}, []string{"ndgc@10 was not measured"}, false},
		{"ndcg@10", nil, nil, true},
		{"ndcg@10=high", nil, nil, true},
	} {
		g, err := ParseGates(tc.spec)
		if (err != nil) != tc.bad {
			t.Errorf("ParseGates(%q) error = %v, want error %v", tc.spec, err, tc.bad)
			continue
		}
		if err == nil {
			if got := g.Check(tc.metrics); !reflect.DeepEqual(got, tc.failed) {
				t.Errorf("%q on %v: failed %q, want %q", tc.spec, tc.metrics, got, tc.failed)
			}
		}
	}
}

func TestSpread(t *testing.T) {
	items := make([]QAItem, 10)
	for i := range items {
		items[i].ID = string(rune('a' + i))
	}
	var ids []string
	for _, it := range Spread(items, 4) {
		ids = append(ids, it.ID)
	}
	if !reflect.DeepEqual(ids, []string{"a", "c", "f", "h"}) {
		t.Errorf("Spread(10, 4) = %v", ids)
	}
	if len(Spread(items, 0)) != 10 || len(Spread(items, 50)) != 10 {
		t.Error("Spread without a usable limit must keep everything")
	}
}

func TestSummarize(t *testing.T) {
	var d []float64
	for i := 1; i <= 100; i++ {
		d = append(d, float64(i))
	}
	s := Summarize(d)
	if s.Queries != 100 || s.P50 != 50 || s.P95 != 95 || s.P99 != 99 {
		t.Errorf("Summarize = %+v", s)
	}
	if z := Summarize(nil); z.Queries != 0 {
		t.Errorf("Summarize(nil) = %+v", z)
	}
}

func TestGateNames(t *testing.T) {
	for _, tc := range []struct {
		kind, spec string
		ok         bool
	}{
		{"retrieval", "ndcg@10=0.5,recall@100=0.9", true},
		{"retrieval", "ndgc@10=0.5", false},
		{"retrieval", "contains=0.5", false},
		{"qa", "contains=0.7,abstention_f1=0.8,has_answer@4=0.9", true},
		{"qa", "ndcg@10=0.5", false},
		{"qa", "has_answer@0=0.5", false},
	} {
		g, err := ParseGates(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.CheckNames(tc.kind); (err == nil) != tc.ok {
			t.Errorf("%s %q: %v, want ok %v", tc.kind, tc.spec, err, tc.ok)
		}
	}
}
