package evaluate

import "math"

// KendallTau is Kendall's tau-b between two lists of scores of the same
// configurations: 1 when both rank every pair alike, -1 when every pair
// is reversed, 0 when unrelated; ties count as neither (tau-b's
// correction). It is how far a cheap test set ranks configurations the
// way a trusted one does.
func KendallTau(xs, ys []float64) float64 {
	n := min(len(xs), len(ys))
	var concordant, discordant, tiesX, tiesY float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dx, dy := sign(xs[i]-xs[j]), sign(ys[i]-ys[j])
			switch {
			case dx == 0 && dy == 0:
			case dx == 0:
				tiesX++
			case dy == 0:
				tiesY++
			case dx == dy:
				concordant++
			default:
				discordant++
			}
		}
	}
	den := math.Sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY))
	if den == 0 {
		return 0
	}
	return (concordant - discordant) / den
}

// sign is -1, 0 or 1, with differences below 1e-12 counted as ties.
func sign(d float64) int {
	switch {
	case d > 1e-12:
		return 1
	case d < -1e-12:
		return -1
	}
	return 0
}
