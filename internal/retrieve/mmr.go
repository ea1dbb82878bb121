package retrieve

import (
	"context"
	"math"

	"github.com/ragtune/ragtune/internal/corpus"

	"github.com/viterin/vek/vek32"
)

// mmr picks k of the candidates (best first) by maximal marginal
// relevance: each step takes the candidate maximising
// λ·relevance − (1−λ)·(highest similarity to a chunk already taken),
// relevance being the candidate's score relative to the best one. Near-duplicate
// chunks (overlapping windows, repeated boilerplate) then stop crowding
// the few places an answer has.
func (r *Retriever) mmr(ctx context.Context, cands []corpus.Hit, k int) ([]corpus.Hit, error) {
	if len(cands) <= 1 {
		return cands[:min(k, len(cands))], nil
	}
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.Rowid
	}
	vecs, err := r.Corpus.VectorsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	top := 0.0
	for _, c := range cands {
		top = math.Max(top, c.Score)
	}
	rel := func(c corpus.Hit) float64 {
		if top <= 0 {
			return 0
		}
		return c.Score / top
	}
	lambda := r.MMRLambda
	taken := make([]bool, len(cands))
	var out []corpus.Hit
	for len(out) < min(k, len(cands)) {
		best, bestScore := -1, math.Inf(-1)
		for i, c := range cands {
			if taken[i] {
				continue
			}
			var red float64
			for _, o := range out {
				if a, b := vecs[c.Rowid], vecs[o.Rowid]; a != nil && b != nil {
					red = math.Max(red, float64(vek32.Dot(a, b)))
				}
			}
			if s := lambda*rel(c) - (1-lambda)*red; s > bestScore {
				best, bestScore = i, s
			}
		}
		taken[best] = true
		out = append(out, cands[best])
	}
	return out, nil
}
