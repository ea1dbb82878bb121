package vector

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
)

func randomUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func exact(vecs map[uint64][]float32, q []float32, k int) []uint64 {
	type s struct {
		id uint64
		v  float64
	}
	var all []s
	for id, v := range vecs {
		var d float64
		for i := range v {
			d += float64(v[i]) * float64(q[i])
		}
		all = append(all, s{id, d})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var out []uint64
	for _, x := range all[:min(k, len(all))] {
		out = append(out, x.id)
	}
	return out
}

func recall(t *testing.T, h *HNSW, vecs map[uint64][]float32, r *rand.Rand, queries, k int) float64 {
	t.Helper()
	hit, total := 0, 0
	for range queries {
		q := randomUnit(r, h.Dim())
		want := exact(vecs, q, k)
		got, err := h.Search(q, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := map[uint64]bool{}
		for _, g := range got {
			if _, ok := vecs[g.ID]; !ok {
				t.Fatalf("search returned %d, which is not (or no longer) indexed", g.ID)
			}
			in[g.ID] = true
		}
		for _, w := range want {
			if in[w] {
				hit++
			}
		}
		total += len(want)
	}
	return float64(hit) / float64(total)
}

// Recall@10 against exact search must stay high after inserts, deletes
// and updates, and after a save/load round trip.
func TestHNSWRecallDeletesAndPersistence(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, dim = 3000, 48
	h := NewHNSW(dim, DefaultParams())
	vecs := map[uint64][]float32{}
	for i := range n {
		v := randomUnit(r, dim)
		vecs[uint64(i)] = v
		if err := h.Add(uint64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	if rc := recall(t, h, vecs, r, 100, 10); rc < 0.95 {
		t.Errorf("recall@10 = %.3f after inserts", rc)
	} else {
		t.Logf("recall@10 after %d inserts: %.3f", n, rc)
	}
	for i := 0; i < n; i += 3 {
		h.Delete(uint64(i))
		delete(vecs, uint64(i))
	}
	for i := 1; i < n; i += 7 { // updates move vectors
		v := randomUnit(r, dim)
		vecs[uint64(i)] = v
		h.Add(uint64(i), v)
	}
	if h.Len() != len(vecs) {
		t.Fatalf("Len = %d, want %d", h.Len(), len(vecs))
	}
	if rc := recall(t, h, vecs, r, 100, 10); rc < 0.9 {
		t.Errorf("recall@10 = %.3f after deletes and updates", rc)
	}
	path := filepath.Join(t.TempDir(), "idx")
	if err := h.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q := randomUnit(r, dim)
	a, _ := h.Search(q, 10, nil)
	b, _ := loaded.Search(q, 10, nil)
	if len(a) != len(b) {
		t.Fatalf("loaded index answers %d results, original %d", len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("result %d differs after reload: %v vs %v", i, a[i], b[i])
		}
	}
	even := func(id uint64) bool { return id%2 == 0 }
	got, _ := loaded.Search(q, 10, even)
	for _, g := range got {
		if g.ID%2 != 0 {
			t.Errorf("filter let %d through", g.ID)
		}
	}
}

func TestHNSWConcurrentReadersDuringWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	h := NewHNSW(16, DefaultParams())
	for i := range 500 {
		h.Add(uint64(i), randomUnit(r, 16))
	}
	qs := make([][]float32, 50)
	for i := range qs {
		qs[i] = randomUnit(r, 16)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if res, err := h.Search(qs[(i+w)%len(qs)], 5, nil); err != nil || len(res) == 0 {
					t.Errorf("search during writes: %v, %d results", err, len(res))
					return
				}
			}
		}()
	}
	wr := rand.New(rand.NewPCG(7, 8))
	for i := 500; i < 1000; i++ {
		h.Add(uint64(i), randomUnit(wr, 16))
		h.Delete(uint64(i - 500))
	}
	wg.Wait()
}

func TestReadCorruptIndex(t *testing.T) {
	data := savedGraph(t, 1, 50, 8)
	for _, cut := range []int{0, 4, 30, len(data) / 2, len(data) - 3} {
		if _, err := ReadHNSW(bytes.NewReader(data[:cut]), 1); err == nil {
			t.Errorf("truncated at %d: no error", cut)
		}
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-2] = 0x7f // a link to a node that does not exist
	if _, err := ReadHNSW(bytes.NewReader(bad), 1); err == nil {
		t.Error("out-of-range link accepted")
	}
}

func FuzzReadHNSW(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	h := NewHNSW(4, DefaultParams())
	for i := range 20 {
		h.Add(uint64(i), randomUnit(r, 4))
	}
	var buf bytes.Buffer
	h.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadHNSW(bytes.NewReader(data), 1)
		if err != nil {
			return
		}
		g.Search(make([]float32, g.Dim()), 3, nil) // must not panic
	})
}

// BenchmarkHNSW: building a graph of 5,000 random unit vectors of 512
// dimensions (ms per insert), and searching it (50 queries, k = 10) at
// three ef against the exact scan of the same vectors in the same run,
// with the graph's recall@10: the recall/speed curve.
func BenchmarkHNSW(b *testing.B) {
	const n, dim = 5000, 512
	r := rand.New(rand.NewPCG(11, 12))
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = randomUnit(r, dim)
	}
	var g *HNSW
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			g = NewHNSW(dim, DefaultParams())
			for i, v := range vecs {
				if err := g.Add(uint64(i), v); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/insert")
	})
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)
	}
	b.Run("build-parallel", func(b *testing.B) {
		for b.Loop() {
			pg := NewHNSW(dim, DefaultParams())
			if err := pg.AddBatch(b.Context(), ids, vecs, runtime.GOMAXPROCS(0)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/insert")
	})
	f := NewFlat(dim, n)
	for _, v := range vecs {
		f.Add(v)
	}
	queries := make([][]float32, 50)
	for i := range queries {
		queries[i] = randomUnit(r, dim)
	}
	for _, ef := range []int{32, 96, 200} {
		b.Run(fmt.Sprintf("search-ef%d", ef), func(b *testing.B) {
			g.SetEfSearch(ef)
			for b.Loop() {
				for _, q := range queries {
					g.Search(q, 10, nil)
				}
			}
			found := 0
			for _, q := range queries {
				res, _ := g.Search(q, 10, nil)
				exact := map[int]bool{}
				for _, c := range f.Search(q, 10, nil) {
					exact[c.Pos] = true
				}
				for _, x := range res {
					if exact[int(x.ID)] {
						found++
					}
				}
			}
			b.ReportMetric(float64(found)/float64(10*len(queries)), "recall@10")
		})
	}
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			for _, q := range queries {
				f.Search(q, 10, nil)
			}
		}
	})
}

// BenchmarkLoadHNSW reads back a saved graph of 5,000 x 512 (about 11 MB)
// from memory: the cost a search pays on the first query after an
// ingest.
func BenchmarkLoadHNSW(b *testing.B) {
	data := savedGraph(b, 13, 5000, 512)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadHNSW(bytes.NewReader(data), 1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAddBatchParallel: a graph built by four workers at once finds the
// exact neighbours about as well as one built in order, every id is in
// it once, and replacing ids in a batch keeps the count right.
func TestAddBatchParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const n, dim = 3000, 32
	ids := make([]uint64, n)
	vecs := make([][]float32, n)
	byID := map[uint64][]float32{}
	for i := range vecs {
		ids[i], vecs[i] = uint64(i+1), randomUnit(r, dim)
		byID[ids[i]] = vecs[i]
	}
	recall := func(g *HNSW) float64 {
		found := 0
		for range 50 {
			q := randomUnit(r, dim)
			want := map[uint64]bool{}
			for _, id := range exact(byID, q, 10) {
				want[id] = true
			}
			res, _ := g.Search(q, 10, nil)
			for _, x := range res {
				if want[x.ID] {
					found++
				}
			}
		}
		return float64(found) / 500
	}
	seq, par := NewHNSW(dim, DefaultParams()), NewHNSW(dim, DefaultParams())
	if err := seq.AddBatch(t.Context(), ids, vecs, 1); err != nil {
		t.Fatal(err)
	}
	if err := par.AddBatch(t.Context(), ids, vecs, 4); err != nil {
		t.Fatal(err)
	}
	rs, rp := recall(seq), recall(par)
	if rp < 0.9 || rp < rs-0.05 || par.Len() != n {
		t.Errorf("recall@10 in order %.3f, in parallel %.3f; %d nodes", rs, rp, par.Len())
	}
	if err := par.AddBatch(t.Context(), ids[:100], vecs[:100], 4); err != nil || par.Len() != n || par.Deleted() != 100 {
		t.Errorf("replacing 100: %v, %d live, %d deleted", err, par.Len(), par.Deleted())
	}
}

// savedGraph is a graph of n random unit vectors as WriteTo writes it.
func savedGraph(tb testing.TB, seed uint64, n, dim int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	g := NewHNSW(dim, DefaultParams())
	for i := range n {
		g.Add(uint64(i), randomUnit(r, dim))
	}
	var buf bytes.Buffer
	if _, err := g.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
