package store

import "context"

// Corpus holds the documents, chunks and vectors of a store and answers
// searches over them. The embedded SQLite database is the default corpus;
// a distributed engine (see package store/weaviate) can take its place
// with SetCorpus, while the store's own database keeps what belongs to
// the project rather than the corpus: settings, API keys, evaluation runs,
// fine-tuning jobs and the embedding cache.
type Corpus interface {
	Upsert(ctx context.Context, docs []Document) error
	Delete(ctx context.Context, paths []string) error
	Documents(ctx context.Context, prefix string) ([]DocumentInfo, error)
	// Document reads one document back with its chunks and vectors, or
	// fails with ErrNoDocument.
	Document(ctx context.Context, path string) (Document, error)
	SearchLexical(ctx context.Context, q LexicalQuery) ([]Hit, error)
	SearchDense(ctx context.Context, q DenseQuery) ([]Hit, error)
	TermStats(ctx context.Context, terms []string) (int, map[string]int, error)
	VectorsOf(ctx context.Context, rowids []int64) (map[int64][]float32, error)
	BindEmbedder(ctx context.Context, id string, dim int) error
	Embedder(ctx context.Context) (string, int, error)
	// Counts returns the number of documents and chunks and the chunks'
	// total tokens.
	Counts(ctx context.Context) (docs, chunks int, tokens int64, err error)
	// Verify lists inconsistencies; empty means sound.
	Verify(ctx context.Context) ([]string, error)
	// Describe names the backend and its location for status output.
	Describe() map[string]string
	Close() error
}

// SetCorpus makes c hold this store's corpus instead of the embedded
// database; the store closes it on Close.
func (s *Store) SetCorpus(c Corpus) { s.remote = c }

// Remote returns the corpus set with SetCorpus, nil for the embedded one.
func (s *Store) Remote() Corpus { return s.remote }
