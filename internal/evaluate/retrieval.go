package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/ragtune/ragtune/internal/retrieve"
)

// Searcher runs retrieval queries.
type Searcher interface {
	Search(ctx context.Context, q retrieve.Query) ([]retrieve.Hit, error)
}

// RetrievalOptions configure a retrieval eval.
type RetrievalOptions struct {
	Mode retrieve.Mode
	// Depth is the documents ranked per query (BEIR's convention: 100);
	// documents rank by their best chunk, so more chunks are fetched
	// until that many documents are seen.
	Depth   int
	Metrics []Metric
	// Progress, if set, is called after each query.
	Progress func(done, total int)
}

// Latency summarises per-query search time.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// RetrievalResult is the outcome of a retrieval eval.
type RetrievalResult struct {
	Dataset   string                 `json:"dataset"`
	Queries   int                    `json:"queries"`
	Mode      retrieve.Mode          `json:"mode"`
	Metrics   map[string]float64     `json:"metrics"`
	LatencyMS Latency                `json:"latency_ms"`
	PerQuery  map[string]QueryScores `json:"-"`
	Run       Run                    `json:"-"`
	Latencies map[string]float64     `json:"-"` // per query, ms
}

// EvaluateRetrieval runs every query of ds through s and scores the
// document rankings.
func EvaluateRetrieval(ctx context.Context, ds *Dataset, s Searcher, opts RetrievalOptions) (*RetrievalResult, error) {
	if opts.Depth <= 0 {
		opts.Depth = 100
	}
	if len(opts.Metrics) == 0 {
		opts.Metrics = DefaultMetrics
	}
	run := Run{}
	lat := make([]float64, 0, len(ds.Queries))
	perLat := make(map[string]float64, len(ds.Queries))
	for i, q := range ds.Queries {
		began := time.Now()
		docs, err := documentsAtDepth(ctx, s, retrieve.Query{Text: q.Text, Mode: opts.Mode}, opts.Depth)
		lat = append(lat, float64(time.Since(began).Microseconds())/1000)
		perLat[q.ID] = lat[len(lat)-1]
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.ID, err)
		}
		run[q.ID] = docs
		if opts.Progress != nil {
			opts.Progress(i+1, len(ds.Queries))
		}
	}
	means, per := Evaluate(run, ds.Qrels, opts.Metrics)
	return &RetrievalResult{Dataset: ds.Name, Queries: len(per), Mode: opts.Mode, Metrics: means,
		LatencyMS: latency(lat), PerQuery: per, Run: run, Latencies: perLat}, nil
}

// chunksPerDocument is the first guess at how many chunks it takes to see
// one more document; maxChunkFactor bounds the guesses.
const (
	chunksPerDocument = 2
	maxChunkFactor    = 16
)

// documentsAtDepth ranks the best depth documents for q, fetching more
// chunks while the chunks fetched came from fewer documents and the
// corpus has more to give.
func documentsAtDepth(ctx context.Context, s Searcher, q retrieve.Query, depth int) ([]Scored, error) {
	for factor := chunksPerDocument; ; factor *= 2 {
		q.K = depth * factor
		hits, err := s.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		docs := DocRanking(hits)
		if len(docs) >= depth || len(hits) < q.K || factor >= maxChunkFactor {
			return docs[:min(depth, len(docs))], nil
		}
	}
}

// DocRanking turns ranked chunks into ranked documents: each document
// takes the score of its best chunk (MaxP), the usual way to score
// passage retrieval against document judgements.
func DocRanking(hits []retrieve.Hit) []Scored {
	seen := map[string]bool{}
	var out []Scored
	for _, h := range hits {
		if !seen[h.DocPath] {
			seen[h.DocPath] = true
			out = append(out, Scored{DocID: h.DocPath, Score: h.Score})
		}
	}
	return out
}

func latency(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	return Latency{P50: s[len(s)/2], P95: s[min(len(s)-1, len(s)*95/100)], Max: s[len(s)-1]}
}

// WriteTREC writes run in TREC format ("qid Q0 docid rank score tag"),
// which trec_eval, pytrec_eval and ir_measures all read.
func WriteTREC(w io.Writer, run Run, tag string) error {
	run.Sort()
	qids := make([]string, 0, len(run))
	for q := range run {
		qids = append(qids, q)
	}
	sort.Strings(qids)
	for _, q := range qids {
		for i, d := range run[q] {
			if _, err := fmt.Fprintf(w, "%s Q0 %s %d %.6f %s\n", q, d.DocID, i+1, d.Score, tag); err != nil {
				return err
			}
		}
	}
	return nil
}

// QueryRecord is one line of a retrieval run's per-query results file.
type QueryRecord struct {
	QueryID   string      `json:"query_id"`
	Query     string      `json:"query"`
	Scores    QueryScores `json:"scores"`
	LatencyMS float64     `json:"latency_ms"`
	Top       []string    `json:"top"` // best 10 documents
}

// WritePerQuery writes one JSON line per judged query.
func WritePerQuery(w io.Writer, ds *Dataset, res *RetrievalResult) error {
	enc := json.NewEncoder(w)
	for _, q := range ds.Queries {
		scores, ok := res.PerQuery[q.ID]
		if !ok {
			continue
		}
		rec := QueryRecord{QueryID: q.ID, Query: q.Text, Scores: scores, LatencyMS: res.Latencies[q.ID], Top: []string{}}
		for _, d := range res.Run[q.ID][:min(10, len(res.Run[q.ID]))] {
			rec.Top = append(rec.Top, d.DocID)
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return nil
}
