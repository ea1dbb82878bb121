package ingest

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// datasetDir finds ../shared/datasets/NAME (or $RAGTUNE_DATASETS/NAME).
func datasetDir(b *testing.B, name string) string {
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../shared/datasets"
	}
	dir := filepath.Join(root, name)
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("dataset %s not found (set RAGTUNE_DATASETS): %v", name, err)
	}
	return dir
}

// writeBEIRCorpus writes each BEIR document as a text file (title, blank
// line, text) so the benchmark measures the real file pipeline.
func writeBEIRCorpus(b *testing.B, dir, out string) (int, int64) {
	f, err := os.Open(filepath.Join(dir, "corpus.jsonl.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n, size := 0, int64(0)
	for sc.Scan() {
		var d struct{ ID, Title, Text string }
		var raw map[string]string
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			b.Fatal(err)
		}
		d.ID, d.Title, d.Text = raw["_id"], raw["title"], raw["text"]
		body := d.Title + "\n\n" + d.Text + "\n"
		if err := os.WriteFile(filepath.Join(out, d.ID+".txt"), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
		n++
		size += int64(len(body))
	}
	return n, size
}

func benchIngester(b *testing.B, storeDir string) *Ingester {
	st, err := sqlite.Create(b.Context(), storeDir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	return &Ingester{Corpus: st, Loader: document.NewLoader(document.Options{}), Tokens: tok}
}

// BenchmarkIngestSciFact ingests all 5,183 SciFact abstracts from files,
// and reports throughput next to a baseline that only reads and hashes
// the same files (the I/O floor), measured in the same run.
func BenchmarkIngestSciFact(b *testing.B) {
	src := datasetDir(b, "scifact")
	files := b.TempDir()
	n, size := writeBEIRCorpus(b, src, files)
	entries, _ := os.ReadDir(files)
	begin := time.Now()
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(files, e.Name()))
		sha256.Sum256(data)
	}
	baseline := time.Since(begin)
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		in := benchIngester(b, filepath.Join(b.TempDir(), "s"))
		began := time.Now()
		rep, err := in.Run(b.Context(), Options{Root: files, KeyBase: files, Chunk: chunk.DefaultOptions()})
		total += time.Since(began)
		if err != nil || rep.Added != n {
			b.Fatalf("ingest: %v, %d added of %d", err, rep.Added, n)
		}
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(n)/per.Seconds(), "docs/s")
	b.ReportMetric(float64(size)/per.Seconds()/1e6, "MB/s")
	b.ReportMetric(per.Seconds()/baseline.Seconds(), "x-read+hash")
}

// BenchmarkSearchSciFact runs the 300 SciFact test queries (k=10) and
// reports latency percentiles and nDCG@10 at document level (a document
// ranks by its best chunk), the number BEIR publishes.
func BenchmarkSearchSciFact(b *testing.B) {
	src := datasetDir(b, "scifact")
	files := b.TempDir()
	writeBEIRCorpus(b, src, files)
	in := benchIngester(b, filepath.Join(b.TempDir(), "s"))
	if _, err := in.Run(b.Context(), Options{Root: files, KeyBase: files, Chunk: chunk.DefaultOptions()}); err != nil {
		b.Fatal(err)
	}
	queries, qrels := readQueries(b, src)
	r := &retrieve.Retriever{Corpus: in.Corpus}
	var lat []time.Duration
	var ndcg float64
	for b.Loop() {
		lat, ndcg = lat[:0], 0
		for _, q := range queries {
			began := time.Now()
			hits, err := r.Search(b.Context(), retrieve.Query{Text: q.text, K: 100})
			lat = append(lat, time.Since(began))
			if err != nil {
				b.Fatal(err)
			}
			ndcg += evaluate.Score(evaluate.Metric{Name: "ndcg", K: 10}, docRanking(hits), qrels[q.id])
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(ndcg/float64(len(queries)), "nDCG@10")
}

type query struct{ id, text string }

func readQueries(b *testing.B, dir string) ([]query, map[string]map[string]int) {
	qrels := map[string]map[string]int{}
	data, err := os.ReadFile(filepath.Join(dir, "qrels", "test.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if qrels[f[0]] == nil {
			qrels[f[0]] = map[string]int{}
		}
		qrels[f[0]][f[1]] = int(f[2][0] - '0')
	}
	qdata, err := os.ReadFile(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	var qs []query
	for _, line := range strings.Split(strings.TrimSpace(string(qdata)), "\n") {
		var raw map[string]string
		json.Unmarshal([]byte(line), &raw)
		if qrels[raw["_id"]] != nil {
			qs = append(qs, query{raw["_id"], raw["text"]})
		}
	}
	return qs, qrels
}

func docRanking(hits []retrieve.Hit) []evaluate.Scored {
	seen := map[string]bool{}
	var out []evaluate.Scored
	for _, h := range hits {
		id := strings.TrimSuffix(h.DocPath, ".txt")
		if !seen[id] {
			seen[id] = true
			out = append(out, evaluate.Scored{DocID: id, Score: h.Score})
		}
	}
	return out
}
