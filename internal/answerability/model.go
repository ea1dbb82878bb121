package answerability

import (
	"errors"
	"fmt"
	"math"
)

// Logistic is a fitted logistic-regression model over named features.
// Features are standardised with the training means and deviations
// before the weights apply.
type Logistic struct {
	Features []string  `json:"features"`
	Mean     []float64 `json:"mean"`
	Std      []float64 `json:"std"`
	Weights  []float64 `json:"weights"`
	Bias     float64   `json:"bias"`
}

// Prob is the model's probability for the feature vector x.
func (m *Logistic) Prob(x []float64) float64 { return sigmoid(m.Logit(x)) }

// Logit is the model's log-odds for x.
func (m *Logistic) Logit(x []float64) float64 {
	z := m.Bias
	for i, w := range m.Weights {
		z += w * (x[i] - m.Mean[i]) / m.Std[i]
	}
	return z
}

func (m *Logistic) check(n int) error {
	if len(m.Features) != n || len(m.Mean) != n || len(m.Std) != n || len(m.Weights) != n {
		return fmt.Errorf("model has %d features, the code computes %d: refit the weights", len(m.Features), n)
	}
	return nil
}

// FitOptions tune Fit.
type FitOptions struct {
	// L2 is the ridge penalty on the standardised weights, per training
	// row (so that it means the same for a small and a large set).
	L2         float64
	Iterations int
}

// Fit trains a logistic regression by Newton's method (IRLS) on rows x
// with targets y in [0, 1] (soft targets allowed). It is deterministic:
// the same data give the same weights.
func Fit(names []string, x [][]float64, y []float64, opts FitOptions) (*Logistic, error) {
	n, d := len(x), len(names)
	if n == 0 || len(y) != n {
		return nil, errors.New("no training rows")
	}
	if opts.Iterations == 0 {
		opts.Iterations = 25
	}
	m := &Logistic{Features: names, Mean: make([]float64, d), Std: make([]float64, d), Weights: make([]float64, d)}
	standardise(m, x)
	z := make([][]float64, n)
	for i, row := range x {
		z[i] = make([]float64, d+1)
		for j := range d {
			z[i][j] = (row[j] - m.Mean[j]) / m.Std[j]
		}
		z[i][d] = 1 // the bias
	}
	beta := make([]float64, d+1)
	for range opts.Iterations {
		grad := make([]float64, d+1)
		hess := make([][]float64, d+1)
		for j := range hess {
			hess[j] = make([]float64, d+1)
		}
		for i, row := range z {
			p := sigmoid(dot(beta, row))
			w := max(p*(1-p), 1e-9)
			for a := range row {
				grad[a] += (y[i] - p) * row[a]
				for b := 0; b <= a; b++ {
					hess[a][b] += w * row[a] * row[b]
				}
			}
		}
		for a := range d + 1 {
			for b := 0; b < a; b++ {
				hess[b][a] = hess[a][b]
			}
			if a < d { // the bias is not penalised
				grad[a] -= opts.L2 * float64(n) * beta[a]
				hess[a][a] += opts.L2 * float64(n)
			}
		}
		step, err := solve(hess, grad)
		if err != nil {
			return nil, err
		}
		change := 0.0
		for j := range beta {
			beta[j] += step[j]
			change = math.Max(change, math.Abs(step[j]))
		}
		if change < 1e-8 {
			break
		}
	}
	copy(m.Weights, beta[:d])
	m.Bias = beta[d]
	return m, nil
}

func standardise(m *Logistic, x [][]float64) {
	d, n := len(m.Mean), float64(len(x))
	for _, row := range x {
		for j := range d {
			m.Mean[j] += row[j] / n
		}
	}
	for _, row := range x {
		for j := range d {
			m.Std[j] += (row[j] - m.Mean[j]) * (row[j] - m.Mean[j]) / n
		}
	}
	for j := range d {
		m.Std[j] = math.Sqrt(m.Std[j])
		if m.Std[j] < 1e-9 {
			m.Std[j] = 1 // a constant feature: its weight is penalised to 0
		}
	}
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// solve solves A x = b by Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return nil, errors.New("singular system: a feature is a copy of another")
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x, nil
}
