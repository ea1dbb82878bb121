package uselite

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"testing"
)

// scifactTexts reads up to n SciFact abstracts (title + text), the
// document workload the reference was measured on.
func scifactTexts(b *testing.B, n int) []string {
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../../shared/datasets"
	}
	f, err := os.Open(root + "/scifact/corpus.jsonl.gz")
	if err != nil {
		b.Skipf("SciFact not found (set RAGTUNE_DATASETS): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out []string
	for sc.Scan() && len(out) < n {
		var d map[string]string
		json.Unmarshal(sc.Bytes(), &d)
		out = append(out, d["title"]+"\n\n"+d["text"])
	}
	return out
}

func benchEmbed(b *testing.B, texts []string, batch int) {
	m := testModel(b)
	b.ResetTimer()
	done := 0
	for b.Loop() {
		for i := 0; i < len(texts); i += batch {
			if _, err := m.Embed(b.Context(), texts[i:min(len(texts), i+batch)]); err != nil {
				b.Fatal(err)
			}
		}
		done += len(texts)
	}
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkEmbedDocs embeds SciFact abstracts (clipped to 128 tokens by
// the model), 32 per batch.
func BenchmarkEmbedDocs(b *testing.B) { benchEmbed(b, scifactTexts(b, 256), 32) }

// BenchmarkEmbedQueries embeds short queries (~20 tokens) in batches of 32.
func BenchmarkEmbedQueries(b *testing.B) {
	q := make([]string, 256)
	for i := range q {
		q[i] = "Which proteins regulate mitochondrial fission in human neurons after oxidative stress?"
	}
	benchEmbed(b, q, 32)
}

// BenchmarkEmbedOneQuery is the latency a search pays to embed its query.
func BenchmarkEmbedOneQuery(b *testing.B) {
	benchEmbed(b, []string{"Which proteins regulate mitochondrial fission in human neurons after oxidative stress?"}, 1)
}
