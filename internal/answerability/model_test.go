package answerability

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestFitRecoversWeights: on data drawn from a known logistic model, Fit
// finds weights of the right sign and size, and the same data give the
// same weights.
func TestFitRecoversWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x [][]float64
	var y []float64
	for range 4000 {
		a, b, noise := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		x = append(x, []float64{a, b, noise})
		y = append(y, b2f(rng.Float64() < sigmoid(2*a-b+0.5)))
	}
	m, err := Fit([]string{"a", "b", "noise"}, x, y, FitOptions{L2: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	// Weights are on standardised features; the draws have unit variance.
	if math.Abs(m.Weights[0]-2) > 0.3 || math.Abs(m.Weights[1]+1) > 0.2 || math.Abs(m.Weights[2]) > 0.15 || math.Abs(m.Bias-0.5) > 0.2 {
		t.Errorf("weights %v bias %.3f, want about [2 -1 0] and 0.5", m.Weights, m.Bias)
	}
	again, _ := Fit([]string{"a", "b", "noise"}, x, y, FitOptions{L2: 1e-4})
	if !reflect.DeepEqual(m, again) {
		t.Error("two fits of the same data differ")
	}
	if _, err := Fit(nil, nil, nil, FitOptions{}); err == nil {
		t.Error("fitting no rows did not fail")
	}
}

// TestShippedWeights: the embedded models parse, fit the features this
// code computes, and a model with a feature too few is refused.
func TestShippedWeights(t *testing.T) {
	m, err := Fitted()
	if err != nil {
		t.Fatal(err)
	}
	if m.Threshold <= 0 || m.Threshold >= 1 || m.Threshold != FittedThreshold() || m.Objective == "" || m.Data == "" {
		t.Errorf("threshold %v (FittedThreshold %v), objective %q, data %q", m.Threshold, FittedThreshold(), m.Objective, m.Data)
	}
	m.Span.Features = m.Span.Features[1:]
	raw, _ := json.Marshal(m)
	if _, err := Parse(raw); err == nil || !strings.Contains(err.Error(), "refit") {
		t.Errorf("stale weights: %v", err)
	}
}
