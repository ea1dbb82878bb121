//go:build unix

// Command ingest-cost measures what ragtune's embedded store costs to
// ingest and search the documents bench/bleve-yardstick indexes with
// bleve, and prints the same JSON fields, so `make bench-bleve` can report
// ragtune/bleve ratios measured in the same run (issue 19).
//
// Documents: SciFact, SQuAD v1.1 dev and Cranfield (8,650 in all),
// replicated -copies times under distinct paths, stored one chunk per
// document as internal/corpus/sqlite's growth benchmark stores them:
// Create, Upsert in transactions of -batch documents, RefreshIndex (the
// keyword index file every ingest now builds), Close. Costs are process
// CPU time (user+sys from getrusage, all threads), so other processes'
// load does not count. Search: SciFact's 300 test queries at k = 10
// through SearchLexical on the reopened store; p50 process CPU per query.
//
// -pipeline adds one line for the whole ingest pipeline on SciFact
// (files on disk, loading, chunking, token counting, storing, keyword
// index), as internal/ingest's BenchmarkIngestSciFact runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/lexical"
)

type result struct {
	Engine        string  `json:"engine"`
	What          string  `json:"what"`
	Docs          int     `json:"docs"`
	CPUSeconds    float64 `json:"cpu_s"`
	CPUMsPerDoc   float64 `json:"cpu_ms_per_doc"`
	UpsertCPU     float64 `json:"upsert_cpu_s"`
	RefreshCPU    float64 `json:"refresh_cpu_s"`
	WallSeconds   float64 `json:"wall_s"`
	IndexBytes    int64   `json:"index_bytes"`
	Queries       int     `json:"queries,omitempty"`
	SearchP50     float64 `json:"search_cpu_p50_ms,omitempty"`
	SearchWallP50 float64 `json:"search_wall_p50_ms,omitempty"`
	NDCG10        float64 `json:"ndcg10,omitempty"`
	Config        string  `json:"config"`
}

type query struct{ id, match string }

func main() {
	datasets := flag.String("datasets", "../shared/datasets", "directory holding scifact, squad-v1.1-dev and cranfield")
	copiesFlag := flag.String("copies", "1,23", "sizes to measure, as copies of the 8,650 base documents")
	batch := flag.Int("batch", 2000, "documents per Upsert transaction")
	passes := flag.Int("passes", 3, "measured passes over the queries (after one warm-up pass)")
	pipeline := flag.Bool("pipeline", false, "also measure the full ingest pipeline on SciFact")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the store ingests (not the searches) to this file")
	work := flag.String("work", "", "directory for the stores (default: a temporary one, removed at exit)")
	report := flag.String("report", "", "RAGTUNE.jsonl,BLEVE.jsonl: print the ratio table of two earlier runs' lines and exit")
	flag.Parse()
	ctx := context.Background()
	if *report != "" {
		files := strings.Split(*report, ",")
		if len(files) != 2 {
			log.Fatal("-report wants RAGTUNE.jsonl,BLEVE.jsonl")
		}
		if err := printReport(os.Stdout, files[0], files[1]); err != nil {
			log.Fatal(err)
		}
		return
	}

	var base []evaluate.CorpusDoc
	var queries []query
	var qrels evaluate.Qrels
	for _, name := range []string{"scifact", "squad-v1.1-dev", "cranfield"} {
		ds, err := evaluate.LoadBEIR(filepath.Join(*datasets, name), "test")
		if err != nil {
			log.Fatal(err)
		}
		base = append(base, ds.Corpus...)
		if name == "scifact" {
			qrels = ds.Qrels
			for _, q := range ds.Queries {
				queries = append(queries, query{q.ID, lexical.MatchQuery(q.Text)})
			}
		}
	}
	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "ingest-cost-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	var prof *os.File
	if *cpuprofile != "" {
		var err error
		if prof, err = os.Create(*cpuprofile); err != nil {
			log.Fatal(err)
		}
		defer prof.Close()
	}
	for _, c := range splitInts(*copiesFlag) {
		path := filepath.Join(dir, fmt.Sprintf("store-%d", c))
		r, err := measure(ctx, path, base, c, *batch, queries, qrels, *passes, prof)
		if err != nil {
			log.Fatal(err)
		}
		prof = nil // one profile: the first size's ingest
		printJSON(r)
		os.RemoveAll(path)
	}
	if *pipeline {
		r, err := measurePipeline(ctx, filepath.Join(*datasets, "scifact"), filepath.Join(dir, "pipeline"))
		if err != nil {
			log.Fatal(err)
		}
		printJSON(r)
	}
}

// MaxRatio is issue 19's bound on ragtune's ingest CPU per document
// against bleve's.
const MaxRatio = 1.2

// printReport pairs ragtune's store lines with bleve's index lines of the
// same document count, in order (run i of one engine with run i of the
// other, measured back to back), and prints CPU per document, search CPU
// p50 and index size side by side. With several runs per size it prints
// the medians, and the median of the paired ratios.
func printReport(w io.Writer, ragtuneFile, bleveFile string) error {
	rt, err := readResults(ragtuneFile)
	if err != nil {
		return err
	}
	bl, err := readResults(bleveFile)
	if err != nil {
		return err
	}
	type runs struct{ rt, bl []result }
	bySize := map[int]*runs{}
	var sizes []int
	for _, r := range rt {
		if r.What != "store" {
			continue
		}
		if bySize[r.Docs] == nil {
			bySize[r.Docs] = &runs{}
			sizes = append(sizes, r.Docs)
		}
		bySize[r.Docs].rt = append(bySize[r.Docs].rt, r)
	}
	for _, r := range bl {
		if g := bySize[r.Docs]; g != nil {
			g.bl = append(g.bl, r)
		}
	}
	fmt.Fprintln(w, "ingest and search cost in process CPU time (user+sys), ragtune's store vs bleve, measured in this run (medians of paired runs)")
	fmt.Fprintf(w, "%8s %4s  %14s %14s %7s  %13s %13s %7s  %10s %10s  %s\n", "docs", "runs", "ragtune ms/doc", "bleve ms/doc", "ratio",
		"ragtune p50ms", "bleve p50ms", "ratio", "ragtune MB", "bleve MB", "ingest <= 1.2x")
	for _, n := range sizes {
		g := bySize[n]
		k := min(len(g.rt), len(g.bl))
		if k == 0 {
			continue
		}
		var rtIngest, blIngest, ingest, rtSearch, blSearch, search []float64
		for i := range k {
			a, b := g.rt[i], g.bl[i]
			rtIngest, blIngest = append(rtIngest, a.CPUMsPerDoc), append(blIngest, b.CPUMsPerDoc)
			ingest = append(ingest, a.CPUMsPerDoc/b.CPUMsPerDoc)
			rtSearch, blSearch = append(rtSearch, a.SearchP50), append(blSearch, b.SearchP50)
			search = append(search, a.SearchP50/b.SearchP50)
		}
		ratio := medianOf(ingest)
		verdict := "yes"
		if ratio > MaxRatio {
			verdict = "NO"
		}
		fmt.Fprintf(w, "%8d %4d  %14.4f %14.4f %7.2f  %13.3f %13.3f %7.2f  %10.1f %10.1f  %s\n", n, k,
			medianOf(rtIngest), medianOf(blIngest), ratio, medianOf(rtSearch), medianOf(blSearch), medianOf(search),
			float64(g.rt[0].IndexBytes)/1e6, float64(g.bl[0].IndexBytes)/1e6, verdict)
	}
	for _, r := range rt {
		if r.What == "pipeline-scifact" {
			fmt.Fprintf(w, "full ingest pipeline on SciFact (load, chunk, count tokens, store, keyword index): %.4f CPU ms/doc over %d documents\n", r.CPUMsPerDoc, r.Docs)
		}
	}
	return nil
}

func medianOf(v []float64) float64 {
	v = append([]float64(nil), v...)
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func readResults(path string) ([]result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []result
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func printJSON(r result) {
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func measure(ctx context.Context, path string, base []evaluate.CorpusDoc, copies, batch int, queries []query, qrels evaluate.Qrels, passes int, prof *os.File) (result, error) {
	r := result{Engine: "ragtune", What: "store", Config: fmt.Sprintf("sqlite (modernc) FTS5 %q + keyword index file (RefreshIndex), one chunk per document, batch %d", lexical.FTS5Tokenizer, batch)}
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return r, err
		}
	}
	c0, w0 := cpuTime(), time.Now()
	s, err := sqlite.Create(ctx, path)
	if err != nil {
		return r, err
	}
	for c := 0; c < copies; c++ {
		for lo := 0; lo < len(base); lo += batch {
			var docs []corpus.Document
			for _, d := range base[lo:min(lo+batch, len(base))] {
				p := fmt.Sprintf("%s#%d", d.ID, c)
				docs = append(docs, corpus.Document{Path: p, Title: d.Title, Format: "text", Hash: p, Signature: "sig",
					Chunks: []corpus.Chunk{{ID: "c" + p, Title: d.Title, Text: d.Text, LineStart: 1, LineEnd: 1}}})
			}
			if err := s.Upsert(ctx, docs); err != nil {
				return r, err
			}
			r.Docs += len(docs)
		}
	}
	c1 := cpuTime()
	if _, err := s.RefreshIndex(ctx); err != nil {
		return r, err
	}
	c2 := cpuTime()
	if err := s.Close(); err != nil {
		return r, err
	}
	cpu, wall := cpuTime()-c0, time.Since(w0)
	if prof != nil {
		pprof.StopCPUProfile()
	}
	r.CPUSeconds, r.WallSeconds = cpu.Seconds(), wall.Seconds()
	r.UpsertCPU, r.RefreshCPU = (c1 - c0).Seconds(), (c2 - c1).Seconds()
	r.CPUMsPerDoc = float64(cpu.Microseconds()) / 1000 / float64(r.Docs)
	r.IndexBytes = dirSize(path)

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		return r, err
	}
	defer s.Close()
	search := func(m string) ([]corpus.Hit, error) {
		return s.SearchLexical(ctx, corpus.LexicalQuery{Match: m, K: 10})
	}
	for _, q := range queries { // warm-up (loads the keyword index); nDCG@10 at one copy only
		hits, err := search(q.match)
		if err != nil {
			return r, err
		}
		if copies == 1 {
			var ranked []evaluate.Scored
			for _, h := range hits {
				ranked = append(ranked, evaluate.Scored{DocID: strings.TrimSuffix(h.DocPath, "#0"), Score: h.Score})
			}
			r.NDCG10 += evaluate.Score(evaluate.Metric{Name: "ndcg", K: 10}, ranked, qrels[q.id])
		}
	}
	r.NDCG10 /= float64(len(queries))
	var cpus, walls []time.Duration
	for range passes {
		for _, q := range queries {
			c0, w0 := cpuTime(), time.Now()
			if _, err := search(q.match); err != nil {
				return r, err
			}
			cpus, walls = append(cpus, cpuTime()-c0), append(walls, time.Since(w0))
		}
	}
	r.Queries = len(queries)
	r.SearchP50, r.SearchWallP50 = ms(median(cpus)), ms(median(walls))
	return r, nil
}

// measurePipeline ingests SciFact from files (title, blank line, text),
// as BenchmarkIngestSciFact does: loading, chunking with the default
// options, cl100k token counting, storing and the keyword index.
func measurePipeline(ctx context.Context, src, dir string) (result, error) {
	r := result{Engine: "ragtune", What: "pipeline-scifact", Config: "ingest.Ingester.Run on SciFact as text files: load, chunk (defaults), cl100k token count, Upsert, RefreshIndex; no embedder"}
	ds, err := evaluate.LoadBEIR(src, "test")
	if err != nil {
		return r, err
	}
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return r, err
	}
	for _, d := range ds.Corpus {
		if err := os.WriteFile(filepath.Join(files, d.ID+".txt"), []byte(d.Title+"\n\n"+d.Text+"\n"), 0o644); err != nil {
			return r, err
		}
	}
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		return r, err
	}
	c0, w0 := cpuTime(), time.Now()
	st, err := sqlite.Create(ctx, filepath.Join(dir, "store"))
	if err != nil {
		return r, err
	}
	in := &ingest.Ingester{Corpus: st, Loader: document.NewLoader(document.Options{}), Tokens: tok}
	rep, err := in.Run(ctx, ingest.Options{Root: files, KeyBase: files, Chunk: chunk.DefaultOptions()})
	if err != nil {
		return r, err
	}
	if err := st.Close(); err != nil {
		return r, err
	}
	cpu, wall := cpuTime()-c0, time.Since(w0)
	r.Docs = rep.Added
	r.CPUSeconds, r.WallSeconds = cpu.Seconds(), wall.Seconds()
	r.CPUMsPerDoc = float64(cpu.Microseconds()) / 1000 / float64(r.Docs)
	r.IndexBytes = dirSize(filepath.Join(dir, "store"))
	return r, nil
}

func splitInts(list string) []int {
	var out []int
	if strings.TrimSpace(list) == "" {
		return nil
	}
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
