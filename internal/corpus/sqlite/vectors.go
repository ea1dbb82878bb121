package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// Vectors live beside their chunks, one float32 BLOB per chunk, written
// in the chunk's transaction. A store is bound to one embedder: its ID
// and dimension are the index identity, and vectors of another model are
// refused rather than mixed.

const vectorsTable = `CREATE TABLE IF NOT EXISTS chunk_vectors (
	chunk_rowid INTEGER PRIMARY KEY REFERENCES chunks(rowid) ON DELETE CASCADE,
	vec BLOB NOT NULL)`

// Bind records id as the store's embedder, or checks that it matches the
// one already recorded.
func (s *Corpus) Bind(ctx context.Context, ident corpus.Identity) error {
	id, dim := ident.Embedder, ident.Dim
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		var cur, curDim string
		tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'embedder'`).Scan(&cur)
		tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'dimension'`).Scan(&curDim)
		want := fmt.Sprint(dim)
		if cur != "" && cur != "none" {
			if cur != id || curDim != want {
				return fmt.Errorf("%w: this store is bound to %s (dimension %s), not %s (dimension %d); "+
					"use a new store for the new embedder, or set embed.provider back", corpus.ErrEmbedderMismatch, cur, curDim, id, dim)
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, vectorsTable); err != nil {
			return fmt.Errorf("creating the vector table: %w", err)
		}
		for k, v := range map[string]string{"embedder": id, "dimension": want} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Identity returns the store's embedder and dimension (corpus.NoEmbedder
// when it has no vectors).
func (s *Corpus) Identity(ctx context.Context) (corpus.Identity, error) {
	id, err := s.meta(ctx, "embedder")
	if err != nil {
		return corpus.Identity{}, err
	}
	dim, _ := s.meta(ctx, "dimension")
	var d int
	fmt.Sscan(dim, &d)
	if id == "" {
		id = "none"
	}
	return corpus.Identity{Embedder: id, Dim: d}, nil
}

// SearchDense returns the chunks nearest to the query vector: from the
// HNSW graph when one matches the store, else by an exact scan of the
// vectors held in memory.
func (s *Corpus) SearchDense(ctx context.Context, q corpus.DenseQuery) ([]corpus.Hit, error) {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "chunk_vectors"); err != nil || !ok {
		return nil, err
	}
	idx, err := s.loadDense(ctx)
	if err != nil {
		return nil, err
	}
	cands, err := s.nearest(ctx, idx, q)
	if err != nil {
		return nil, err
	}
	chosen := make([]ranked, len(cands))
	for i, c := range cands {
		chosen[i] = ranked{c.id, float64(c.score)}
	}
	hits, err := s.hitsByRowid(ctx, chosen)
	if err != nil {
		return nil, err
	}
	if hits == nil {
		hits = []corpus.Hit{} // vectors exist, none under the prefix
	}
	return hits, nil
}
