package weaviate

import (
	"context"

	"github.com/ragtune/ragtune/internal/corpus"
)

// SearchLexicalExhaustive ranks every BM25 match, with nothing pruned:
// the reference for Weaviate's own top k.
func (c *Corpus) SearchLexicalExhaustive(ctx context.Context, q corpus.LexicalQuery) ([]corpus.Hit, error) {
	return c.searchBM25(ctx, q, true)
}
