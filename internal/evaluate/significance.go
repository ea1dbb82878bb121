package evaluate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Significance settings. A paired randomisation test (sign flips of the
// per-query differences, as ranx and ir_measures' users run it) says
// whether one configuration's lead over another is larger than the
// query-to-query noise; a percentile bootstrap gives the confidence
// intervals. Both are seeded, so a report is reproducible.
const (
	// DefaultAlpha is the significance level below which a lead counts.
	DefaultAlpha = 0.05
	// randomisationRounds keeps the p-value's own sampling error under
	// about 0.002 near 0.05.
	randomisationRounds = 10000
	bootstrapRounds     = 2000
	significanceSeed    = 20260605
	// normalFrom is the number of values from which the resampling is
	// replaced by its normal limit (the randomisation sum's and the
	// mean's distributions are normal to well under a point in the
	// third decimal there), so a test's work stays linear in the queries:
	// 10,000 rounds over 100,000 queries would be 10^9 steps a request.
	normalFrom = 20000
)

// Interval is a confidence interval around a mean.
type Interval struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Level float64 `json:"level"` // 0.95
}

// MeanCI is the 95% percentile-bootstrap interval of the mean of xs
// (the interval of a single value, or of none, is that value, or zero).
func MeanCI(xs []float64) Interval {
	iv := Interval{Level: 0.95}
	switch len(xs) {
	case 0:
		return iv
	case 1:
		iv.Lo, iv.Hi = xs[0], xs[0]
		return iv
	}
	if len(xs) >= normalFrom {
		return normalCI(xs)
	}
	rng := rand.New(rand.NewPCG(significanceSeed, uint64(len(xs))))
	means := make([]float64, bootstrapRounds)
	n := len(xs)
	for r := range means {
		var s float64
		for range n {
			s += xs[rng.IntN(n)]
		}
		means[r] = s / float64(n)
	}
	sort.Float64s(means)
	iv.Lo = means[int(math.Floor(0.025*float64(bootstrapRounds-1)))]
	iv.Hi = means[int(math.Ceil(0.975*float64(bootstrapRounds-1)))]
	return iv
}

// normalCI is the 95% normal interval of the mean of many values.
func normalCI(xs []float64) Interval {
	var sum, sq float64
	for _, x := range xs {
		sum += x
	}
	n := float64(len(xs))
	mean := sum / n
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	se := math.Sqrt(sq/(n-1)) / math.Sqrt(n)
	return Interval{Lo: mean - 1.96*se, Hi: mean + 1.96*se, Level: 0.95}
}

// Paired is the outcome of a paired test of B against A on the queries
// both were scored on.
type Paired struct {
	Metric string  `json:"metric"`
	N      int     `json:"queries"` // queries scored in both
	MeanA  float64 `json:"mean_a"`
	MeanB  float64 `json:"mean_b"`
	// Delta is MeanB - MeanA, with its bootstrap interval.
	Delta   float64  `json:"delta"`
	DeltaCI Interval `json:"delta_ci"`
	// P is the two-sided p-value of the randomisation test: how often
	// flipping the sign of each query's difference at random gives a
	// mean difference at least as large as the one observed.
	P     float64 `json:"p_value"`
	Alpha float64 `json:"alpha"`
	// PHolm is P adjusted by Holm's step-down method for the Tests
	// tests run alongside this one (set by Holm; zero when not).
	PHolm float64 `json:"p_value_holm,omitempty"`
	Tests int     `json:"tests,omitempty"`
	// Significant is P (after Holm, PHolm) below Alpha.
	Significant bool `json:"significant"`
}

// Holm adjusts the p-values of a family of tests (every configuration
// against the best, every arm against one reference) by Holm's
// step-down method, which keeps the chance of any false "significant"
// in the family under alpha, and resets each test's Significant to the
// adjusted value.
func Holm(tests []*Paired) {
	order := make([]int, len(tests))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return tests[order[i]].P < tests[order[j]].P })
	m, running := len(tests), 0.0
	for rank, i := range order {
		running = max(running, min(1, float64(m-rank)*tests[i].P))
		t := tests[i]
		t.PHolm, t.Tests = running, m
		t.Significant = running < t.Alpha
	}
}

// AdjustedP is PHolm when Holm adjusted the test, else P.
func (t Paired) AdjustedP() float64 {
	if t.Tests > 0 {
		return t.PHolm
	}
	return t.P
}

// PairedTest compares b with a over paired values (same queries, same
// order): a sign-flip randomisation test and a bootstrap interval of the
// mean difference.
func PairedTest(metric string, a, b []float64) Paired {
	n := min(len(a), len(b))
	t := Paired{Metric: metric, N: n, Alpha: DefaultAlpha, P: 1}
	if n == 0 {
		t.DeltaCI.Level = 0.95
		return t
	}
	d := make([]float64, n)
	var sa, sb float64
	for i := range n {
		d[i] = b[i] - a[i]
		sa += a[i]
		sb += b[i]
	}
	t.MeanA, t.MeanB = sa/float64(n), sb/float64(n)
	t.Delta = t.MeanB - t.MeanA
	t.DeltaCI = MeanCI(d)
	t.P = signFlipP(d)
	t.Significant = t.P < t.Alpha
	return t
}

// signFlipP is the two-sided randomisation p-value of the mean of d
// under the null hypothesis that each difference is as likely to have
// either sign, with the observed arrangement counted (so p > 0).
func signFlipP(d []float64) float64 {
	var obs float64
	nonzero := d[:0:0]
	for _, x := range d {
		obs += x
		if x != 0 {
			nonzero = append(nonzero, x)
		}
	}
	obs = math.Abs(obs)
	if len(nonzero) == 0 {
		return 1
	}
	// Exact enumeration when it is cheaper than sampling.
	if len(nonzero) <= 13 {
		count, total := 0, 1<<len(nonzero)
		for mask := range total {
			var s float64
			for i, x := range nonzero {
				if mask&(1<<i) != 0 {
					s -= x
				} else {
					s += x
				}
			}
			if math.Abs(s) >= obs-1e-12 {
				count++
			}
		}
		return float64(count) / float64(total)
	}
	if len(nonzero) >= normalFrom {
		// Under the null hypothesis the signed sum has mean 0 and
		// variance the sum of the squared differences.
		var ss float64
		for _, x := range nonzero {
			ss += x * x
		}
		return math.Erfc(obs / math.Sqrt(2*ss))
	}
	rng := rand.New(rand.NewPCG(significanceSeed, uint64(len(d))))
	count := 0
	for range randomisationRounds {
		var s float64
		var bits uint64
		for i, x := range nonzero {
			if i%64 == 0 { // one random word gives 64 signs
				bits = rng.Uint64()
			}
			if bits&1 == 1 {
				s -= x
			} else {
				s += x
			}
			bits >>= 1
		}
		if math.Abs(s) >= obs-1e-12 {
			count++
		}
	}
	return float64(count+1) / float64(randomisationRounds+1)
}

// PairedScores lines up one metric of two per-query score maps on the
// queries both hold, in sorted ID order.
func PairedScores(a, b map[string]QueryScores, metric string) (xs, ys []float64, ids []string) {
	for id, qa := range a {
		qb, ok := b[id]
		if !ok {
			continue
		}
		_, okA := qa[metric]
		_, okB := qb[metric]
		if okA && okB {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		xs = append(xs, a[id][metric])
		ys = append(ys, b[id][metric])
	}
	return xs, ys, ids
}

// ComparePerQuery runs PairedTest of b against a on one metric over the
// queries both were scored on.
func ComparePerQuery(a, b map[string]QueryScores, metric string) Paired {
	xs, ys, _ := PairedScores(a, b, metric)
	return PairedTest(metric, xs, ys)
}

// Values is one metric of every query, in sorted ID order (for MeanCI).
func Values(per map[string]QueryScores, metric string) []float64 {
	ids := make([]string, 0, len(per))
	for id, q := range per {
		if _, ok := q[metric]; ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	xs := make([]float64, len(ids))
	for i, id := range ids {
		xs[i] = per[id][metric]
	}
	return xs
}

// Verdict says in one line whether b's difference from a is real:
// "B is ahead of A by +0.0123 ndcg@10 (95% CI +0.0040..+0.0200, p = 0.003,
// 300 queries): significant at 0.05".
func (t Paired) Verdict(b, a string) string {
	if t.N == 0 {
		return fmt.Sprintf("%s and %s share no queries scored on %s: the difference cannot be tested", b, a, t.Metric)
	}
	word := "ahead of"
	if t.Delta < 0 {
		word = "behind"
	}
	stats := fmt.Sprintf("95%% CI %s, %s, %d queries", deltaRange(t.DeltaCI), PText(t.AdjustedP()), t.N)
	if t.Tests > 1 {
		stats += fmt.Sprintf(", Holm-adjusted over %d comparisons", t.Tests)
	}
	verdict := "significant"
	if !t.Significant {
		verdict = "not significant"
	}
	return fmt.Sprintf("%s is %s %s by %+.4f %s (%s): %s at %g", b, word, a, t.Delta, t.Metric, stats, verdict, t.Alpha)
}
