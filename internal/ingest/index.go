package ingest

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/document"
)

// indexBatch is how many documents Index embeds and writes at once.
const indexBatch = 256

// Index chunks, embeds and writes documents that are already loaded (a
// test collection's corpus, say), with the same chunking, signature and
// embedding as Run; progress, when set, is told after each batch.
func (in *Ingester) Index(ctx context.Context, docs []*document.Document, opts chunk.Options, progress func(done, total int)) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if in.Embedder != nil {
		if err := in.Corpus.Bind(ctx, corpus.Identity{Embedder: in.Embedder.ID(), Dim: in.Embedder.Dim()}); err != nil {
			return err
		}
	}
	sig := Signature(opts, in.Embedder)
	var batch []corpus.Document
	flush := func(done int) error {
		ptrs := make([]*corpus.Document, len(batch))
		for i := range batch {
			ptrs[i] = &batch[i]
		}
		if err := EmbedChunks(ctx, in.Embedder, ptrs...); err != nil {
			return err
		}
		if err := in.Corpus.Upsert(ctx, batch); err != nil {
			return fmt.Errorf("writing to the store: %w", err)
		}
		batch = batch[:0]
		if progress != nil {
			progress(done, len(docs))
		}
		return nil
	}
	for i, doc := range docs {
		chunks, err := chunk.Split(doc, opts, in.Tokens)
		if err != nil {
			return fmt.Errorf("chunking %s: %w", doc.Path, err)
		}
		batch = append(batch, ToStore(doc, chunks, sig))
		if len(batch) == indexBatch || i == len(docs)-1 {
			if err := flush(i + 1); err != nil {
				return err
			}
		}
	}
	if err := corpus.Refresh(ctx, in.Corpus); err != nil {
		return fmt.Errorf("updating the search indexes: %w", err)
	}
	return nil
}
