package sqlite

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
)

// quantisedStore makes a store of n random vectors of dimension dim in
// dir, quantised, its index loaded.
func quantisedStore(t *testing.T, dir string, n, dim int) *Corpus {
	t.Helper()
	s, err := Create(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Bind(t.Context(), corpus.Identity{Embedder: "m@1", Dim: dim}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, uint64(n)))
	var docs []corpus.Document
	for i := range n {
		d := doc(fmt.Sprintf("d%d/%04d.md", i%3, i), fmt.Sprintf("t%d", i))
		d.Tags = []string{fmt.Sprintf("g%d", i%2)}
		d.Chunks[0].Vector = unitVec(r, dim)
		docs = append(docs, d)
	}
	if err := s.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	s.Quantize(true)
	return s
}

// loadQuantised loads s's index and requires a mapped sidecar.
func loadQuantised(t *testing.T, s *Corpus) *denseIndex {
	t.Helper()
	idx, err := s.loadDense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !canMap {
		t.Skip("no memory mapping on this system: re-ranking reads SQLite")
	}
	if idx.q8 == nil || idx.f32 == nil {
		t.Fatalf("quantised index without a mapped sidecar: q8 %v, f32 %v", idx.q8 != nil, idx.f32 != nil)
	}
	return idx
}

// sameCandidates requires identical ids and bit-identical scores.
func sameCandidates(t *testing.T, got, want []candidate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d candidates; want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].id != want[i].id || math.Float32bits(got[i].score) != math.Float32bits(want[i].score) {
			t.Fatalf("rank %d: %d %v; want %d %v", i, got[i].id, got[i].score, want[i].id, want[i].score)
		}
	}
}

// checkSidecar requires the sidecar file of idx's generation to hold
// exactly the store's vectors.
func checkSidecar(t *testing.T, s *Corpus, idx *denseIndex) {
	t.Helper()
	gen, _ := strconv.ParseUint(idx.gen, 10, 64)
	m, err := openF32(s.f32Path(gen), gen)
	if err != nil {
		t.Fatalf("sidecar: %v", err)
	}
	defer m.retire()
	vecs, err := s.vectorsFromDB(t.Context(), idx.ids)
	if err != nil {
		t.Fatal(err)
	}
	if m.count != len(idx.ids) {
		t.Fatalf("sidecar holds %d vectors; the store %d", m.count, len(idx.ids))
	}
	for p, id := range idx.ids {
		row, vec := m.row(p), vecs[id]
		if len(row) != len(vec) {
			t.Fatalf("sidecar row %d has dimension %d; the vector %d", p, len(row), len(vec))
		}
		for i := range vec {
			if math.Float32bits(row[i]) != math.Float32bits(vec[i]) {
				t.Fatalf("sidecar row %d differs from chunk %d's vector at %d", p, id, i)
			}
		}
	}
}

// Re-ranking from the mapped sidecar gives what re-ranking from SQLite
// gives: the same candidates, scores equal bit for bit.
func TestF32SidecarRerankIsExact(t *testing.T) {
	const n, dim = 600, 48
	s := quantisedStore(t, filepath.Join(t.TempDir(), "store"), n, dim)
	idx := loadQuantised(t, s)
	fromDB := *idx
	fromDB.f32 = nil
	r := rand.New(rand.NewPCG(3, 9))
	for _, tc := range []struct {
		name string
		dq   corpus.DenseQuery
	}{
		{"k1", corpus.DenseQuery{K: 1}},
		{"k10", corpus.DenseQuery{K: 10}},
		{"k50", corpus.DenseQuery{K: 50}},
		{"prefix", corpus.DenseQuery{K: 10, PathPrefix: "d1/"}},
		{"tag", corpus.DenseQuery{K: 10, Tags: []string{"g0"}}},
		{"k beyond the store", corpus.DenseQuery{K: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 10 {
				tc.dq.Vector = unitVec(r, dim)
				got, err := s.nearest(t.Context(), idx, tc.dq)
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.nearest(t.Context(), &fromDB, tc.dq)
				if err != nil {
					t.Fatal(err)
				}
				sameCandidates(t, got, want)
			}
		})
	}
}

// VectorsOf under quantisation reads the sidecar: the stored vectors,
// bit for bit, in copies that outlive the mapping.
func TestF32SidecarVectorsOf(t *testing.T) {
	s := quantisedStore(t, filepath.Join(t.TempDir(), "store"), 50, 8)
	idx := loadQuantised(t, s)
	ids := []int64{idx.ids[0], idx.ids[17], idx.ids[49], 1 << 40}
	got, err := s.VectorsOf(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.vectorsFromDB(t.Context(), ids[:3])
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // unmaps: the copies must stay readable
	if len(got) != len(want) {
		t.Fatalf("%d vectors; want %d", len(got), len(want))
	}
	for id, w := range want {
		if !slices.Equal(floatBytes(got[id]), floatBytes(w)) {
			t.Errorf("chunk %d: %v; want %v", id, got[id], w)
		}
	}
}

// A sidecar is a cache that is never trusted: one that does not match
// the store, however it differs, is rewritten while the index loads.
func TestF32SidecarNotTrusted(t *testing.T) {
	const n, dim = 120, 16
	rowBytes := 4 * dim
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"missing", nil},
		{"garbage", func([]byte) []byte { return []byte("garbage") }},
		{"empty", func([]byte) []byte { return nil }},
		{"header only", func(b []byte) []byte { return b[:f32HeaderSize] }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"a row short", func(b []byte) []byte { return b[:len(b)-rowBytes] }},
		{"trailing bytes", func(b []byte) []byte { return append(b, 0, 0, 0, 0) }},
		{"bad magic", func(b []byte) []byte { b[0] ^= 1; return b }},
		{"other version", func(b []byte) []byte { binary.NativeEndian.PutUint32(b[8:], 2); return b }},
		{"other byte order", func(b []byte) []byte {
			binary.NativeEndian.PutUint32(b[8:], f32Version<<24)
			return b
		}},
		{"other generation", func(b []byte) []byte {
			binary.NativeEndian.PutUint64(b[24:], binary.NativeEndian.Uint64(b[24:])+1)
			return b
		}},
		{"other dimension, same size", func(b []byte) []byte {
			binary.NativeEndian.PutUint32(b[12:], uint32(2*dim))
			binary.NativeEndian.PutUint64(b[16:], uint64(n/2))
			return b
		}},
		{"a bit flipped in the first row", func(b []byte) []byte { b[f32HeaderSize] ^= 1; return b }},
		{"a bit flipped mid-file", func(b []byte) []byte { b[f32HeaderSize+n/2*rowBytes+5] ^= 0x40; return b }},
		{"a bit flipped in the last row", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }},
		{"an extra row", func(b []byte) []byte {
			binary.NativeEndian.PutUint64(b[16:], uint64(n+1))
			return append(b, b[f32HeaderSize:f32HeaderSize+rowBytes]...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			s := quantisedStore(t, dir, n, dim)
			idx := loadQuantised(t, s)
			gen, _ := strconv.ParseUint(idx.gen, 10, 64)
			path := s.f32Path(gen)
			s.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.damage == nil {
				os.Remove(path)
			} else if err := os.WriteFile(path, tc.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err = Open(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Quantize(true)
			idx = loadQuantised(t, s)
			checkSidecar(t, s, idx)
			q := corpus.DenseQuery{Vector: unitVec(rand.New(rand.NewPCG(1, 1)), dim), K: 5}
			fromDB := *idx
			fromDB.f32 = nil
			got, err := s.nearest(t.Context(), idx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := s.nearest(t.Context(), &fromDB, q)
			sameCandidates(t, got, want)
		})
	}
}

// A user who may not write the store uses a sidecar that matches and
// re-ranks from SQLite otherwise, writing nothing.
func TestF32SidecarReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage bool
		mapped bool
	}{
		{"matching sidecar", false, true},
		{"stale sidecar", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			s := quantisedStore(t, dir, 30, 8)
			idx := loadQuantised(t, s)
			gen, _ := strconv.ParseUint(idx.gen, 10, 64)
			if tc.damage {
				b, _ := os.ReadFile(s.f32Path(gen))
				b[len(b)-1] ^= 1
				os.WriteFile(s.f32Path(gen), b, 0o644)
			}
			before, _ := os.ReadFile(s.f32Path(gen))
			ro, err := Open(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			ro.readOnly = true // as Open finds it for a user who may not write the file
			ro.Quantize(true)
			idx, err = ro.loadDense(t.Context())
			if err != nil || (idx.f32 != nil) != tc.mapped {
				t.Fatalf("sidecar mapped: %v, %v; want %v", idx.f32 != nil, err, tc.mapped)
			}
			after, _ := os.ReadFile(s.f32Path(gen))
			if !slices.Equal(before, after) {
				t.Error("a read-only handle rewrote the sidecar")
			}
			if _, err := ro.SearchDense(t.Context(), corpus.DenseQuery{Vector: unitVec(rand.New(rand.NewPCG(2, 2)), 8), K: 3}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A write makes a new generation: its sidecar is written, the old one
// deleted; temporary files a crash left are never read, and deleted once
// old enough that no writer can still be at work on them.
func TestF32SidecarFollowsGenerations(t *testing.T) {
	const dim = 8
	dir := filepath.Join(t.TempDir(), "store")
	s := quantisedStore(t, dir, 50, dim)
	idx := loadQuantised(t, s)
	gen, _ := strconv.ParseUint(idx.gen, 10, 64)
	staleTemp := filepath.Join(dir, f32Name(gen+1)+".tmp123")
	freshTemp := filepath.Join(dir, f32Name(gen+1)+".tmp456")
	for _, f := range []string{staleTemp, freshTemp} {
		if err := os.WriteFile(f, []byte("half a sidecar"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * f32TempMaxAge)
	os.Chtimes(staleTemp, old, old)

	d := doc("new.md", "new")
	d.Chunks[0].Vector = unitVec(rand.New(rand.NewPCG(5, 5)), dim)
	if err := s.Upsert(t.Context(), []corpus.Document{d}); err != nil {
		t.Fatal(err)
	}
	next := loadQuantised(t, s)
	if next == idx || next.gen == idx.gen {
		t.Fatal("the write did not make a new index")
	}
	checkSidecar(t, s, next)
	nextGen, _ := strconv.ParseUint(next.gen, 10, 64)
	for _, tc := range []struct {
		path string
		want bool
	}{
		{s.f32Path(gen), false},
		{s.f32Path(nextGen), true},
		{staleTemp, false},
		{freshTemp, true},
	} {
		if _, err := os.Stat(tc.path); (err == nil) != tc.want {
			t.Errorf("%s exists: %v; want %v", filepath.Base(tc.path), err == nil, tc.want)
		}
	}
}

// A search holding a sidecar keeps it mapped while its index is replaced
// or the store closed; the last one out unmaps it.
func TestF32MapOutlivesItsIndex(t *testing.T) {
	const dim = 8
	for _, tc := range []struct {
		name    string
		replace func(t *testing.T, s *Corpus)
	}{
		{"float32 search", func(t *testing.T, s *Corpus) { s.Quantize(false) }},
		{"repair", func(t *testing.T, s *Corpus) {
			if err := s.Repair(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"new generation", func(t *testing.T, s *Corpus) {
			d := doc("new.md", "new")
			d.Chunks[0].Vector = unitVec(rand.New(rand.NewPCG(5, 5)), dim)
			if err := s.Upsert(t.Context(), []corpus.Document{d}); err != nil {
				t.Fatal(err)
			}
			loadQuantised(t, s)
		}},
		{"close", func(t *testing.T, s *Corpus) { s.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := quantisedStore(t, filepath.Join(t.TempDir(), "store"), 40, dim)
			m := loadQuantised(t, s).f32
			if !m.acquire() {
				t.Fatal("a fresh sidecar cannot be acquired")
			}
			want := append([]float32(nil), m.row(39)...)
			tc.replace(t, s)
			if m.data == nil || m.acquire() {
				t.Fatalf("replaced: mapped %v, may be acquired anew", m.data != nil)
			}
			if got := m.row(39); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("row read after replacement: %v; want %v", got, want)
			}
			m.release()
			if m.data != nil {
				t.Error("still mapped after the last release")
			}
		})
	}
}

// Quantised searches run while another goroutine writes and the index is
// replaced under them (run with -race).
func TestF32SidecarConcurrentSearches(t *testing.T) {
	const dim = 16
	s := quantisedStore(t, filepath.Join(t.TempDir(), "store"), 200, dim)
	loadQuantised(t, s)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 40 {
				if _, err := s.SearchDense(t.Context(), corpus.DenseQuery{Vector: unitVec(r, dim), K: 5}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 8 {
		d := doc(fmt.Sprintf("w%d.md", i), "w")
		d.Chunks[0].Vector = unitVec(r, dim)
		if err := s.Upsert(t.Context(), []corpus.Document{d}); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}
