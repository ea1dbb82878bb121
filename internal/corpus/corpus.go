// Package corpus is the contract between ragtune and the engines that
// hold its documents: the types they exchange and the Corpus interface,
// in the role database/sql/driver plays for database/sql. The embedded
// SQLite corpus (corpus/sqlite) and the Weaviate corpus (corpus/weaviate)
// are sibling implementations; neither knows the other.
//
// What only some engines can do is an optional interface, found by type
// assertion as net/http finds http.Flusher: Refresher, Quantizer,
// Resetter and IDDeleter. The helpers of the same names use the
// capability when there is one and do the portable thing otherwise.
package corpus

import (
	"context"
	"errors"
)

// Corpus holds the documents, chunks and vectors of one index and
// answers searches over them.
type Corpus interface {
	// Upsert writes documents, each replacing any earlier version at the
	// same path; a document is either fully old or fully new.
	Upsert(ctx context.Context, docs []Document) error
	Delete(ctx context.Context, paths []string) error
	// Documents lists stored documents whose path starts with prefix, by path.
	Documents(ctx context.Context, prefix string) ([]DocumentInfo, error)
	// Document reads one document back with its chunks and vectors, or
	// fails with ErrNoDocument.
	Document(ctx context.Context, path string) (Document, error)
	SearchLexical(ctx context.Context, q LexicalQuery) ([]Hit, error)
	// SearchDense returns nil (not an empty slice) when the corpus holds
	// no vectors at all.
	SearchDense(ctx context.Context, q DenseQuery) ([]Hit, error)
	// TermStats returns the number of chunks and, for each term, how many
	// chunks contain it (after the index's own stemming).
	TermStats(ctx context.Context, terms []string) (int, map[string]int, error)
	// VectorsOf returns the stored vectors of the given chunks (by
	// Chunk.Rowid); chunks without one are absent from the map.
	VectorsOf(ctx context.Context, rowids []int64) (map[int64][]float32, error)
	// Bind records id as the corpus's embedder, or checks that it is the
	// one already recorded (ErrEmbedderMismatch otherwise).
	Bind(ctx context.Context, id Identity) error
	// Identity is the bound embedder; NoEmbedder when there is none.
	Identity(ctx context.Context) (Identity, error)
	Stats(ctx context.Context) (Stats, error)
	// Verify lists inconsistencies; empty means sound.
	Verify(ctx context.Context) ([]string, error)
	// Describe names the engine and where it is, for status output; the
	// embedded corpus describes nothing beyond the store itself.
	Describe() map[string]string
	Close() error
}

// Refresher is a corpus that keeps a derived index (an HNSW graph, say)
// that must be brought up to date after writes.
type Refresher interface {
	// RefreshIndex updates the derived index and reports whether one is
	// in place.
	RefreshIndex(ctx context.Context) (bool, error)
}

// Quantizer is a corpus that can hold its vectors as int8 codes in memory.
type Quantizer interface {
	Quantize(on bool)
}

// Resetter is a corpus that can drop everything it holds, for scratch
// indexes that are rebuilt from nothing.
type Resetter interface {
	Reset(ctx context.Context) error
}

// IDDeleter is a corpus that deletes a document by its ID directly.
type IDDeleter interface {
	DeleteByID(ctx context.Context, id string) (bool, error)
}

// Repairer is a corpus that can rebuild its derived indexes (full-text
// index, vector graph) from the chunks it holds.
type Repairer interface {
	Repair(ctx context.Context) error
}

// LexicalYardstick is a corpus that can run its engine's plainest
// keyword top-k (rank and cut, read nothing back): the baseline that
// `ragtune bench` reports the store's own lexical search against.
type LexicalYardstick interface {
	PlainLexicalTopK(ctx context.Context, match string, k int) error
}

// DenseYardstick is a corpus that can run the plainest exact vector
// top-k over the vectors it holds (a heap over SIMD dot products, read
// nothing back): the baseline `ragtune bench` reports dense search
// against.
type DenseYardstick interface {
	PlainDenseTopK(ctx context.Context, q []float32, k int) error
}

// ErrCannotRepair means a corpus has no way to rebuild its indexes.
var ErrCannotRepair = errors.New("this corpus cannot rebuild its indexes")

// Repair rebuilds c's derived indexes, or fails with ErrCannotRepair.
func Repair(ctx context.Context, c Corpus) error {
	if r, ok := c.(Repairer); ok {
		return r.Repair(ctx)
	}
	return ErrCannotRepair
}

// Refresh brings c's derived index up to date when it keeps one.
func Refresh(ctx context.Context, c Corpus) error {
	if r, ok := c.(Refresher); ok {
		_, err := r.RefreshIndex(ctx)
		return err
	}
	return nil
}

// Quantize asks c to hold int8 vectors when it can; others ignore it.
func Quantize(c Corpus, on bool) {
	if q, ok := c.(Quantizer); ok {
		q.Quantize(on)
	}
}

// ErrCannotReset means a corpus has no way to empty itself.
var ErrCannotReset = errors.New("this corpus cannot be reset")

// Reset empties c, or fails with ErrCannotReset.
func Reset(ctx context.Context, c Corpus) error {
	if r, ok := c.(Resetter); ok {
		return r.Reset(ctx)
	}
	return ErrCannotReset
}

// DeleteByID removes the document with that ID; false if there is none.
func DeleteByID(ctx context.Context, c Corpus, id string) (bool, error) {
	if d, ok := c.(IDDeleter); ok {
		return d.DeleteByID(ctx, id)
	}
	docs, err := c.Documents(ctx, "")
	if err != nil {
		return false, err
	}
	for _, d := range docs {
		if d.ID == id {
			return true, c.Delete(ctx, []string{d.Path})
		}
	}
	return false, nil
}

// ErrNoDocument means no document is stored at a path.
var ErrNoDocument = errors.New("no such document")

// ErrEmbedderMismatch means the corpus's vectors come from another model.
var ErrEmbedderMismatch = errors.New("the store's vectors were made by another embedder")
