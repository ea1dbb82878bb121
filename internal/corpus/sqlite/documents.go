package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// Upsert writes documents in one transaction, each replacing any earlier
// version at the same path (its old chunks go in the same transaction).
func (s *Corpus) Upsert(ctx context.Context, docs []corpus.Document) error {
	if len(docs) == 0 {
		return nil
	}
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
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
		stored, err := tx.PrepareContext(ctx, `SELECT 1 FROM documents WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("preparing document lookup: %w", err)
		}
		defer stored.Close()
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
			id := corpus.DocID(d.Path)
			// A document not stored yet has nothing to delete: chunks and
			// vectors never outlive their document (Verify checks it).
			var one int
			switch err := stored.QueryRowContext(ctx, id).Scan(&one); {
			case err == nil:
				if err := deleteDoc(ctx, tx, id); err != nil {
					return err
				}
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("looking up document %s: %w", d.Path, err)
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
					if _, err := insVec.ExecContext(ctx, rowid, sqlitedb.EncodeVector(c.Vector)); err != nil {
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
func (s *Corpus) vectorInserter(ctx context.Context, tx *sql.Tx, docs []corpus.Document) (*sql.Stmt, error) {
	var id, dimText string
	tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'embedder'`).Scan(&id)
	tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'dimension'`).Scan(&dimText)
	bound := id != "" && id != "none"
	for _, d := range docs {
		for _, c := range d.Chunks {
			switch {
			case bound && (c.Vector == nil || fmt.Sprint(len(c.Vector)) != dimText):
				return nil, fmt.Errorf("%w: chunk %d of %s has no %s vector of dimension %s", corpus.ErrEmbedderMismatch, c.Ord, d.Path, id, dimText)
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
func (s *Corpus) Delete(ctx context.Context, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		if err := bumpVectorGeneration(ctx, tx); err != nil {
			return err
		}
		for _, p := range paths {
			if err := deleteDoc(ctx, tx, corpus.DocID(p)); err != nil {
				return fmt.Errorf("deleting %s: %w", p, err)
			}
		}
		return nil
	})
}

// Documents lists stored documents whose path starts with prefix.
func (s *Corpus) Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, path, title, format, hash, size, signature, chunks, ingested_at, tags
		FROM documents WHERE path LIKE ? ESCAPE '\' ORDER BY path`, sqlitedb.LikePrefix(prefix))
	if err != nil {
		return nil, fmt.Errorf("listing documents: %w", err)
	}
	defer rows.Close()
	var out []corpus.DocumentInfo
	for rows.Next() {
		var d corpus.DocumentInfo
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

// Verify checks the store's consistency: SQLite's integrity check, the
// full-text index against its content, and every document's chunk count.
// It returns a list of problems, empty when the store is sound.
func (s *Corpus) Verify(ctx context.Context) ([]string, error) {
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
	// FTS5 runs its check as a write, which a read-only store refuses.
	if !s.readOnly {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
			problems = append(problems, "full-text index: "+err.Error())
		}
	}
	if ident, err := s.Identity(ctx); err == nil && ident.Bound() {
		id := ident.Embedder
		var missing int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_rowid = c.rowid
			WHERE v.chunk_rowid IS NULL`).Scan(&missing); err != nil {
			return nil, fmt.Errorf("checking vectors: %w", err)
		}
		if missing > 0 {
			problems = append(problems, fmt.Sprintf("%d chunks have no vector from %s", missing, id))
		}
	}
	kwProblems, err := s.verifyKeywords(ctx)
	if err != nil {
		return nil, err
	}
	problems = append(problems, kwProblems...)
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

// Document reads back the document at path with its chunks and vectors,
// in chunk order, as Upsert would write it.
func (s *Corpus) Document(ctx context.Context, path string) (corpus.Document, error) {
	var d corpus.Document
	var tags string
	err := s.db.QueryRowContext(ctx, `SELECT path, title, format, hash, size, signature, tags FROM documents WHERE id = ?`, corpus.DocID(path)).
		Scan(&d.Path, &d.Title, &d.Format, &d.Hash, &d.Size, &d.Signature, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%w: %s", corpus.ErrNoDocument, path)
	}
	if err != nil {
		return d, fmt.Errorf("reading document %s: %w", path, err)
	}
	d.Tags = splitTags(tags)
	hasVectors, err := sqlitedb.HasTable(ctx, s.db, "chunk_vectors")
	if err != nil {
		return d, err
	}
	vecCol := "NULL"
	join := ""
	if hasVectors {
		vecCol, join = "v.vec", "LEFT JOIN chunk_vectors v ON v.chunk_rowid = c.rowid"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end, c.line_start, c.line_end, c.tokens, `+vecCol+`
		FROM chunks c `+join+` WHERE c.doc_id = ? ORDER BY c.ord`, corpus.DocID(path))
	if err != nil {
		return d, fmt.Errorf("reading chunks of %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c corpus.Chunk
		var vec []byte
		if err := rows.Scan(&c.ID, &c.Ord, &c.Title, &c.Heading, &c.Text, &c.Start, &c.End, &c.LineStart, &c.LineEnd, &c.Tokens, &vec); err != nil {
			return d, fmt.Errorf("reading chunks of %s: %w", path, err)
		}
		if vec != nil {
			c.Vector = sqlitedb.DecodeVector(vec)
		}
		d.Chunks = append(d.Chunks, c)
	}
	return d, rows.Err()
}

// DeleteByID removes one document by its ID; false if none.
func (s *Corpus) DeleteByID(ctx context.Context, id string) (bool, error) {
	var path string
	err := s.db.QueryRowContext(ctx, `SELECT path FROM documents WHERE id = ?`, id).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("finding document %s: %w", id, err)
	}
	return true, s.Delete(ctx, []string{path})
}
