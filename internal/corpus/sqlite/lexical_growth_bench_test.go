//go:build linux

package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
)

// BenchmarkLexicalGrowth: how keyword search grows with the corpus.
// SciFact, SQuAD v1.1 dev and Cranfield (8,650 documents, one chunk
// each) are stored RAGTUNE_GROWTH times over (copies under other paths;
// default "1,6,36": 8.6k, 52k and 311k chunks), and SciFact's 300 test
// queries run at k = 10 through the keyword index ("store") and, on the
// first 50 queries, FTS5's bm25() ORDER BY … LIMIT 10 ("plain-fts5", the
// yardstick), in the same run. It reports p50 wall and CPU time per
// query (process CPU time, so other processes' load does not count).
// Minutes and a few GB of memory at 36 copies; run it by name.
func BenchmarkLexicalGrowth(b *testing.B) {
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../../shared/datasets"
	}
	var base []evaluate.CorpusDoc
	var queries []string
	for _, name := range []string{"scifact", "squad-v1.1-dev", "cranfield"} {
		ds, err := evaluate.LoadBEIR(filepath.Join(root, name), "test")
		if err != nil {
			b.Skipf("dataset %s not found (set RAGTUNE_DATASETS): %v", name, err)
		}
		base = append(base, ds.Corpus...)
		if name == "scifact" {
			for _, q := range ds.Queries {
				if m := lexical.MatchQuery(q.Text); m != "" {
					queries = append(queries, m)
				}
			}
		}
	}
	copies := os.Getenv("RAGTUNE_GROWTH")
	if copies == "" {
		copies = "1,6,36"
	}
	s, err := Create(b.Context(), filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	stored := 0
	for _, f := range splitInts(b, copies) {
		for ; stored < f; stored++ {
			storeCopy(b, s, base, stored)
		}
		began := time.Now()
		if _, err := s.RefreshIndex(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d chunks: keyword index refreshed in %v", f*len(base), time.Since(began).Round(time.Millisecond))
		b.Run(fmt.Sprintf("chunks=%d/store", f*len(base)), func(b *testing.B) {
			latencies(b, queries, func(m string) error {
				_, err := s.SearchLexical(b.Context(), corpus.LexicalQuery{Match: m, K: 10})
				return err
			})
		})
		b.Run(fmt.Sprintf("chunks=%d/plain-fts5", f*len(base)), func(b *testing.B) {
			latencies(b, queries[:50], func(m string) error { return s.PlainLexicalTopK(b.Context(), m, 10) })
		})
	}
}

func splitInts(b *testing.B, list string) []int {
	var out []int
	start := 0
	for i := 0; i <= len(list); i++ {
		if i == len(list) || list[i] == ',' {
			n, err := strconv.Atoi(list[start:i])
			if err != nil || n < 1 {
				b.Fatalf("RAGTUNE_GROWTH: %q is not a list of copy counts", list)
			}
			out = append(out, n)
			start = i + 1
		}
	}
	return out
}

func storeCopy(b *testing.B, s *Corpus, base []evaluate.CorpusDoc, copy int) {
	const batch = 2000
	for lo := 0; lo < len(base); lo += batch {
		var docs []corpus.Document
		for _, d := range base[lo:min(lo+batch, len(base))] {
			path := fmt.Sprintf("%s#%d", d.ID, copy)
			docs = append(docs, corpus.Document{Path: path, Title: d.Title, Format: "text", Hash: path, Signature: "sig",
				Chunks: []corpus.Chunk{{ID: "c" + path, Title: d.Title, Text: d.Text, LineStart: 1, LineEnd: 1}}})
		}
		if err := s.Upsert(b.Context(), docs); err != nil {
			b.Fatal(err)
		}
	}
}

// latencies runs every query once per iteration and reports the p50 of
// wall and process CPU time per query.
func latencies(b *testing.B, queries []string, one func(m string) error) {
	var wall, cpu []time.Duration
	for b.Loop() {
		wall, cpu = wall[:0], cpu[:0]
		for _, m := range queries {
			c0, w0 := cpuTime(), time.Now()
			if err := one(m); err != nil {
				b.Fatal(err)
			}
			wall, cpu = append(wall, time.Since(w0)), append(cpu, cpuTime()-c0)
		}
	}
	b.ReportMetric(ms(median(wall)), "p50-ms")
	b.ReportMetric(ms(median(cpu)), "p50-cpu-ms")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
