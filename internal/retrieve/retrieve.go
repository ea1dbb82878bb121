// Package retrieve finds the chunks that best match a query. The mode
// decides how: lexical (BM25), dense (vector similarity) or hybrid
// (both, fused).
package retrieve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ragtune/ragtune/internal/corpus"

	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Mode selects the retrieval method.
type Mode string

const (
	Lexical Mode = "lexical"
	Dense   Mode = "dense"
	Hybrid  Mode = "hybrid"
)

// DefaultK follows the 3–5 rule: enough context to answer, little enough
// that the answer is not buried.
const DefaultK = 4

// ParseMode validates a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Lexical, Dense, Hybrid:
		return m, nil
	case "":
		return Lexical, nil
	}
	return "", fmt.Errorf("unknown retrieval mode %q (want lexical, dense or hybrid)", s)
}

// Query is a retrieval request.
type Query struct {
	Text       string
	K          int
	Mode       Mode
	PathPrefix string   // only documents under this path
	Tags       []string // only documents with all of these tags
}

// Hit is a ranked chunk.
type Hit struct {
	Rank int `json:"rank"`
	corpus.Hit
	// RerankScore is the reranker's score, when one reordered the hits.
	RerankScore *float64 `json:"rerank_score,omitempty"`
	// RerankError says why the configured reranker was not used: the hits
	// are in retrieval order.
	RerankError string `json:"rerank_error,omitempty"`
}

// Reranker scores passages against a query, higher is better, one score
// per text in their order; see package rerank.
type Reranker interface {
	Score(ctx context.Context, query string, texts []string) ([]float64, error)
	// Depth is how many retrieved passages it wants to reorder.
	Depth() int
}

// Searcher is what retrieval needs from a store.
type Searcher interface {
	SearchLexical(ctx context.Context, q corpus.LexicalQuery) ([]corpus.Hit, error)
	SearchDense(ctx context.Context, q corpus.DenseQuery) ([]corpus.Hit, error)
	VectorsOf(ctx context.Context, rowids []int64) (map[int64][]float32, error)
}

// Retriever runs queries against a store.
type Retriever struct {
	Corpus Searcher
	// Embedder embeds queries for dense and hybrid modes; it must be the
	// store's embedder.
	Embedder embed.Embedder
	Fusion   Fusion
	// Reranker, when set, reorders the best Reranker.Depth() passages
	// before the best k are kept.
	Reranker Reranker
	// MMRLambda, when above 0, re-ranks dense and hybrid results with
	// maximal marginal relevance: lambda weighs relevance, 1-lambda
	// penalises similarity to chunks already chosen.
	MMRLambda float64
}

// ErrNoVectors means a dense or hybrid query met a store or configuration
// without embeddings.
var ErrNoVectors = errors.New("dense and hybrid retrieval need embeddings")

// Search returns up to q.K chunks, best first, ranks from 1.
func (r *Retriever) Search(ctx context.Context, q Query) ([]Hit, error) {
	if q.K <= 0 {
		q.K = DefaultK
	}
	var hits []corpus.Hit
	var qv []float32
	var err error
	if q.Mode == Dense || q.Mode == Hybrid {
		if qv, err = r.embedQuery(ctx, q.Text); err != nil {
			return nil, err
		}
	}
	// A few more than asked, so that k remain once passages with the same
	// text (an HTML page and its PDF export, say) are collapsed.
	want := q.K + min(q.K, 8)
	if r.Reranker != nil {
		want = max(want, r.Reranker.Depth())
	}
	k := want
	if r.MMRLambda > 0 && qv != nil {
		k = max(4*q.K, 20, want) // candidates for MMR to choose from
	}
	switch q.Mode {
	case Lexical, "":
		hits, err = r.lexical(ctx, q, want)
	case Dense:
		hits, err = r.dense(ctx, q, qv, k)
	case Hybrid:
		hits, err = r.hybrid(ctx, q, qv, k)
	default:
		return nil, fmt.Errorf("unknown retrieval mode %q", q.Mode)
	}
	if err != nil {
		return nil, err
	}
	hits = distinct(hits)
	var scores []float64
	var rerankErr string
	if r.Reranker != nil && len(hits) > 0 {
		if hits, scores, err = r.rerank(ctx, q.Text, hits, q.K); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			rerankErr = err.Error() // fall back to the retrieval order
		}
	}
	if r.MMRLambda > 0 && qv != nil && scores == nil {
		if hits, err = r.mmr(ctx, hits, q.K); err != nil {
			return nil, err
		}
	}
	hits = hits[:min(q.K, len(hits))]
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = Hit{Rank: i + 1, Hit: h, RerankError: rerankErr}
		if scores != nil {
			out[i].RerankScore = &scores[i]
		}
	}
	return out, nil
}

func (r *Retriever) lexical(ctx context.Context, q Query, k int) ([]corpus.Hit, error) {
	all := lexical.WeighQuery(q.Text)
	terms, err := r.boundedTerms(ctx, all)
	if err != nil {
		return nil, err
	}
	text := q.Text
	if len(terms) < len(all) {
		text = strings.Join(lexical.QueryWords(terms), " ") // engines with their own query syntax see the bound too
	}
	return r.Corpus.SearchLexical(ctx, corpus.LexicalQuery{Match: lexical.MatchWeighted(terms), Text: text, K: k, PathPrefix: q.PathPrefix, Tags: q.Tags})
}

// termStatser is a corpus that counts how many chunks hold each term.
type termStatser interface {
	TermStats(ctx context.Context, terms []string) (int, map[string]int, error)
}

// boundedTerms keeps at most lexical.MaxQueryTerms of a long query's
// terms: the rarest of its first lexical.MaxWeighedTerms, which carry
// nearly all of BM25's weight, in the query's order. A corpus that cannot
// count terms keeps the first ones.
func (r *Retriever) boundedTerms(ctx context.Context, terms []lexical.QueryTerm) ([]lexical.QueryTerm, error) {
	if len(terms) <= lexical.MaxQueryTerms {
		return terms, nil
	}
	terms = terms[:min(len(terms), lexical.MaxWeighedTerms)]
	ts, ok := r.Corpus.(termStatser)
	if !ok {
		return terms[:lexical.MaxQueryTerms], nil
	}
	words := lexical.QueryWords(terms)
	_, df, err := ts.TermStats(ctx, words)
	if err != nil {
		return nil, fmt.Errorf("weighing the query's terms: %w", err)
	}
	// Rarest first; a term no chunk holds matches nothing, so it goes last.
	rank := func(t string) int {
		if df[t] == 0 {
			return math.MaxInt
		}
		return df[t]
	}
	byRarity := append([]string(nil), words...)
	sort.SliceStable(byRarity, func(i, j int) bool { return rank(byRarity[i]) < rank(byRarity[j]) })
	keep := make(map[string]bool, lexical.MaxQueryTerms)
	for _, t := range byRarity[:lexical.MaxQueryTerms] {
		keep[t] = true
	}
	out := make([]lexical.QueryTerm, 0, lexical.MaxQueryTerms)
	for _, t := range terms {
		if keep[t.Word] {
			out = append(out, t)
		}
	}
	return out, nil
}

func (r *Retriever) embedQuery(ctx context.Context, text string) ([]float32, error) {
	if r.Embedder == nil {
		return nil, fmt.Errorf("%w: %w", ErrNoVectors, embed.ErrNoEmbedder)
	}
	vecs, err := r.Embedder.Embed(ctx, []string{text})
	if err != nil {
		return nil, fmt.Errorf("embedding the query: %w", err)
	}
	return vecs[0], nil
}

func (r *Retriever) dense(ctx context.Context, q Query, qv []float32, k int) ([]corpus.Hit, error) {
	hits, err := r.Corpus.SearchDense(ctx, corpus.DenseQuery{Vector: qv, K: k, PathPrefix: q.PathPrefix, Tags: q.Tags})
	if err != nil {
		return nil, err
	}
	if hits == nil {
		return nil, fmt.Errorf("%w: this store has no vectors; with [embed] provider set, re-run `ragtune ingest`", ErrNoVectors)
	}
	return hits, nil
}

// distinct keeps the first (best) of passages whose text is the same once
// case and spacing are set aside.
func distinct(hits []corpus.Hit) []corpus.Hit {
	seen := make(map[string]bool, len(hits))
	out := hits[:0:0]
	for _, h := range hits {
		key := strings.ToLower(strings.Join(strings.Fields(h.Text), " "))
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, h)
	}
	return out
}

// rerank reorders the best Reranker.Depth() hits by the reranker's
// scores (ties keep the retrieval order) and returns them with their
// scores, in the new order.
func (r *Retriever) rerank(ctx context.Context, query string, hits []corpus.Hit, k int) ([]corpus.Hit, []float64, error) {
	hits = hits[:min(len(hits), max(r.Reranker.Depth(), k))]
	texts := make([]string, len(hits))
	for i, h := range hits {
		texts[i] = strings.TrimSpace(h.Title + "\n" + h.Text)
	}
	scores, err := r.Reranker.Score(ctx, query, texts)
	if err != nil {
		return hits, nil, err
	}
	if len(scores) != len(hits) {
		return hits, nil, fmt.Errorf("the reranker returned %d scores for %d passages", len(scores), len(hits))
	}
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	outHits, outScores := make([]corpus.Hit, len(hits)), make([]float64, len(hits))
	for i, j := range order {
		outHits[i], outScores[i] = hits[j], scores[j]
	}
	return outHits, outScores, nil
}
