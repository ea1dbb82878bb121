package evaluate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/ingest"
)

func TestLoadBEIR(t *testing.T) {
	ds, err := LoadBEIR("../../examples/scifact-mini", "test")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "scifact-mini" || len(ds.Corpus) != 71 || len(ds.Queries) != 12 || len(ds.Hash) != 64 {
		t.Fatalf("loaded %s: %d docs, %d queries, hash %q", ds.Name, len(ds.Corpus), len(ds.Queries), ds.Hash)
	}
	if _, err := LoadBEIR("../../examples/scifact-mini", "dev"); err == nil || !strings.Contains(err.Error(), "dev.tsv") {
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

// indexed indexes ds's corpus into a fresh embedded corpus through the
// ingest pipeline.
func indexed(t *testing.T, ds *Dataset) *sqlite.Corpus {
	t.Helper()
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	c, err := sqlite.Create(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	in := &ingest.Ingester{Corpus: c, Tokens: tok}
	if err := in.Index(t.Context(), ds.Documents(), chunk.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	return c
}
