package testset

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// DocumentReader reads a stored document with its chunks; a project and
// a corpus are ones.
type DocumentReader interface {
	Document(ctx context.Context, path string) (corpus.Document, error)
}

// SourcePassage is a passage an item was written from, as a reviewer
// sees it: the chunk's text with where the item's quote lies in it, or
// why it cannot be read.
type SourcePassage struct {
	Doc       string  `json:"doc"`
	ChunkID   string  `json:"chunk_id"`
	LineStart int     `json:"line_start,omitempty"`
	LineEnd   int     `json:"line_end,omitempty"`
	Text      string  `json:"text,omitempty"`
	Quote     []Range `json:"quote_ranges,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Sources reads items' source passages, each document once however many
// items were written from it (a page of review holds many such items).
type Sources struct {
	r    DocumentReader
	docs map[string]sourceDoc
}

type sourceDoc struct {
	chunks map[string]corpus.Chunk
	err    error
}

// NewSources reads from r.
func NewSources(r DocumentReader) *Sources {
	return &Sources{r: r, docs: map[string]sourceDoc{}}
}

// Of is the item's source passages; none for a hand-written item.
func (s *Sources) Of(ctx context.Context, it evaluate.QAItem) []SourcePassage {
	pv := it.Provenance
	out := []SourcePassage{}
	if pv == nil {
		return out
	}
	d := s.document(ctx, pv.Doc)
	for _, id := range pv.ChunkIDs {
		ps := SourcePassage{Doc: pv.Doc, ChunkID: id}
		c, ok := d.chunks[id]
		switch {
		case d.err != nil:
			ps.Error = d.err.Error()
		case !ok:
			ps.Error = fmt.Sprintf("%v: chunk %s of %s (re-ingested since the set was made?)", corpus.ErrNoDocument, id, pv.Doc)
		default:
			ps.Text, ps.LineStart, ps.LineEnd = c.Text, c.LineStart, c.LineEnd
			ps.Quote = QuoteRanges(c.Text, pv.Quote)
		}
		out = append(out, ps)
	}
	return out
}

func (s *Sources) document(ctx context.Context, path string) sourceDoc {
	if d, ok := s.docs[path]; ok {
		return d
	}
	doc, err := s.r.Document(ctx, path)
	d := sourceDoc{err: err, chunks: map[string]corpus.Chunk{}}
	if err == nil {
		for _, c := range doc.Chunks {
			c.Vector = nil // not shown; do not keep
			d.chunks[c.ID] = c
		}
	}
	if ctx.Err() == nil {
		s.docs[path] = d // a cancelled read is not remembered
	}
	return d
}
