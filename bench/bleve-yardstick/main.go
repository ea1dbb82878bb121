// Command bleve-yardstick measures what bleve (scorch, BM25, English
// analyzer) costs to index and search the documents ragtune's ingest
// benchmark stores, so ragtune's figures can be read as a ratio against a
// baseline measured in the same run (issue 19). It lives in its own
// module so the main module never depends on bleve.
//
// Documents: SciFact, SQuAD v1.1 dev and Cranfield (8,650 in all, one
// document each as ragtune stores them, title and text), replicated
// -copies times under distinct ids. For each size it builds a fresh index
// in batches of -batch, closes it (scorch persists every batch before
// Batch returns, and Close waits for its merges), and prints one JSON line:
// process CPU seconds (user+sys, getrusage, all threads including scorch's
// persister and merger), documents, CPU ms per document, the index size on
// disk, and the p50 process CPU time of SciFact's 300 test queries at
// k = 10 on the reopened index.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

type doc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type result struct {
	Engine        string  `json:"engine"`
	What          string  `json:"what"`
	Docs          int     `json:"docs"`
	CPUSeconds    float64 `json:"cpu_s"`
	CPUMsPerDoc   float64 `json:"cpu_ms_per_doc"`
	WallSeconds   float64 `json:"wall_s"`
	IndexBytes    int64   `json:"index_bytes"`
	Queries       int     `json:"queries"`
	SearchP50     float64 `json:"search_cpu_p50_ms"`
	SearchWallP50 float64 `json:"search_wall_p50_ms"`
	NDCG10        float64 `json:"ndcg10,omitempty"`
	Config        string  `json:"config"`
}

func main() {
	datasets := flag.String("datasets", "../shared/datasets", "directory holding scifact, squad-v1.1-dev and cranfield")
	copiesFlag := flag.String("copies", "1,23", "sizes to measure, as copies of the 8,650 base documents")
	batch := flag.Int("batch", 2000, "documents per bleve batch (ragtune's benchmark upserts 2,000 per transaction)")
	store := flag.Bool("store", true, "store title and text in the index (ragtune's store keeps the text it returns)")
	passes := flag.Int("passes", 3, "measured passes over the queries (after one warm-up pass)")
	work := flag.String("work", "", "directory for the indexes (default: a temporary one, removed at exit)")
	flag.Parse()

	var base []doc
	for _, name := range []string{"scifact", "squad-v1.1-dev", "cranfield"} {
		ds, err := readCorpus(filepath.Join(*datasets, name))
		if err != nil {
			log.Fatal(err)
		}
		base = append(base, ds...)
	}
	queries, qrels, err := readQueries(filepath.Join(*datasets, "scifact"))
	if err != nil {
		log.Fatal(err)
	}
	dir := *work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "bleve-yardstick-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	for _, c := range splitInts(*copiesFlag) {
		r, err := measure(filepath.Join(dir, fmt.Sprintf("idx-%d", c)), base, c, *batch, *store, queries, qrels, *passes)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
		os.RemoveAll(filepath.Join(dir, fmt.Sprintf("idx-%d", c)))
	}
}

func indexMapping(store bool) *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	im.DefaultAnalyzer = en.AnalyzerName
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	field := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		f.Store = store
		f.IncludeTermVectors = true // positions, as FTS5's default detail=full keeps
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("title", field())
	dm.AddFieldMappingsAt("text", field())
	im.DefaultMapping = dm
	return im
}

func measure(path string, base []doc, copies, batch int, store bool, queries []q, qrels map[string]map[string]int, passes int) (result, error) {
	r := result{Engine: "bleve", What: "index", Config: fmt.Sprintf("bleve v2.6.3 scorch, bm25, analyzer en (unicode, possessive, lowercase, stop_en, porter), fields title+text, store=%v, term vectors on, doc values off, _all off, batch %d", store, batch)}
	c0, w0 := cpuTime(), time.Now()
	idx, err := bleve.New(path, indexMapping(store))
	if err != nil {
		return r, err
	}
	b := idx.NewBatch()
	for c := 0; c < copies; c++ {
		for _, d := range base {
			id := fmt.Sprintf("%s#%d", d.ID, c)
			if err := b.Index(id, map[string]any{"title": d.Title, "text": d.Text}); err != nil {
				return r, err
			}
			r.Docs++
			if b.Size() >= batch {
				if err := idx.Batch(b); err != nil {
					return r, err
				}
				b.Reset()
			}
		}
	}
	if b.Size() > 0 {
		if err := idx.Batch(b); err != nil {
			return r, err
		}
	}
	if err := idx.Close(); err != nil {
		return r, err
	}
	cpu, wall := cpuTime()-c0, time.Since(w0)
	r.CPUSeconds = cpu.Seconds()
	r.WallSeconds = wall.Seconds()
	r.CPUMsPerDoc = float64(cpu.Microseconds()) / 1000 / float64(r.Docs)
	r.IndexBytes = dirSize(path)

	idx, err = bleve.Open(path)
	if err != nil {
		return r, err
	}
	defer idx.Close()
	search := func(text string) (*bleve.SearchResult, error) {
		t := query.NewMatchQuery(text)
		t.SetField("text")
		ti := query.NewMatchQuery(text)
		ti.SetField("title")
		req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(ti, t), 10, 0, false)
		if store {
			req.Fields = []string{"title", "text"}
		}
		return idx.Search(req)
	}
	for _, qu := range queries { // warm-up; nDCG@10 at one copy only
		res, err := search(qu.text)
		if err != nil {
			return r, err
		}
		if copies == 1 {
			var ranked []string
			for _, h := range res.Hits {
				ranked = append(ranked, strings.TrimSuffix(h.ID, "#0"))
			}
			r.NDCG10 += ndcgAt10(ranked, qrels[qu.id])
		}
	}
	r.NDCG10 /= float64(len(queries))
	var cpus, walls []time.Duration
	for range passes {
		for _, qu := range queries {
			c0, w0 := cpuTime(), time.Now()
			if _, err := search(qu.text); err != nil {
				return r, err
			}
			cpus, walls = append(cpus, cpuTime()-c0), append(walls, time.Since(w0))
		}
	}
	r.Queries = len(queries)
	r.SearchP50 = ms(median(cpus))
	r.SearchWallP50 = ms(median(walls))
	return r, nil
}

func readCorpus(dir string) ([]doc, error) {
	path := filepath.Join(dir, "corpus.jsonl")
	if _, err := os.Stat(path); err != nil {
		path += ".gz"
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		rd = zr
	}
	var out []doc
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var d doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.ID == "" {
			return nil, fmt.Errorf("%s: not a corpus record: %v", path, err)
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

type q struct{ id, text string }

// readQueries returns the queries with a relevant judgement in
// qrels/test.tsv, in file order (what ragtune's evaluate.LoadBEIR keeps).
func readQueries(dir string) ([]q, map[string]map[string]int, error) {
	qrels := map[string]map[string]int{}
	data, err := os.ReadFile(filepath.Join(dir, "qrels", "test.tsv"))
	if err != nil {
		return nil, nil, err
	}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			continue
		}
		g, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil {
			if i == 0 {
				continue // header
			}
			return nil, nil, fmt.Errorf("qrels line %d: %v", i+1, err)
		}
		if qrels[f[0]] == nil {
			qrels[f[0]] = map[string]int{}
		}
		qrels[f[0]][f[1]] = g
	}
	qdata, err := os.ReadFile(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		return nil, nil, err
	}
	var qs []q
	for _, line := range strings.Split(strings.TrimSpace(string(qdata)), "\n") {
		var raw struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			return nil, nil, err
		}
		relevant := false
		for _, g := range qrels[raw.ID] {
			relevant = relevant || g > 0
		}
		if relevant {
			qs = append(qs, q{raw.ID, raw.Text})
		}
	}
	return qs, qrels, nil
}

func ndcgAt10(ranked []string, rel map[string]int) float64 {
	var dcg, ideal float64
	for i, d := range ranked[:min(10, len(ranked))] {
		dcg += float64(rel[d]) / math.Log2(float64(i+2))
	}
	var gains []int
	for _, g := range rel {
		gains = append(gains, g)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	for i, g := range gains[:min(10, len(gains))] {
		ideal += float64(g) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

func splitInts(list string) []int {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("-copies: %q is not a list of copy counts", list)
		}
		out = append(out, n)
	}
	return out
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// cpuTime is the process's user+system CPU time, all threads.
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
