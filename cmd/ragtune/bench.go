package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// benchReport is the JSON of `ragtune bench`.
type benchReport struct {
	Dataset   string  `json:"dataset"`
	Documents int     `json:"documents"`
	Bytes     int64   `json:"bytes"`
	Chunks    int     `json:"chunks"`
	Mode      string  `json:"mode"`
	Embedder  string  `json:"embedder"`
	Ingest    ingestB `json:"ingest"`
	Search    latency `json:"search"`
	Ask       latency `json:"ask"`
	HeapMiB   float64 `json:"heap_mib"`
	CPUs      int     `json:"cpus"`
}

type ingestB struct {
	Seconds float64 `json:"seconds"`
	DocsPS  float64 `json:"docs_per_second"`
	MBPS    float64 `json:"mb_per_second"`
	// Ratio to merely hashing the same text, measured in the same run.
	XBaseline float64 `json:"x_hash_baseline"`
}

type latency struct {
	Queries int     `json:"queries"`
	QPS     float64 `json:"queries_per_second"`
	P50     float64 `json:"p50_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
}

func (a *app) benchCommand() *cobra.Command {
	var mode string
	var queries int
	cmd := &cobra.Command{
		Use:   "bench DATASET",
		Short: "Measure the whole pipeline on a BEIR directory: ingest rate, search and ask latency, memory",
		Long: `bench indexes the corpus of a BEIR directory into a fresh temporary store
(chunking, and embedding when [embed] is on), then runs its queries through
search and through ask with the configured answerer, one at a time, and
reports throughput, latency percentiles and heap size. Ingest speed is also
given as a multiple of the time it takes merely to hash the same text,
measured in the same run, so figures compare across machines.`,
		Example: "  ragtune bench ../shared/datasets/scifact\n  ragtune bench ../shared/datasets/cranfield --mode hybrid --json",
		Args:    exactArgs(1, "one BEIR directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.configWithMode(cmd, mode)
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			ds, err := evaluate.LoadBEIR(args[0], "test")
			if err != nil {
				return err
			}
			m, _ := retrieve.ParseMode(cfg.Retrieve.Mode)
			rep, err := a.bench(cmd, cfg, ds, m, queries)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(rep)
			}
			fmt.Fprintf(a.stdout, "%s: %d documents (%.1f MB), %d chunks, mode %s, embedder %s, %d CPUs\n", rep.Dataset, rep.Documents,
				float64(rep.Bytes)/1e6, rep.Chunks, rep.Mode, rep.Embedder, rep.CPUs)
			fmt.Fprintf(a.stdout, "ingest  %.1f s: %.0f docs/s, %.2f MB/s (%.1fx the time of hashing the text)\n", rep.Ingest.Seconds, rep.Ingest.DocsPS, rep.Ingest.MBPS, rep.Ingest.XBaseline)
			for _, l := range []struct {
				name string
				l    latency
			}{{"search", rep.Search}, {"ask", rep.Ask}} {
				fmt.Fprintf(a.stdout, "%-7s %d queries, %.0f/s, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n", l.name, l.l.Queries, l.l.QPS, l.l.P50, l.l.P95, l.l.P99)
			}
			fmt.Fprintf(a.stdout, "heap    %.0f MiB\n", rep.HeapMiB)
			return nil
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	cmd.Flags().IntVar(&queries, "queries", 0, "queries to run (default all)")
	return cmd
}

func (a *app) bench(cmd *cobra.Command, cfg config.Config, ds *evaluate.Dataset, mode retrieve.Mode, limit int) (*benchReport, error) {
	ctx := cmd.Context()
	rep := &benchReport{Dataset: ds.Name, Documents: len(ds.Corpus), Mode: string(mode), Embedder: "none", CPUs: runtime.GOMAXPROCS(0)}
	began := time.Now()
	for _, d := range ds.Corpus {
		sha256.Sum256([]byte(d.Title + "\n\n" + d.Text))
		rep.Bytes += int64(len(d.Title) + 2 + len(d.Text))
	}
	hashTime := time.Since(began)
	dir, err := os.MkdirTemp("", "ragtune-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		return nil, err
	}
	e, err := a.vectorEmbedder(ctx, cfg, mode)
	if err != nil {
		return nil, err
	}
	if e != nil {
		rep.Embedder = e.ID()
	}
	// A fresh scratch directory, so the index is always built, never reused.
	bar := a.bar("indexing " + ds.Name)
	began = time.Now()
	st, _, err := evaluate.ScratchStore(ctx, dir, ds, cfg.Chunk, tok, e, bar.update, a.scratchAttach(cfg))
	bar.done()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	secs := time.Since(began).Seconds()
	rep.Ingest = ingestB{Seconds: secs, DocsPS: float64(len(ds.Corpus)) / secs, MBPS: float64(rep.Bytes) / 1e6 / secs,
		XBaseline: secs / max(hashTime.Seconds(), 1e-9)}
	stats, _ := st.Stats(ctx)
	rep.Chunks = stats.Chunks
	r, err := a.retriever(ctx, cfg, st, mode)
	if err != nil {
		return nil, err
	}
	gen, err := a.generator(cfg, st)
	if err != nil {
		return nil, err
	}
	qs := ds.Queries
	if limit > 0 && limit < len(qs) {
		qs = qs[:limit]
	}
	var searchLat, askLat []time.Duration
	bar = a.bar("querying " + ds.Name)
	for i, q := range qs {
		t0 := time.Now()
		hits, err := r.Search(ctx, retrieve.Query{Text: q.Text, K: cfg.Retrieve.K, Mode: mode})
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		if _, err := answer.Answer(ctx, gen, answer.Request{Question: q.Text, Hits: hits}); err != nil {
			return nil, err
		}
		searchLat = append(searchLat, t1.Sub(t0))
		askLat = append(askLat, time.Since(t0))
		bar.update(i+1, len(qs))
	}
	bar.done()
	rep.Search, rep.Ask = summarize(searchLat), summarize(askLat)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.HeapMiB = float64(ms.HeapAlloc) / (1 << 20)
	return rep, nil
}

func summarize(d []time.Duration) latency {
	if len(d) == 0 {
		return latency{}
	}
	var total time.Duration
	for _, x := range d {
		total += x
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(p float64) float64 { return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000 }
	return latency{Queries: len(d), QPS: float64(len(d)) / total.Seconds(), P50: ms(0.5), P95: ms(0.95), P99: ms(0.99)}
}
