package vector

import (
	"math"
	"sort"
)

// Int8Set holds vectors quantised to int8 with one scale per vector:
// a quarter of the memory of float32, at some cost in precision that a
// float32 re-ranking of the best candidates wins back.
type Int8Set struct {
	dim    int
	codes  []int8
	scales []float32
}

// NewInt8Set returns an empty set for vectors of dimension dim.
func NewInt8Set(dim int) *Int8Set { return &Int8Set{dim: dim} }

// Len is the number of vectors.
func (s *Int8Set) Len() int { return len(s.scales) }

// Bytes is the memory the codes and scales take.
func (s *Int8Set) Bytes() int { return len(s.codes) + 4*len(s.scales) }

func quantize(v []float32, dst []int8) float32 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	if m == 0 {
		return 0
	}
	scale := m / 127
	for i, x := range v {
		dst[i] = int8(math.Round(float64(x) / scale))
	}
	return float32(scale)
}

// Add appends v; its position is its index in search results.
func (s *Int8Set) Add(v []float32) {
	codes := make([]int8, s.dim)
	s.scales = append(s.scales, quantize(v, codes))
	s.codes = append(s.codes, codes...)
}

// Candidate is a position and its approximate inner product.
type Candidate struct {
	Pos   int
	Score float32
}

// Search returns the n positions with the highest approximate inner
// product with q among those keep accepts (nil keeps all), best first.
func (s *Int8Set) Search(q []float32, n int, keep func(pos int) bool) []Candidate {
	qc := make([]int8, s.dim)
	qs := quantize(q, qc)
	out := make([]Candidate, 0, s.Len())
	for p := 0; p < s.Len(); p++ {
		if keep != nil && !keep(p) {
			continue
		}
		codes := s.codes[p*s.dim : (p+1)*s.dim]
		var acc int32
		for i, c := range codes {
			acc += int32(c) * int32(qc[i])
		}
		out = append(out, Candidate{p, float32(acc) * s.scales[p] * qs})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Pos < out[j].Pos
	})
	return out[:min(n, len(out))]
}
