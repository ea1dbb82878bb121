package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPairedTest(t *testing.T) {
	// Every query better by the same amount: as significant as n allows.
	n := 40
	a, b := make([]float64, n), make([]float64, n)
	for i := range n {
		a[i] = float64(i%7) / 10
		b[i] = a[i] + 0.1
	}
	p := PairedTest("ndcg@10", a, b)
	if !p.Significant || p.P > 0.001 || math.Abs(p.Delta-0.1) > 1e-9 {
		t.Fatalf("consistent lead: %+v", p)
	}
	if p.DeltaCI.Lo > 0.1+1e-9 || p.DeltaCI.Hi < 0.1-1e-9 {
		t.Fatalf("interval %+v should hold 0.1", p.DeltaCI)
	}
	// Half the queries up, half down by the same amount: no lead.
	for i := range n {
		if i%2 == 0 {
			b[i] = a[i] + 0.3
		} else {
			b[i] = a[i] - 0.3
		}
	}
	p = PairedTest("ndcg@10", a, b)
	if p.Significant || p.P < 0.9 {
		t.Fatalf("balanced flips: %+v", p)
	}
	// One query of 40 better: a lead, not a significant one.
	copy(b, a)
	b[0] += 1
	p = PairedTest("ndcg@10", a, b)
	if p.Significant || p.Delta <= 0 {
		t.Fatalf("single win: %+v", p)
	}
	// Identical runs.
	p = PairedTest("ndcg@10", a, a)
	if p.P != 1 || p.Significant {
		t.Fatalf("identical: %+v", p)
	}
}

func TestSignFlipExact(t *testing.T) {
	// Three positive differences: of 8 sign patterns only all-plus and
	// all-minus reach |sum| = 3, so p = 2/8.
	if p := signFlipP([]float64{1, 1, 1}); math.Abs(p-0.25) > 1e-12 {
		t.Fatalf("p = %v, want 0.25", p)
	}
}

func TestMeanCI(t *testing.T) {
	xs := []float64{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
	iv := MeanCI(xs)
	if !(iv.Lo < 0.5 && iv.Hi > 0.5 && iv.Lo > 0.2 && iv.Hi < 0.8) {
		t.Fatalf("interval %+v", iv)
	}
	if iv := MeanCI([]float64{0.3}); iv.Lo != 0.3 || iv.Hi != 0.3 {
		t.Fatalf("single value %+v", iv)
	}
	if again := MeanCI(xs); again != iv {
		t.Fatal("not reproducible")
	}
}

func TestPairedScores(t *testing.T) {
	a := map[string]QueryScores{"q1": {"m": 1}, "q2": {"m": 0}, "q3": {"m": 1}}
	b := map[string]QueryScores{"q2": {"m": 1}, "q3": {"m": 1}, "q4": {"m": 0}}
	xs, ys, ids := PairedScores(a, b, "m")
	if len(ids) != 2 || ids[0] != "q2" || xs[0] != 0 || ys[0] != 1 {
		t.Fatalf("%v %v %v", xs, ys, ids)
	}
}

func TestHolm(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []float64
		want []float64
		sig  []bool
	}{
		{"one test is left alone", []float64{0.04}, []float64{0.04}, []bool{true}},
		{"step-down keeps order", []float64{0.01, 0.04, 0.03}, []float64{0.03, 0.06, 0.06}, []bool{true, false, false}},
		{"capped at 1", []float64{0.6, 0.9}, []float64{1, 1}, []bool{false, false}},
	} {
		tests := make([]*Paired, len(tc.p))
		for i, p := range tc.p {
			tests[i] = &Paired{P: p, Alpha: DefaultAlpha}
		}
		Holm(tests)
		for i, tt := range tests {
			if math.Abs(tt.PHolm-tc.want[i]) > 1e-12 || tt.Significant != tc.sig[i] || tt.Tests != len(tc.p) || tt.AdjustedP() != tt.PHolm {
				t.Errorf("%s: test %d = %+v, want p %v significant %v", tc.name, i, tt, tc.want[i], tc.sig[i])
			}
		}
	}
	if p := (Paired{P: 0.2}); p.AdjustedP() != 0.2 {
		t.Errorf("unadjusted: %v", p.AdjustedP())
	}
}

// From normalFrom values on, the tests use their normal limits; near the
// switch both ways agree.
func TestLargeSetsUseTheNormalLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := normalFrom - 1
	d := make([]float64, n+1)
	for i := range d {
		d[i] = rng.NormFloat64() + 0.01 // a small true lead
	}
	exact, normal := signFlipP(d[:n]), signFlipP(d)
	if math.Abs(exact-normal) > 0.03 {
		t.Errorf("p just below the switch %.4f, at it %.4f", exact, normal)
	}
	boot, norm := MeanCI(d[:n]), MeanCI(d)
	if math.Abs(boot.Lo-norm.Lo) > 0.003 || math.Abs(boot.Hi-norm.Hi) > 0.003 {
		t.Errorf("interval just below the switch %+v, at it %+v", boot, norm)
	}
}
