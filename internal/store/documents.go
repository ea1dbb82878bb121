package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Document is a document with its chunks, as written by Upsert.
type Document struct {
	Path      string
	Title     string
	Format    string
	Hash      string
	Size      int64
	Signature string // pipeline settings the chunks were made with
	Tags      []string
	Chunks    []Chunk
}

// Chunk is a stored chunk.
type Chunk struct {
	ID        string `json:"chunk_id"`
	Ord       int    `json:"ord"`
	Title     string `json:"title"`
	Heading   string `json:"heading"`
	Text      string `json:"text"`
	Start     int    `json:"byte_start"`
	End       int    `json:"byte_end"`
	LineStart int    `json:"line_start"`
	LineEnd   int    `json:"line_end"`
	Tokens    int    `json:"tokens"`
	// Vector is the chunk's embedding, nil in a store without an embedder.
	Vector []float32 `json:"-"`
	// Rowid is the chunk's key in this store, set on search results.
	Rowid int64 `json:"-"`
}

// DocumentInfo describes a stored document without its chunks.
type DocumentInfo struct {
	ID         string    `json:"id"`
	Path       string    `json:"path"`
	Title      string    `json:"title"`
	Format     string    `json:"format"`
	Hash       string    `json:"hash"`
	Size       int64     `json:"size"`
	Signature  string    `json:"signature"`
	Chunks     int       `json:"chunks"`
	Tags       []string  `json:"tags"`
	IngestedAt time.Time `json:"ingested_at"`
}

// Upsert writes documents in one transaction, each replacing any earlier
// version at the same path (its old chunks go in the same transaction).
func (s *Store) Upsert(ctx context.Context, docs []Document) error {
	if s.remote != nil {
		return s.remote.Upsert(ctx, docs)
	}
	if len(docs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		insDoc, err := tx.PrepareContext(ctx, `INSERT INTO documents(id, path, title, format, hash, size, signature, chunks, ingested_at, tags)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("preparing document insert: %w", err)
		}
		defer insDoc.Close()
		insChunk, err := tx.PrepareContext(ctx, `INSERT INTO chunks(id, doc_id, ord, title, heading, text, byte_start, byte_end, line_start, line_end, tokens)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("preparing chunk insert: %w", err)
		}
		defer insChunk.Close()
		insVec, err := s.vectorInserter(ctx, tx, docs)
		if err != nil {
			return err
		}
		if insVec != nil {
			defer insVec.Close()
		}
		now := time.Now().UTC().Format(time.RFC3339Nano)
		if err := bumpVectorGeneration(ctx, tx); err != nil {
			return err
		}
		for _, d := range docs {
			id := DocID(d.Path)
			if err := deleteDoc(ctx, tx, id); err != nil {
				return err
			}
			if _, err := insDoc.ExecContext(ctx, id, d.Path, d.Title, d.Format, d.Hash, d.Size, d.Signature, len(d.Chunks), now, tagsField(d.Tags)); err != nil {
				return fmt.Errorf("writing document %s: %w", d.Path, err)
			}
			for _, c := range d.Chunks {
				res, err := insChunk.ExecContext(ctx, c.ID, id, c.Ord, c.Title, c.Heading, c.Text,
					c.Start, c.End, c.LineStart, c.LineEnd, c.Tokens)
				if err != nil {
					return fmt.Errorf("writing chunk %d of %s: %w", c.Ord, d.Path, err)
				}
				if c.Vector != nil {
					rowid, _ := res.LastInsertId()
					if _, err := insVec.ExecContext(ctx, rowid, encodeVector(c.Vector)); err != nil {
						return fmt.Errorf("writing the vector of chunk %d of %s: %w", c.Ord, d.Path, err)
					}
				}
			}
		}
		return nil
	})
}

// vectorInserter checks the documents against the store's embedder
// binding: a bound store takes only chunks with vectors of its dimension,
// an unbound one only chunks without. It prepares the vector insert when
// there are vectors to write.
func (s *Store) vectorInserter(ctx context.Context, tx *sql.Tx, docs []Document) (*sql.Stmt, error) {
	var id, dimText string
	tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'embedder'`).Scan(&id)
	tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'dimension'`).Scan(&dimText)
	bound := id != "" && id != "none"
	for _, d := range docs {
		for _, c := range d.Chunks {
			switch {
			case bound && (c.Vector == nil || fmt.Sprint(len(c.Vector)) != dimText):
				return nil, fmt.Errorf("%w: chunk %d of %s has no %s vector of dimension %s", ErrEmbedderMismatch, c.Ord, d.Path, id, dimText)
			case !bound && c.Vector != nil:
				return nil, fmt.Errorf("chunk %d of %s has a vector, but the store is bound to no embedder", c.Ord, d.Path)
			}
		}
	}
	if !bound {
		return nil, nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO chunk_vectors(chunk_rowid, vec) VALUES (?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("preparing vector insert: %w", err)
	}
	return stmt, nil
}

func deleteDoc(ctx context.Context, tx *sql.Tx, id string) error {
	// Vectors and chunks go first and explicitly, so the FTS delete
	// trigger sees the chunks and no vector outlives its chunk.
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunk_vectors WHERE chunk_rowid IN (SELECT rowid FROM chunks WHERE doc_id = ?)`, id); err != nil && !isNoTable(err) {
		return fmt.Errorf("deleting old vectors: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE doc_id = ?`, id); err != nil {
		return fmt.Errorf("deleting old chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting old document: %w", err)
	}
	return nil
}

func isNoTable(err error) bool { return err != nil && strings.Contains(err.Error(), "no such table") }

// Delete removes the documents at paths, with their chunks, in one
// transaction.
func (s *Store) Delete(ctx context.Context, paths []string) error {
	if s.remote != nil {
		return s.remote.Delete(ctx, paths)
	}
	if len(paths) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := bumpVectorGeneration(ctx, tx); err != nil {
			return err
		}
		for _, p := range paths {
			if err := deleteDoc(ctx, tx, DocID(p)); err != nil {
				return fmt.Errorf("deleting %s: %w", p, err)
			}
		}
		return nil
	})
}

// Documents lists stored documents whose path starts with prefix.
func (s *Store) Documents(ctx context.Context, prefix string) ([]DocumentInfo, error) {
	if s.remote != nil {
		return s.remote.Documents(ctx, prefix)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, path, title, format, hash, size, signature, chunks, ingested_at, tags
		FROM documents WHERE path LIKE ? ESCAPE '\' ORDER BY path`, likePrefix(prefix))
	if err != nil {
		return nil, fmt.Errorf("listing documents: %w", err)
	}
	defer rows.Close()
	var out []DocumentInfo
	for rows.Next() {
		var d DocumentInfo
		var at, tags string
		if err := rows.Scan(&d.ID, &d.Path, &d.Title, &d.Format, &d.Hash, &d.Size, &d.Signature, &d.Chunks, &at, &tags); err != nil {
			return nil, fmt.Errorf("listing documents: %w", err)
		}
		d.IngestedAt, _ = time.Parse(time.RFC3339Nano, at)
		d.Tags = splitTags(tags)
		if d.Tags == nil {
			d.Tags = []string{}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Stats summarises the store.
type Stats struct {
	Documents int               `json:"documents"`
	Chunks    int               `json:"chunks"`
	Tokens    int64             `json:"tokens"`
	Bytes     int64             `json:"store_bytes"`
	Identity  map[string]string `json:"index_identity"`
}

// Stats counts documents and chunks and measures the store on disk.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Identity: map[string]string{}}
	var err error
	if s.remote != nil {
		st.Documents, st.Chunks, st.Tokens, err = s.remote.Counts(ctx)
	} else {
		err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM documents), count(*), coalesce(sum(tokens), 0) FROM chunks`).
			Scan(&st.Documents, &st.Chunks, &st.Tokens)
	}
	if err != nil {
		return st, fmt.Errorf("counting: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return st, fmt.Errorf("reading metadata: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return st, err
		}
		st.Identity[k] = v
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := statFile(s.dir, DBFile+suffix); err == nil {
			st.Bytes += fi
		}
	}
	if err := rows.Err(); err != nil || s.remote == nil {
		return st, err
	}
	// The local database's embedder and lexical lines describe a corpus
	// it does not hold.
	st.Identity["embedder"], st.Identity["dimension"] = "none", "0"
	if id, dim, err := s.remote.Embedder(ctx); err == nil {
		st.Identity["embedder"], st.Identity["dimension"] = id, fmt.Sprint(dim)
	}
	for k, v := range s.remote.Describe() {
		st.Identity[k] = v
	}
	return st, nil
}

// Verify checks the store's consistency: SQLite's integrity check, the
// full-text index against its content, and every document's chunk count.
// It returns a list of problems, empty when the store is sound.
func (s *Store) Verify(ctx context.Context) ([]string, error) {
	if s.remote != nil {
		return s.remote.Verify(ctx)
	}
	var problems []string
	rows, err := s.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, fmt.Errorf("checking integrity: %w", err)
	}
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, err
		}
		if msg != "ok" {
			problems = append(problems, "sqlite: "+msg)
		}
	}
	rows.Close()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		problems = append(problems, "full-text index: "+err.Error())
	}
	if id, _, err := s.Embedder(ctx); err == nil && id != "none" {
		var missing int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_rowid = c.rowid
			WHERE v.chunk_rowid IS NULL`).Scan(&missing); err != nil {
			return nil, fmt.Errorf("checking vectors: %w", err)
		}
		if missing > 0 {
			problems = append(problems, fmt.Sprintf("%d chunks have no vector from %s", missing, id))
		}
	}
	bad, err := s.db.QueryContext(ctx, `SELECT d.path, d.chunks, count(c.id) FROM documents d
		LEFT JOIN chunks c ON c.doc_id = d.id GROUP BY d.id HAVING d.chunks != count(c.id)`)
	if err != nil {
		return nil, fmt.Errorf("checking chunk counts: %w", err)
	}
	defer bad.Close()
	for bad.Next() {
		var path string
		var want, got int
		if err := bad.Scan(&path, &want, &got); err != nil {
			return nil, err
		}
		problems = append(problems, fmt.Sprintf("%s: %d chunks recorded, %d stored", path, want, got))
	}
	return problems, bad.Err()
}

// ErrNoDocument means no document is stored at a path.
var ErrNoDocument = errors.New("no such document")

// Document reads back the document at path with its chunks and vectors,
// in chunk order, as Upsert would write it.
func (s *Store) Document(ctx context.Context, path string) (Document, error) {
	if s.remote != nil {
		return s.remote.Document(ctx, path)
	}
	var d Document
	var tags string
	err := s.db.QueryRowContext(ctx, `SELECT path, title, format, hash, size, signature, tags FROM documents WHERE id = ?`, DocID(path)).
		Scan(&d.Path, &d.Title, &d.Format, &d.Hash, &d.Size, &d.Signature, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%w: %s", ErrNoDocument, path)
	}
	if err != nil {
		return d, fmt.Errorf("reading document %s: %w", path, err)
	}
	d.Tags = splitTags(tags)
	hasVectors, err := s.hasTable(ctx, "chunk_vectors")
	if err != nil {
		return d, err
	}
	vecCol := "NULL"
	join := ""
	if hasVectors {
		vecCol, join = "v.vec", "LEFT JOIN chunk_vectors v ON v.chunk_rowid = c.rowid"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end, c.line_start, c.line_end, c.tokens, `+vecCol+`
		FROM chunks c `+join+` WHERE c.doc_id = ? ORDER BY c.ord`, DocID(path))
	if err != nil {
		return d, fmt.Errorf("reading chunks of %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Chunk
		var vec []byte
		if err := rows.Scan(&c.ID, &c.Ord, &c.Title, &c.Heading, &c.Text, &c.Start, &c.End, &c.LineStart, &c.LineEnd, &c.Tokens, &vec); err != nil {
			return d, fmt.Errorf("reading chunks of %s: %w", path, err)
		}
		if vec != nil {
			c.Vector = decodeVector(vec)
		}
		d.Chunks = append(d.Chunks, c)
	}
	return d, rows.Err()
}
