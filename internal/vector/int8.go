package vector

import "math"

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
	at := len(s.codes)
	s.codes = append(s.codes, make([]int8, s.dim)...)
	s.scales = append(s.scales, quantize(v, s.codes[at:]))
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
	top := NewTopK(n)
	for p := 0; p < s.Len(); p++ {
		if keep != nil && !keep(p) {
			continue
		}
		acc := dotInt8(s.codes[p*s.dim:(p+1)*s.dim], qc)
		top.Offer(Candidate{p, float32(acc) * s.scales[p] * qs})
	}
	return top.Best()
}

// dotInt8Go is the inner product of two code vectors of one length in
// plain Go, four products a step into independent sums so the steps
// overlap: the fallback of dotInt8 and its reference in tests.
func dotInt8Go(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}
