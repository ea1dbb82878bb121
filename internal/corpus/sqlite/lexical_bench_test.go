package sqlite

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
)

// BenchmarkSearchLexical: SciFact's 300 test queries (k = 10) against its
// 5,183 abstracts, one chunk each. "store" is SearchLexical (the keyword
// index, chunks read back); "store-fts5" the same search ranked by FTS5's
// bm25() as before the keyword index; "plain-fts5" is the yardstick,
// PlainLexicalTopK (FTS5's bm25() ORDER BY … LIMIT 10 on the same index,
// rowids only), in the same run. p50 is per query.
func BenchmarkSearchLexical(b *testing.B) {
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../../shared/datasets"
	}
	ds, err := evaluate.LoadBEIR(filepath.Join(root, "scifact"), "test")
	if err != nil {
		b.Skipf("dataset scifact not found (set RAGTUNE_DATASETS): %v", err)
	}
	s, err := Create(b.Context(), filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	docs := make([]corpus.Document, 0, len(ds.Corpus))
	for _, d := range ds.Corpus {
		docs = append(docs, corpus.Document{Path: d.ID, Title: d.Title, Format: "text", Hash: d.ID, Signature: "sig",
			Chunks: []corpus.Chunk{{ID: "c" + d.ID, Title: d.Title, Text: d.Text, LineStart: 1, LineEnd: 1}}})
	}
	if err := s.Upsert(b.Context(), docs); err != nil {
		b.Fatal(err)
	}
	if _, err := s.RefreshIndex(b.Context()); err != nil {
		b.Fatal(err)
	}
	var matches []string
	for _, q := range ds.Queries {
		if m := lexical.MatchQuery(q.Text); m != "" {
			matches = append(matches, m)
		}
	}
	p50 := func(b *testing.B, one func(m string) error) {
		var lat []time.Duration
		for b.Loop() {
			lat = lat[:0]
			for _, m := range matches {
				began := time.Now()
				if err := one(m); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(began))
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
	b.Run("plain-fts5", func(b *testing.B) {
		p50(b, func(m string) error { return s.PlainLexicalTopK(b.Context(), m, 10) })
	})
	b.Run("store", func(b *testing.B) {
		p50(b, func(m string) error {
			_, err := s.SearchLexical(b.Context(), corpus.LexicalQuery{Match: m, K: 10})
			return err
		})
	})
	b.Run("store-fts5", func(b *testing.B) {
		p50(b, func(m string) error {
			_, err := s.searchFTS(b.Context(), corpus.LexicalQuery{Match: m, K: 10}, 1)
			return err
		})
	})
	b.Run("store-filtered", func(b *testing.B) {
		p50(b, func(m string) error {
			_, err := s.SearchLexical(b.Context(), corpus.LexicalQuery{Match: m, K: 10, PathPrefix: "1"})
			return err
		})
	})
}
