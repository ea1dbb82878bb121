package sqlite

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
)

// BenchmarkSearchLexical: SciFact's 1,109 queries (k = 10) against its
// 5,183 abstracts, one chunk each. "store" is SearchLexical; "plain-fts5"
// is the yardstick, FTS5's bm25() ORDER BY … LIMIT 10 on the same index
// returning rowids only, in the same run. p50 is per query.
func BenchmarkSearchLexical(b *testing.B) {
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../../shared/datasets"
	}
	dir := filepath.Join(root, "scifact")
	f, err := os.Open(filepath.Join(dir, "corpus.jsonl.gz"))
	if err != nil {
		b.Skipf("dataset scifact not found (set RAGTUNE_DATASETS): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	s, err := Create(b.Context(), filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var docs []corpus.Document
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var raw struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		json.Unmarshal(sc.Bytes(), &raw)
		d := corpus.Document{Path: raw.ID, Title: raw.Title, Format: "text", Hash: raw.ID, Signature: "sig"}
		d.Chunks = []corpus.Chunk{{ID: "c" + raw.ID, Title: raw.Title, Text: raw.Text, LineStart: 1, LineEnd: 1}}
		docs = append(docs, d)
	}
	if err := s.Upsert(b.Context(), docs); err != nil {
		b.Fatal(err)
	}
	if st, err := s.Stats(b.Context()); err != nil || st.Chunks != len(docs) || len(docs) < 5000 {
		b.Fatalf("indexed %+v of %d documents: %v", st, len(docs), err)
	}
	qf, err := os.ReadFile(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	var matches []string
	for _, line := range strings.Split(strings.TrimSpace(string(qf)), "\n") {
		var q struct{ Text string }
		json.Unmarshal([]byte(line), &q)
		if m := lexical.MatchQuery(q.Text); m != "" {
			matches = append(matches, m)
		}
	}
	p50 := func(b *testing.B, one func(m string)) {
		var lat []time.Duration
		for b.Loop() {
			lat = lat[:0]
			for _, m := range matches {
				began := time.Now()
				one(m)
				lat = append(lat, time.Since(began))
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
	b.Run("plain-fts5", func(b *testing.B) {
		p50(b, func(m string) {
			rows, err := s.db.QueryContext(b.Context(), `SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT 10`, m)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
		})
	})
	b.Run("store", func(b *testing.B) {
		p50(b, func(m string) {
			if _, err := s.SearchLexical(b.Context(), corpus.LexicalQuery{Match: m, K: 10}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("store-filtered", func(b *testing.B) {
		p50(b, func(m string) {
			if _, err := s.SearchLexical(b.Context(), corpus.LexicalQuery{Match: m, K: 10, PathPrefix: "1"}); err != nil {
				b.Fatal(err)
			}
		})
	})
}
