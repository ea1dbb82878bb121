package embed

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkBuiltinDocs embeds SciFact abstracts through the batching
// wrapper ingest uses (batches of 32 run side by side).
func BenchmarkBuiltinDocs(b *testing.B) {
	e, err := New(b.Context(), Config{Provider: Builtin, BatchSize: 32}, os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../shared/datasets"
	}
	f, err := os.Open(root + "/scifact/corpus.jsonl.gz")
	if err != nil {
		b.Skipf("SciFact not found: %v", err)
	}
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var texts []string
	for sc.Scan() && len(texts) < 256 {
		var d map[string]string
		json.Unmarshal(sc.Bytes(), &d)
		texts = append(texts, d["title"]+"\n\n"+d["text"])
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if _, err := e.Embed(b.Context(), texts); err != nil {
			b.Fatal(err)
		}
		n += len(texts)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "texts/s")
}
