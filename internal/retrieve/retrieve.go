// Package retrieve finds the chunks that best match a query. The mode
// decides how: lexical (BM25), dense (vector similarity) or hybrid
// (both, fused).
package retrieve

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/store"
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
	PathPrefix string // only documents under this path
}

// Hit is a ranked chunk.
type Hit struct {
	Rank int `json:"rank"`
	store.Hit
}

// LexicalSearcher is what lexical retrieval needs from a store.
type LexicalSearcher interface {
	SearchLexical(ctx context.Context, q store.LexicalQuery) ([]store.Hit, error)
}

// Retriever runs queries against a store.
type Retriever struct {
	Store LexicalSearcher
}

// Search returns up to q.K chunks, best first, ranks from 1.
func (r *Retriever) Search(ctx context.Context, q Query) ([]Hit, error) {
	if q.K <= 0 {
		q.K = DefaultK
	}
	var hits []store.Hit
	var err error
	switch q.Mode {
	case Lexical, "":
		hits, err = r.Store.SearchLexical(ctx, store.LexicalQuery{Match: lexical.MatchQuery(q.Text), K: q.K, PathPrefix: q.PathPrefix})
	case Dense, Hybrid:
		return nil, fmt.Errorf("retrieval mode %q needs vector embeddings, which this store does not have yet; use --mode lexical", q.Mode)
	default:
		return nil, fmt.Errorf("unknown retrieval mode %q", q.Mode)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = Hit{Rank: i + 1, Hit: h}
	}
	return out, nil
}
