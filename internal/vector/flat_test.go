package vector

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/viterin/vek/vek32"
)

func randomVectors(rng *rand.Rand, n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(rng.NormFloat64())
		}
	}
	return out
}

// exhaustive is the reference: score every kept vector, sort them all.
func exhaustive(vecs [][]float32, q []float32, k int, keep func(int) bool) []Candidate {
	var all []Candidate
	for p, v := range vecs {
		if keep == nil || keep(p) {
			all = append(all, Candidate{p, vek32.Dot(v, q)})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Score != all[j].Score {
			return all[i].Score > all[j].Score
		}
		return all[i].Pos < all[j].Pos
	})
	return all[:min(k, len(all))]
}

// TestFlatSearchIsExact: the heap scan returns exactly what scoring and
// sorting everything returns, with a filter, with ties, with k past the
// set's size and k = 0.
func TestFlatSearchIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vecs := randomVectors(rng, 500, 16)
	vecs = append(vecs, vecs[7], vecs[7], vecs[42]) // ties
	f := NewFlat(16, len(vecs))
	for _, v := range vecs {
		f.Add(v)
	}
	if f.Len() != len(vecs) || !slices.Equal(f.Row(42), vecs[42]) {
		t.Fatalf("len %d, row 42 %v", f.Len(), f.Row(42))
	}
	even := func(p int) bool { return p%2 == 0 }
	for _, tc := range []struct {
		k    int
		keep func(int) bool
	}{{10, nil}, {1, nil}, {10, even}, {1000, nil}, {0, nil}, {3, func(int) bool { return false }}} {
		for range 20 {
			q := randomVectors(rng, 1, 16)[0]
			if rng.IntN(4) == 0 {
				q = vecs[7] // its twins tie at the top
			}
			got, want := f.Search(q, tc.k, tc.keep), exhaustive(vecs, q, tc.k, tc.keep)
			if !slices.Equal(got, want) {
				t.Fatalf("k=%d: heap scan %v\nexhaustive %v", tc.k, got, want)
			}
		}
	}
}

// TestInt8SearchRanksLikeFloat: the quantised scan finds the float32
// top 10 among its top 40, as the re-ranking relies on.
func TestInt8SearchRanksLikeFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vecs := randomVectors(rng, 2000, 64)
	s := NewInt8Set(64)
	for _, v := range vecs {
		s.Add(v)
	}
	found, total := 0, 0
	for range 20 {
		q := randomVectors(rng, 1, 64)[0]
		in := map[int]bool{}
		for _, c := range s.Search(q, 40, nil) {
			in[c.Pos] = true
		}
		for _, c := range exhaustive(vecs, q, 10, nil) {
			total++
			if in[c.Pos] {
				found++
			}
		}
	}
	if float64(found)/float64(total) < 0.99 {
		t.Errorf("int8 top 40 holds %d of %d float32 top-10 results", found, total)
	}
}

// plainHeap is the yardstick: container/heap over vek32.Dot, written the
// way anyone would, vectors as separate slices.
type plainHeap []Candidate

func (h plainHeap) Len() int           { return len(h) }
func (h plainHeap) Less(i, j int) bool { return h[i].Score < h[j].Score }
func (h plainHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *plainHeap) Push(x any)        { *h = append(*h, x.(Candidate)) }
func (h *plainHeap) Pop() any          { o := *h; x := o[len(o)-1]; *h = o[:len(o)-1]; return x }

func plainScan(vecs [][]float32, q []float32, k int) []Candidate {
	h := make(plainHeap, 0, k+1)
	for p, v := range vecs {
		s := vek32.Dot(v, q)
		if len(h) < k {
			heap.Push(&h, Candidate{p, s})
		} else if s > h[0].Score {
			h[0] = Candidate{p, s}
			heap.Fix(&h, 0)
		}
	}
	return h
}

// BenchmarkExactScan: 100k x 512 vectors, k = 10. "plain" is the
// yardstick (a heap over vek32.Dot); "flat" is Flat.Search; "sort-all"
// scores everything and sorts, as the scan did before; "int8" is the
// quantised scan. Report each as a ratio of plain's ns/op, same run.
func BenchmarkExactScan(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, dim = 100_000, 512
	vecs := randomVectors(rng, n, dim)
	f := NewFlat(dim, n)
	q8 := NewInt8Set(dim)
	for _, v := range vecs {
		f.Add(v)
		q8.Add(v)
	}
	q := randomVectors(rng, 1, dim)[0]
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			plainScan(vecs, q, 10)
		}
		b.ReportMetric(float64(n*dim*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("flat", func(b *testing.B) {
		for b.Loop() {
			f.Search(q, 10, nil)
		}
		b.ReportMetric(float64(n*dim*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("flat-filtered", func(b *testing.B) {
		for b.Loop() {
			f.Search(q, 10, func(p int) bool { return p%2 == 0 })
		}
	})
	b.Run("sort-all", func(b *testing.B) {
		for b.Loop() {
			exhaustive(vecs, q, 10, nil)
		}
	})
	b.Run("int8", func(b *testing.B) {
		for b.Loop() {
			q8.Search(q, 40, nil)
		}
		b.ReportMetric(float64(n*dim)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}
