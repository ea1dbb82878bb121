package evaluate

import (
	"bytes"
	"strings"
	"testing"
)

func TestDiffRecordsTestsTheDifference(t *testing.T) {
	base := make([]float64, 30)
	for i := range base {
		base[i] = float64(i%3) / 3
	}
	for _, tc := range []struct {
		name   string
		b      []float64
		want   []string
		signif bool
	}{
		{"better on every query", shifted(base, func(int) float64 { return 0.1 }), []string{"B is ahead of A by +0.1000 ndcg@10", "p < 0.001", "30 queries): significant at 0.05"}, true},
		{"worse on every query", shifted(base, func(int) float64 { return -0.1 }), []string{"B is behind A by -0.1000 ndcg@10", "significant at 0.05"}, true},
		{"noise", shifted(base, func(i int) float64 { return map[bool]float64{true: 0.2, false: -0.19}[i%2 == 0] }), []string{"B is ahead of A by +0.0050", "not significant at 0.05"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Record{ID: "A", Kind: "retrieval", PerQuery: scores(base...)}
			b := Record{ID: "B", Kind: "retrieval", PerQuery: scores(tc.b...)}
			a.PerQuery["only-a"] = QueryScores{"ndcg@10": 1}
			b.PerQuery["unscored"] = QueryScores{"recall@100": 1}
			a.PerQuery["unscored"] = QueryScores{"ndcg@10": 0}
			d := DiffRecords(a, b, "")
			if d.Test.N != 30 || d.Test.Significant != tc.signif || len(d.Improved)+len(d.Worsened)+d.Unchanged != 30 {
				t.Fatalf("test %+v; %d better %d worse %d unchanged", d.Test, len(d.Improved), len(d.Worsened), d.Unchanged)
			}
			var out bytes.Buffer
			d.WriteText(&out, [2]Record{a, b}, 3)
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("diff text lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
	if v := DiffRecords(Record{ID: "A"}, Record{ID: "B"}, "ndcg@10").Test.Verdict("B", "A"); !strings.Contains(v, "cannot be tested") {
		t.Errorf("no shared queries: %s", v)
	}
}
