package evaluate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/retrieve"
)

func TestLoadBEIR(t *testing.T) {
	ds, err := LoadBEIR("testdata/scifact-mini", "test")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "scifact-mini" || len(ds.Corpus) != 71 || len(ds.Queries) != 12 || len(ds.Hash) != 64 {
		t.Fatalf("loaded %s: %d docs, %d queries, hash %q", ds.Name, len(ds.Corpus), len(ds.Queries), ds.Hash)
	}
	if _, err := LoadBEIR("testdata/scifact-mini", "dev"); err == nil || !strings.Contains(err.Error(), "dev.tsv") {
		t.Errorf("missing split: %v", err)
	}
}

func TestLoadBEIRBadInput(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "qrels"), 0o755)
	os.WriteFile(filepath.Join(dir, "corpus.jsonl"), []byte(`{"_id":"1","text":"ok"}`+"\n{broken\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.jsonl"), []byte(`{"_id":"q","text":"x"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte("query-id\tcorpus-id\tscore\nq\t1\t1\n"), 0o644)
	if _, err := LoadBEIR(dir, "test"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken corpus line: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "corpus.jsonl"), []byte(`{"_id":"1","text":"ok"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte("q\t1\tvery\n"), 0o644)
	if _, err := LoadBEIR(dir, "test"); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Errorf("bad score: %v", err)
	}
}

// TestRetrievalEvalEndToEnd indexes the mini collection into a real
// scratch store, evaluates lexical retrieval, checks the index is reused,
// and that the TREC run file re-scores to the same numbers.
func TestRetrievalEvalEndToEnd(t *testing.T) {
	ds, err := LoadBEIR("testdata/scifact-mini", "test")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	st, reused, err := ScratchStore(t.Context(), cache, ds, chunk.DefaultOptions(), tok, nil, nil, nil)
	if err != nil || reused {
		t.Fatalf("first ScratchStore: reused=%v err=%v", reused, err)
	}
	res, err := EvaluateRetrieval(t.Context(), ds, &retrieve.Retriever{Store: st}, RetrievalOptions{Mode: retrieve.Lexical})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	// With 71 documents BM25 finds most relevant abstracts; a broken
	// pipeline (IDs, ranking, metric) lands far below this.
	if res.Queries != 12 || res.Metrics["ndcg@10"] < 0.5 || res.Metrics["recall@100"] < 0.9 {
		t.Fatalf("metrics %v over %d queries", res.Metrics, res.Queries)
	}
	st, reused, err = ScratchStore(t.Context(), cache, ds, chunk.DefaultOptions(), tok, nil, nil, nil)
	if err != nil || !reused {
		t.Fatalf("second ScratchStore: reused=%v err=%v", reused, err)
	}
	st.Close()

	var buf bytes.Buffer
	if err := WriteTREC(&buf, res.Run, "test"); err != nil {
		t.Fatal(err)
	}
	reread := Run{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[1] != "Q0" {
			t.Fatalf("bad TREC line %q", line)
		}
		var score float64
		if _, err := fmt.Sscan(f[4], &score); err != nil {
			t.Fatal(err)
		}
		reread[f[0]] = append(reread[f[0]], Scored{f[2], score})
	}
	means, _ := Evaluate(reread, ds.Qrels, DefaultMetrics)
	for k, v := range res.Metrics {
		if !near(means[k], v) {
			t.Errorf("%s from run file %.6f, in memory %.6f", k, means[k], v)
		}
	}
}
