package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// The embedding cache keeps vectors by (model, text hash), so re-ingesting
// or re-indexing text already embedded costs a lookup, not a forward pass.

const vectorCacheTable = `CREATE TABLE IF NOT EXISTS vector_cache (
	model TEXT NOT NULL, hash BLOB NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID`

// GetVectors looks up cached embeddings by text hash.
func (s *Store) GetVectors(ctx context.Context, model string, hashes [][32]byte) (map[[32]byte][]float32, error) {
	out := map[[32]byte][]float32{}
	if ok, err := sqlitedb.HasTable(ctx, s.db, "vector_cache"); err != nil || !ok {
		return out, err
	}
	stmt, err := s.db.PrepareContext(ctx, `SELECT vec FROM vector_cache WHERE model = ? AND hash = ?`)
	if err != nil {
		return nil, fmt.Errorf("reading the vector cache: %w", err)
	}
	defer stmt.Close()
	for _, h := range hashes {
		var blob []byte
		err := stmt.QueryRowContext(ctx, model, h[:]).Scan(&blob)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the vector cache: %w", err)
		}
		out[h] = sqlitedb.DecodeVector(blob)
	}
	return out, nil
}

// PutVectors adds embeddings to the cache.
func (s *Store) PutVectors(ctx context.Context, model string, hashes [][32]byte, vecs [][]float32) error {
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, vectorCacheTable); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO vector_cache(model, hash, vec) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, h := range hashes {
			if _, err := stmt.ExecContext(ctx, model, h[:], sqlitedb.EncodeVector(vecs[i])); err != nil {
				return fmt.Errorf("writing the vector cache: %w", err)
			}
		}
		return nil
	})
}
