package project

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/corpus"
)

// Status is what the project holds; its JSON names are part of the CLI
// contract (`ragtune status --json`).
type Status struct {
	Documents int               `json:"documents"`
	Chunks    int               `json:"chunks"`
	Tokens    int64             `json:"tokens"`
	Bytes     int64             `json:"store_bytes"`
	Identity  map[string]string `json:"index_identity"`
	// Problems is set when a check was asked for: empty means sound.
	Problems []string `json:"problems,omitempty"`
	// DocumentList is set when the documents were asked for.
	DocumentList []corpus.DocumentInfo `json:"document_list,omitempty"`
}

// StatusRequest says what Status reports beyond the counts.
type StatusRequest struct {
	Verify    bool // check the corpus's consistency
	Documents bool // list every document
}

// Status counts the corpus, measures the store and describes the index
// identity: the store's settings, the corpus's embedder and, for a
// cluster, where it is.
func (p *Project) Status(ctx context.Context, req StatusRequest) (Status, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return Status{}, err
	}
	stats, err := c.Stats(ctx)
	if err != nil {
		return Status{}, err
	}
	st := Status{Documents: stats.Documents, Chunks: stats.Chunks, Tokens: stats.Tokens, Bytes: p.store.Bytes()}
	if st.Identity, err = p.store.AllMeta(ctx); err != nil {
		return st, err
	}
	id, err := c.Identity(ctx)
	if err != nil {
		return st, err
	}
	st.Identity["embedder"], st.Identity["dimension"] = id.Embedder, fmt.Sprint(id.Dim)
	for k, v := range c.Describe() {
		st.Identity[k] = v
	}
	if req.Verify {
		if st.Problems, err = c.Verify(ctx); err != nil {
			return st, err
		}
		if st.Problems == nil {
			st.Problems = []string{}
		}
	}
	if req.Documents {
		if st.DocumentList, err = c.Documents(ctx, ""); err != nil {
			return st, err
		}
		if st.DocumentList == nil {
			st.DocumentList = []corpus.DocumentInfo{}
		}
	}
	return st, nil
}

// Documents lists the corpus's documents under prefix.
func (p *Project) Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	return c.Documents(ctx, prefix)
}

// DeleteDocument deletes the document with that ID; false if none.
func (p *Project) DeleteDocument(ctx context.Context, id string) (bool, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return false, err
	}
	return corpus.DeleteByID(ctx, c, id)
}
