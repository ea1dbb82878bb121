package sqlite

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
)

// BenchmarkSearchDense: SearchDense on a store of 20,000 x 512 vectors
// (below the HNSW switch-on point, so an exact scan), k = 10, float32
// and int8, against the yardstick PlainDenseTopK (a plain heap over
// vek32.Dot on the same vectors in memory), in the same run. The store's figure includes
// reading the 10 hits' chunks back from SQLite. int8 re-ranks its best 40
// candidates with float32 vectors read from the memory-mapped sidecar, or
// (store-int8-sqlite-rerank, as before the sidecar) from SQLite.
func BenchmarkSearchDense(b *testing.B) {
	const n, dim, per = 20_000, 512, 50
	dir := filepath.Join(b.TempDir(), "store")
	s, err := Create(b.Context(), dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Bind(b.Context(), corpus.Identity{Embedder: "bench@1", Dim: dim}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for d := range n / per {
		doc := corpus.Document{Path: fmt.Sprintf("d%04d.md", d), Format: "text", Hash: fmt.Sprint(d), Signature: "sig"}
		for c := range per {
			v := unitVec(rng, dim)
			doc.Chunks = append(doc.Chunks, corpus.Chunk{ID: fmt.Sprintf("c%d-%d", d, c), Ord: c, Text: "chunk", LineStart: 1, LineEnd: 1, Vector: v})
		}
		if err := s.Upsert(b.Context(), []corpus.Document{doc}); err != nil {
			b.Fatal(err)
		}
	}
	q := unitVec(rng, dim)
	if err := s.PlainDenseTopK(b.Context(), q, 10); err != nil { // load the vectors
		b.Fatal(err)
	}
	b.Run("plain-scan", func(b *testing.B) {
		for b.Loop() {
			if err := s.PlainDenseTopK(b.Context(), q, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name     string
		quantize bool
		sidecar  bool // re-rank from the mapped float32 sidecar, else from SQLite
	}{
		{"store-float32", false, false},
		{"store-int8", true, true},
		{"store-int8-sqlite-rerank", true, false},
	} {
		s.Quantize(tc.quantize)
		if _, err := s.SearchDense(b.Context(), corpus.DenseQuery{Vector: q, K: 10}); err != nil { // load the vectors
			b.Fatal(err)
		}
		if idx := s.dense.idx; tc.quantize && !tc.sidecar && idx.f32 != nil {
			idx.f32.retire()
			idx.f32 = nil
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchDense(b.Context(), corpus.DenseQuery{Vector: q, K: 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) { benchInterleaved(b, dir, q) })
	b.Run("rerank", func(b *testing.B) { benchRerank(b, dir, q) })
}

// benchRerank times the re-ranking of int8's 40 candidates alone, from
// the sidecar and from SQLite in turn within each iteration.
func benchRerank(b *testing.B, dir string, q []float32) {
	ctx := b.Context()
	s, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Quantize(true)
	idx, err := s.loadDense(ctx)
	if err != nil || idx.f32 == nil {
		b.Fatalf("no sidecar: %v", err)
	}
	fromDB := *idx
	fromDB.f32 = nil
	cands := idx.q8.Search(q, rerankDepth*10, nil)
	var spent [2]time.Duration
	for b.Loop() {
		for i, x := range []*denseIndex{idx, &fromDB} {
			start := time.Now()
			if _, err := s.rerank(ctx, x, cands, q, 10); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "sidecar-ns/rerank")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "sqlite-ns/rerank")
}

// benchInterleaved times the yardstick, int8 re-ranked from the sidecar
// and int8 re-ranked from SQLite in turn within each iteration, on three
// handles of one store, so that a busy machine slows all three alike;
// it reports each one's time a query and the int8 ones' ratios to the
// yardstick.
func benchInterleaved(b *testing.B, dir string, q []float32) {
	ctx := b.Context()
	open := func(quantize, sidecar bool) *Corpus {
		s, err := Open(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		s.Quantize(quantize)
		if _, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 10}); err != nil {
			b.Fatal(err)
		}
		if idx := s.dense.idx; !sidecar && idx.f32 != nil {
			idx.f32.retire()
			idx.f32 = nil
		}
		return s
	}
	plain, mapped, fromDB := open(false, false), open(true, true), open(true, false)
	search := func(s *Corpus) func() error {
		return func() error { _, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 10}); return err }
	}
	steps := []func() error{func() error { return plain.PlainDenseTopK(ctx, q, 10) }, search(mapped), search(fromDB)}
	var spent [3]time.Duration
	for b.Loop() {
		for i, step := range steps {
			start := time.Now()
			if err := step(); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(spent[0].Nanoseconds())/n, "plain-ns/q")
	b.ReportMetric(float64(spent[1].Nanoseconds())/n, "int8-ns/q")
	b.ReportMetric(float64(spent[2].Nanoseconds())/n, "int8-sqlite-ns/q")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "int8/plain")
	b.ReportMetric(float64(spent[2])/float64(spent[0]), "int8-sqlite/plain")
}
