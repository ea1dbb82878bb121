package vector

import (
	"math/rand/v2"
	"testing"
)

// With a float32 re-ranking of 4k candidates, int8 search should find
// nearly every true top-10 neighbour.
func TestInt8RecallWithRerank(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n, dim, k = 4000, 64, 10
	set := NewInt8Set(dim)
	vecs := map[uint64][]float32{}
	all := make([][]float32, n)
	for i := range n {
		v := randomUnit(r, dim)
		all[i], vecs[uint64(i)] = v, v
		set.Add(v)
	}
	if set.Bytes() >= n*dim*4/3 {
		t.Errorf("int8 set takes %d bytes for %d float32 values", set.Bytes(), n*dim)
	}
	hit, total := 0, 0
	for range 50 {
		q := randomUnit(r, dim)
		cands := set.Search(q, 4*k, nil)
		// Re-rank by the exact product, as the store does.
		best := make([]Candidate, len(cands))
		for i, c := range cands {
			var d float32
			for j := range q {
				d += q[j] * all[c.Pos][j]
			}
			best[i] = Candidate{c.Pos, d}
		}
		sortCands(best)
		got := map[uint64]bool{}
		for _, c := range best[:k] {
			got[uint64(c.Pos)] = true
		}
		for _, w := range exact(vecs, q, k) {
			if got[w] {
				hit++
			}
		}
		total += k
	}
	if rc := float64(hit) / float64(total); rc < 0.98 {
		t.Errorf("int8 + re-rank recall@10 = %.3f", rc)
	} else {
		t.Logf("int8 + re-rank recall@10 = %.3f", rc)
	}
	if got := set.Search(randomUnit(r, dim), 5, func(p int) bool { return p%2 == 1 }); len(got) != 5 || got[0].Pos%2 != 1 {
		t.Errorf("filtered search: %v", got)
	}
}

func sortCands(c []Candidate) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j].Score > c[j-1].Score; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

// TestDotInt8: the SIMD inner product equals the plain one for every
// length (the tail past a multiple of 32 included) and at the extremes
// of int8.
func TestDotInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 200; n++ {
		a, b := make([]int8, n), make([]int8, n)
		for i := range a {
			a[i], b[i] = int8(rng.IntN(256)-128), int8(rng.IntN(256)-128)
		}
		if got, want := dotInt8(a, b), dotInt8Go(a, b); got != want {
			t.Fatalf("n=%d: %d, want %d", n, got, want)
		}
	}
	a, b := make([]int8, 1024), make([]int8, 1024)
	for i := range a {
		a[i], b[i] = -128, -128
	}
	if got := dotInt8(a, b); got != 1024*128*128 {
		t.Fatalf("extremes: %d", got)
	}
}
