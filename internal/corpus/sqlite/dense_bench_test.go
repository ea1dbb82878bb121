package sqlite

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
)

// BenchmarkSearchDense: SearchDense on a store of 20,000 x 512 vectors
// (below the HNSW switch-on point, so an exact scan), k = 10, float32
// and int8, against the yardstick PlainDenseTopK (a plain heap over
// vek32.Dot on the same vectors in memory), in the same run. The store's figure includes
// reading the 10 hits' chunks back from SQLite.
func BenchmarkSearchDense(b *testing.B) {
	const n, dim, per = 20_000, 512, 50
	s, err := Create(b.Context(), filepath.Join(b.TempDir(), "store"))
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
	for _, quantized := range []bool{false, true} {
		name := "store-float32"
		if quantized {
			name = "store-int8"
		}
		s.Quantize(quantized)
		if _, err := s.SearchDense(b.Context(), corpus.DenseQuery{Vector: q, K: 10}); err != nil { // load the vectors
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchDense(b.Context(), corpus.DenseQuery{Vector: q, K: 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
