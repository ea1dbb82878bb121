package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Vectors live beside their chunks, one float32 BLOB per chunk, written
// in the chunk's transaction. A store is bound to one embedder: its ID
// and dimension are the index identity, and vectors of another model are
// refused rather than mixed.

const vectorsTable = `CREATE TABLE IF NOT EXISTS chunk_vectors (
	chunk_rowid INTEGER PRIMARY KEY REFERENCES chunks(rowid) ON DELETE CASCADE,
	vec BLOB NOT NULL)`

// ErrEmbedderMismatch means the store's vectors come from another model.
var ErrEmbedderMismatch = errors.New("the store's vectors were made by another embedder")

// BindEmbedder records id/dim as the store's embedder, or checks that they
// match the one already recorded.
func (s *Store) BindEmbedder(ctx context.Context, id string, dim int) error {
	if s.remote != nil {
		return s.remote.BindEmbedder(ctx, id, dim)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var cur, curDim string
		tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'embedder'`).Scan(&cur)
		tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'dimension'`).Scan(&curDim)
		want := fmt.Sprint(dim)
		if cur != "" && cur != "none" {
			if cur != id || curDim != want {
				return fmt.Errorf("%w: this store is bound to %s (dimension %s), not %s (dimension %d); "+
					"use a new store for the new embedder, or set embed.provider back", ErrEmbedderMismatch, cur, curDim, id, dim)
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

// Embedder returns the store's embedder ID and dimension ("none", 0 when
// it has no vectors).
func (s *Store) Embedder(ctx context.Context) (string, int, error) {
	if s.remote != nil {
		return s.remote.Embedder(ctx)
	}
	id, err := s.Meta(ctx, "embedder")
	if err != nil {
		return "", 0, err
	}
	dim, _ := s.Meta(ctx, "dimension")
	var d int
	fmt.Sscan(dim, &d)
	if id == "" {
		id = "none"
	}
	return id, d, nil
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// DenseQuery is a nearest-neighbour search by inner product (the
// embedder's vectors are unit length, so this is cosine similarity).
type DenseQuery struct {
	Vector     []float32
	K          int
	PathPrefix string
	Tags       []string
}

// SearchDense returns the chunks nearest to the query vector: from the
// HNSW graph when one matches the store, else by an exact scan of the
// vectors held in memory.
func (s *Store) SearchDense(ctx context.Context, q DenseQuery) ([]Hit, error) {
	if s.remote != nil {
		return s.remote.SearchDense(ctx, q)
	}
	if ok, err := s.hasTable(ctx, "chunk_vectors"); err != nil || !ok {
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
	hits := make([]Hit, 0, len(cands))
	for _, c := range cands {
		h, err := s.hitByRowid(ctx, c.id)
		if err != nil {
			return nil, err
		}
		h.Score = float64(c.score)
		hits = append(hits, h)
	}
	if hits == nil {
		hits = []Hit{} // vectors exist, none under the prefix
	}
	return hits, nil
}

func (s *Store) hitByRowid(ctx context.Context, rowid int64) (Hit, error) {
	var h Hit
	h.Rowid = rowid
	err := s.db.QueryRowContext(ctx, `SELECT c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end, c.line_start, c.line_end, c.tokens,
		d.path, d.title FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.rowid = ?`, rowid).
		Scan(&h.ID, &h.Ord, &h.Title, &h.Heading, &h.Text, &h.Start, &h.End, &h.LineStart, &h.LineEnd, &h.Tokens, &h.DocPath, &h.DocTitle)
	if err != nil {
		return h, fmt.Errorf("reading chunk %d: %w", rowid, err)
	}
	return h, nil
}

func (s *Store) hasTable(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

const vectorCacheTable = `CREATE TABLE IF NOT EXISTS vector_cache (
	model TEXT NOT NULL, hash BLOB NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID`

// GetVectors looks up cached embeddings by text hash.
func (s *Store) GetVectors(ctx context.Context, model string, hashes [][32]byte) (map[[32]byte][]float32, error) {
	out := map[[32]byte][]float32{}
	if ok, err := s.hasTable(ctx, "vector_cache"); err != nil || !ok {
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
		out[h] = decodeVector(blob)
	}
	return out, nil
}

// PutVectors adds embeddings to the cache.
func (s *Store) PutVectors(ctx context.Context, model string, hashes [][32]byte, vecs [][]float32) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, vectorCacheTable); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO vector_cache(model, hash, vec) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, h := range hashes {
			if _, err := stmt.ExecContext(ctx, model, h[:], encodeVector(vecs[i])); err != nil {
				return fmt.Errorf("writing the vector cache: %w", err)
			}
		}
		return nil
	})
}
