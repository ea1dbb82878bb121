package evaluate

import (
	"math"
	"testing"
)

func TestKendallTau(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"same order", []float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		{"one swap of four", []float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 4.0 / 6},
		// scipy.stats.kendalltau([1,2,2,3],[1,2,3,3]) = 0.8
		{"ties (tau-b)", []float64{1, 2, 2, 3}, []float64{1, 2, 3, 3}, 0.8},
		{"constant", []float64{1, 1, 1}, []float64{1, 2, 3}, 0},
	} {
		if got := KendallTau(tc.xs, tc.ys); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: tau = %v, want %v", tc.name, got, tc.want)
		}
	}
}
