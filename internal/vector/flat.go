package vector

import "github.com/viterin/vek/vek32"

// Flat holds float32 vectors of one dimension in one contiguous block,
// so an exact scan reads memory in order and the dot products run as
// SIMD over it.
type Flat struct {
	dim  int
	data []float32
}

// NewFlat returns an empty set for vectors of dimension dim, with room
// for about n of them.
func NewFlat(dim, n int) *Flat { return &Flat{dim: dim, data: make([]float32, 0, dim*n)} }

// Dim is the vectors' dimension.
func (f *Flat) Dim() int { return f.dim }

// Len is the number of vectors.
func (f *Flat) Len() int {
	if f.dim == 0 {
		return 0
	}
	return len(f.data) / f.dim
}

// Add appends v (of dimension Dim); its position is its index.
func (f *Flat) Add(v []float32) { f.data = append(f.data, v...) }

// Row is the vector at position p; it aliases the set's memory.
func (f *Flat) Row(p int) []float32 { return f.data[p*f.dim : (p+1)*f.dim : (p+1)*f.dim] }

// Search returns the k positions with the highest inner product with q
// among those keep accepts (nil keeps all), best first, ties by position.
func (f *Flat) Search(q []float32, k int, keep func(pos int) bool) []Candidate {
	top := NewTopK(k)
	for p, n := 0, f.Len(); p < n; p++ {
		if keep != nil && !keep(p) {
			continue
		}
		top.Offer(Candidate{Pos: p, Score: vek32.Dot(f.data[p*f.dim:(p+1)*f.dim], q)})
	}
	return top.Best()
}
