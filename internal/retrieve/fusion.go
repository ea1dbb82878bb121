package retrieve

import (
	"context"
	"fmt"
	"sort"

	"github.com/ragtune/ragtune/internal/corpus"
)

// Fusion says how hybrid retrieval combines the lexical and dense lists.
type Fusion struct {
	// Method is "weighted" (per-query min-max normalised scores, Alpha
	// on dense) or "rrf" (reciprocal rank fusion).
	Method string  `toml:"fusion" json:"fusion"`
	Alpha  float64 `toml:"alpha" json:"alpha"`
	RRFK   float64 `toml:"rrf_k" json:"rrf_k"`
	// Depth is how many results each list contributes.
	Depth int `toml:"fusion_depth" json:"fusion_depth"`
}

// DefaultFusion: RRF treats both lists as equals, which drags BM25 down
// when the dense model is much weaker (as the built-in one is); a score
// fusion with a small dense weight adds its signal without that cost.
func DefaultFusion() Fusion {
	return Fusion{Method: "weighted", Alpha: 0.2, RRFK: 60, Depth: 100}
}

// Validate checks the fusion settings.
func (f Fusion) Validate() error {
	switch {
	case f.Method != "weighted" && f.Method != "rrf":
		return fmt.Errorf("retrieve.fusion = %q; want weighted or rrf", f.Method)
	case f.Alpha < 0 || f.Alpha > 1:
		return fmt.Errorf("retrieve.alpha = %g; want a weight between 0 and 1", f.Alpha)
	case f.RRFK <= 0 || f.Depth < 1:
		return fmt.Errorf("retrieve.rrf_k and retrieve.fusion_depth must be positive")
	}
	return nil
}

func (r *Retriever) hybrid(ctx context.Context, q Query, qv []float32, k int) ([]corpus.Hit, error) {
	f := r.Fusion
	if f.Method == "" {
		f = DefaultFusion()
	}
	depth := max(f.Depth, k)
	lex, err := r.lexical(ctx, q, depth)
	if err != nil {
		return nil, err
	}
	dense, err := r.dense(ctx, q, qv, depth)
	if err != nil {
		return nil, err
	}
	var fused map[string]float64
	if f.Method == "rrf" {
		fused = rrf(f.RRFK, lex, dense)
	} else {
		fused = weighted(f.Alpha, lex, dense)
	}
	byID := map[string]corpus.Hit{}
	for _, h := range append(lex, dense...) {
		if _, ok := byID[h.ID]; !ok {
			byID[h.ID] = h
		}
	}
	out := make([]corpus.Hit, 0, len(fused))
	for id, s := range fused {
		h := byID[id]
		h.Score = s
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(k, len(out))], nil
}

// rrf scores each chunk by Σ 1/(k + rank) over the lists it appears in.
func rrf(k float64, lists ...[]corpus.Hit) map[string]float64 {
	out := map[string]float64{}
	for _, l := range lists {
		for i, h := range l {
			out[h.ID] += 1 / (k + float64(i+1))
		}
	}
	return out
}

// weighted min-max normalises each list's scores to [0,1] for this query
// and combines them, alpha on dense; a chunk missing from a list scores 0
// there.
func weighted(alpha float64, lex, dense []corpus.Hit) map[string]float64 {
	out := map[string]float64{}
	for _, part := range []struct {
		hits []corpus.Hit
		w    float64
	}{{lex, 1 - alpha}, {dense, alpha}} {
		if len(part.hits) == 0 {
			continue
		}
		lo, hi := part.hits[len(part.hits)-1].Score, part.hits[0].Score
		for _, h := range part.hits {
			lo, hi = min(lo, h.Score), max(hi, h.Score)
		}
		for _, h := range part.hits {
			n := 1.0
			if hi > lo {
				n = (h.Score - lo) / (hi - lo)
			}
			out[h.ID] += part.w * n
		}
	}
	return out
}
