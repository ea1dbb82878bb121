package project

import (
	"context"
	"crypto/sha256"
	"os"
	"runtime"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// BenchReport is the JSON of `ragtune bench`.
type BenchReport struct {
	Dataset   string              `json:"dataset"`
	Documents int                 `json:"documents"`
	Bytes     int64               `json:"bytes"`
	Chunks    int                 `json:"chunks"`
	Mode      string              `json:"mode"`
	Embedder  string              `json:"embedder"`
	Ingest    BenchIngest         `json:"ingest"`
	Search    evaluate.Throughput `json:"search"`
	// SearchYardstick, on an engine that offers one for the mode, is the
	// same queries through the engine's plainest top-k (for SQLite: FTS5
	// bm25() ORDER BY … LIMIT k; for dense search, the query embedded and
	// a heap over vek32.Dot on the vectors in memory), measured in the
	// same run; XYardstick is search p50 over yardstick p50.
	SearchYardstick *evaluate.Throughput `json:"search_yardstick,omitempty"`
	XYardstick      float64              `json:"x_yardstick,omitempty"`
	Ask             evaluate.Throughput  `json:"ask"`
	HeapMiB         float64              `json:"heap_mib"`
	CPUs            int                  `json:"cpus"`
}

// BenchIngest is the indexing part of a bench.
type BenchIngest struct {
	Seconds float64 `json:"seconds"`
	DocsPS  float64 `json:"docs_per_second"`
	MBPS    float64 `json:"mb_per_second"`
	// Ratio to merely hashing the same text, measured in the same run.
	XBaseline float64 `json:"x_hash_baseline"`
}

// BenchRequest is one bench run.
type BenchRequest struct {
	Dataset  *evaluate.Dataset
	Queries  int // queries to run; 0 for all
	Progress Progress
}

// Bench indexes a collection into a fresh temporary index (never reused),
// then runs its queries through search and through ask, one at a time,
// and reports throughput, latency percentiles and heap size.
func (p *Project) Bench(ctx context.Context, req BenchRequest) (*BenchReport, error) {
	ds := req.Dataset
	mode, err := p.cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, err
	}
	rep := &BenchReport{Dataset: ds.Name, Documents: len(ds.Corpus), Mode: string(mode), Embedder: "none", CPUs: runtime.GOMAXPROCS(0)}
	hashTime := rep.hashBaseline(ds)
	dir, err := os.MkdirTemp("", "ragtune-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	began := time.Now()
	s, err := p.OpenScratch(ctx, ScratchRequest{Dataset: ds, Mode: mode, Dir: dir, Progress: req.Progress.stage("indexing " + ds.Name)})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	secs := time.Since(began).Seconds()
	rep.Ingest = BenchIngest{Seconds: secs, DocsPS: float64(len(ds.Corpus)) / secs, MBPS: float64(rep.Bytes) / 1e6 / secs,
		XBaseline: secs / max(hashTime.Seconds(), 1e-9)}
	if err := rep.query(ctx, s.Project, req); err != nil {
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.HeapMiB = float64(ms.HeapAlloc) / (1 << 20)
	return rep, nil
}

// hashBaseline hashes every document's text and returns how long it took.
func (rep *BenchReport) hashBaseline(ds *evaluate.Dataset) time.Duration {
	began := time.Now()
	for _, d := range ds.Corpus {
		sha256.Sum256([]byte(d.Title + "\n\n" + d.Text))
		rep.Bytes += int64(len(d.Title) + 2 + len(d.Text))
	}
	return time.Since(began)
}

// query times every query through search and through ask on s.
func (rep *BenchReport) query(ctx context.Context, s *Project, req BenchRequest) error {
	mode := retrieve.Mode(rep.Mode)
	c, err := s.Corpus(ctx)
	if err != nil {
		return err
	}
	if stats, err := c.Stats(ctx); err == nil {
		rep.Chunks = stats.Chunks
	}
	r, err := s.Retriever(ctx, mode)
	if err != nil {
		return err
	}
	if r.Embedder != nil {
		rep.Embedder = r.Embedder.ID()
	}
	gen, err := s.Generator(ctx, "")
	if err != nil {
		return err
	}
	qs := req.Dataset.Queries
	if req.Queries > 0 && req.Queries < len(qs) {
		qs = qs[:req.Queries]
	}
	progress := req.Progress.stage("querying " + req.Dataset.Name)
	var searchMS, askMS []float64
	for i, q := range qs {
		t0 := time.Now()
		hits, err := r.Search(ctx, retrieve.Query{Text: q.Text, K: s.cfg.Retrieve.K, Mode: mode})
		if err != nil {
			return err
		}
		t1 := time.Now()
		if _, err := answer.Answer(ctx, gen, answer.Request{Question: q.Text, Hits: hits}); err != nil {
			return err
		}
		searchMS = append(searchMS, float64(t1.Sub(t0).Microseconds())/1000)
		askMS = append(askMS, float64(time.Since(t0).Microseconds())/1000)
		if progress != nil {
			progress(i+1, len(qs))
		}
	}
	rep.Search, rep.Ask = evaluate.Summarize(searchMS), evaluate.Summarize(askMS)
	return rep.yardstick(ctx, c, r, qs, s.cfg.Retrieve.K)
}

// yardstick times the engine's plainest top-k on the same queries, where
// the engine has one for the mode: lexical, or dense (the query embedded
// as search embeds it, then a plain scan).
func (rep *BenchReport) yardstick(ctx context.Context, c corpus.Corpus, r *retrieve.Retriever, qs []evaluate.Query, k int) error {
	var one func(q string) (bool, error)
	if y, ok := c.(corpus.LexicalYardstick); ok && retrieve.Mode(rep.Mode) == retrieve.Lexical {
		one = func(q string) (bool, error) {
			match := lexical.MatchQuery(q)
			return match != "", y.PlainLexicalTopK(ctx, match, k)
		}
	}
	if y, ok := c.(corpus.DenseYardstick); ok && retrieve.Mode(rep.Mode) == retrieve.Dense && r.Embedder != nil {
		one = func(q string) (bool, error) {
			vecs, err := r.Embedder.Embed(ctx, []string{q})
			if err != nil {
				return false, err
			}
			return true, y.PlainDenseTopK(ctx, vecs[0], k)
		}
	}
	if one == nil {
		return nil
	}
	var ms []float64
	for _, q := range qs {
		t0 := time.Now()
		ran, err := one(q.Text)
		if err != nil {
			return err
		}
		if ran {
			ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
		}
	}
	if len(ms) == 0 {
		return nil
	}
	t := evaluate.Summarize(ms)
	rep.SearchYardstick, rep.XYardstick = &t, rep.Search.P50/max(t.P50, 1e-3)
	return nil
}
