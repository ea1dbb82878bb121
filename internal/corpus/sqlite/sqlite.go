// Package sqlite is the embedded corpus: documents, chunks, an FTS5
// full-text index and float32 vectors in the store's SQLite file (pure Go
// driver). WAL mode lets searches run while another process ingests;
// every document is replaced inside one transaction, so a crash at any
// moment leaves each document either fully old or fully new.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// ErrNotFound means the directory holds no store.
var ErrNotFound = errors.New("no ragtune store here")

// Corpus is an open embedded corpus.
type Corpus struct {
	db    *sql.DB
	dir   string
	dense denseCache
	kw    keywordCache
	// hnswThreshold is the vector count from which RefreshIndex keeps an
	// HNSW graph.
	hnswThreshold int
	readOnly      bool // this user may not write the store
}

var _ interface {
	corpus.Corpus
	corpus.Refresher
	corpus.Quantizer
	corpus.IDDeleter
	corpus.Repairer
} = (*Corpus)(nil)

var tables = []string{
	sqlitedb.MetaTable,
	`CREATE TABLE IF NOT EXISTS documents (
		id TEXT PRIMARY KEY,
		path TEXT NOT NULL UNIQUE,
		title TEXT NOT NULL,
		format TEXT NOT NULL,
		hash TEXT NOT NULL,
		size INTEGER NOT NULL,
		signature TEXT NOT NULL,
		chunks INTEGER NOT NULL,
		ingested_at TEXT NOT NULL,
		tags TEXT NOT NULL DEFAULT '')`,
	`CREATE TABLE IF NOT EXISTS chunks (
		rowid INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
		ord INTEGER NOT NULL,
		title TEXT NOT NULL,
		heading TEXT NOT NULL,
		text TEXT NOT NULL,
		byte_start INTEGER NOT NULL,
		byte_end INTEGER NOT NULL,
		line_start INTEGER NOT NULL,
		line_end INTEGER NOT NULL,
		tokens INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord)`,
	`CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, text,
		content='chunks', content_rowid='rowid', tokenize='` + lexical.FTS5Tokenizer + `')`,
	`CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
		INSERT INTO chunks_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text); END`,
	`CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
		INSERT INTO chunks_fts(chunks_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text); END`,
}

var schema = append(tables, changeLog...)

// Create makes the corpus tables in dir's store file (creating the
// directory and file as needed), or opens the existing ones.
func Create(ctx context.Context, dir string) (*Corpus, error) {
	db, err := sqlitedb.Create(ctx, dir)
	if err != nil {
		return nil, err
	}
	c := &Corpus{db: db, dir: dir, hnswThreshold: HNSWThreshold}
	err = sqlitedb.Tx(ctx, c.db, func(tx *sql.Tx) error {
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("creating schema: %w", err)
			}
		}
		for k, v := range map[string]string{
			"lexical":   "sqlite-fts5 bm25; tokenize=" + lexical.FTS5Tokenizer,
			"embedder":  "none",
			"dimension": "0",
		} {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)`, k, v); err != nil {
				return fmt.Errorf("writing store metadata: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Open opens the corpus of the store in dir, which must exist.
func Open(ctx context.Context, dir string) (*Corpus, error) {
	if _, err := os.Stat(filepath.Join(dir, sqlitedb.File)); err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrNotFound, dir, err)
	}
	c, err := open(ctx, dir)
	if err != nil {
		return nil, err
	}
	if ok, err := sqlitedb.HasTable(ctx, c.db, "documents"); err != nil || !ok {
		c.Close()
		if err == nil {
			err = fmt.Errorf("%w at %s: the store file has no corpus tables", ErrNotFound, dir)
		}
		return nil, err
	}
	if err := c.addChangeLog(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.addMissingColumns(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func open(ctx context.Context, dir string) (*Corpus, error) {
	db, err := sqlitedb.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	file, _ := sqlitedb.Writable(dir)
	return &Corpus{db: db, dir: dir, hnswThreshold: HNSWThreshold, readOnly: !file}, nil
}

// addChangeLog adds the keyword index's change log to a store made
// before it, taking the write lock only when it is missing.
func (s *Corpus) addChangeLog(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	if ok, err := sqlitedb.HasTable(ctx, s.db, "chunks_changed"); err != nil || ok {
		return err
	}
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		for _, stmt := range changeLog {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("upgrading the store: %w", err)
			}
		}
		return nil
	})
}

// addMissingColumns upgrades stores made before a column existed; it
// takes the write lock only when there is something to add.
func (s *Corpus) addMissingColumns(ctx context.Context) error {
	if s.readOnly {
		return nil // read as it is; the tags column reads as missing tags
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('documents') WHERE name = 'tags'`).Scan(&n); err != nil {
		return fmt.Errorf("inspecting the store: %w", err)
	}
	if n > 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `ALTER TABLE documents ADD COLUMN tags TEXT NOT NULL DEFAULT ''`)
	if err != nil && !strings.Contains(err.Error(), "duplicate column") {
		return fmt.Errorf("upgrading the store: %w", err)
	}
	return nil
}

// storePerm is the database file's permissions, which the files derived
// from it beside it take: whoever may read the store may read them.
func storePerm(dir string) os.FileMode {
	if fi, err := os.Stat(filepath.Join(dir, sqlitedb.File)); err == nil {
		return fi.Mode().Perm()
	}
	return 0o600
}

// Close closes the corpus's connections and unmaps its float32 sidecar
// once the searches still reading it are done.
func (s *Corpus) Close() error {
	s.dense.set(nil)
	if s.kw.tok != nil {
		s.kw.tok.Close()
	}
	return s.db.Close()
}

// Describe says nothing: the embedded corpus is where the store is.
func (s *Corpus) Describe() map[string]string { return map[string]string{} }

// SetHNSWThreshold changes the vector count from which RefreshIndex keeps
// an HNSW graph (HNSWThreshold by default).
func (s *Corpus) SetHNSWThreshold(n int) { s.hnswThreshold = n }

// RefreshIndex brings the keyword index file (see lexindex.go) and the
// HNSW graph (see RefreshVectorIndex) up to date. It reports whether a
// graph is in place.
func (s *Corpus) RefreshIndex(ctx context.Context) (bool, error) {
	if err := s.refreshKeywords(ctx); err != nil {
		return false, err
	}
	return s.RefreshVectorIndex(ctx, s.hnswThreshold)
}

// Stats counts documents, chunks and tokens.
func (s *Corpus) Stats(ctx context.Context) (corpus.Stats, error) {
	var st corpus.Stats
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM documents), count(*), coalesce(sum(tokens), 0) FROM chunks`).
		Scan(&st.Documents, &st.Chunks, &st.Tokens)
	if err != nil {
		return st, fmt.Errorf("counting: %w", err)
	}
	return st, nil
}

func (s *Corpus) meta(ctx context.Context, key string) (string, error) {
	return sqlitedb.Meta(ctx, s.db, key)
}

// tagsField stores tags as ",a,b," so one LIKE finds a whole tag.
func tagsField(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return "," + strings.Join(tags, ",") + ","
}

func splitTags(field string) []string {
	if field == "" {
		return nil
	}
	return strings.Split(strings.Trim(field, ","), ",")
}

// tagFilter returns SQL conditions requiring every tag, with their args.
func tagFilter(tags []string) (string, []any) {
	var sqlPart string
	var args []any
	for _, t := range tags {
		sqlPart += ` AND d.tags LIKE ? ESCAPE '\'`
		args = append(args, "%,"+sqlitedb.LikeEscape(t)+",%")
	}
	return sqlPart, args
}

func hasAllTags(field string, tags []string) bool {
	for _, t := range tags {
		if !strings.Contains(field, ","+t+",") {
			return false
		}
	}
	return true
}

// Repair rebuilds the full-text index from the chunks and the HNSW graph
// from the vectors: the derived data a damaged store can lose while its
// chunks are intact.
func (s *Corpus) Repair(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')`); err != nil {
		return fmt.Errorf("rebuilding the full-text index: %w", err)
	}
	for _, f := range append(s.hnswFiles(), filepath.Join(s.dir, keywordFile)) {
		os.Remove(f)
	}
	s.kw.build.Lock()
	s.kw.base = nil
	s.kw.build.Unlock()
	s.setKeywords(nil)
	s.dense.set(nil) // its float32 sidecar is checked row by row as it is rebuilt

	if _, err := s.RefreshIndex(ctx); err != nil {
		return fmt.Errorf("rebuilding the vector graph: %w", err)
	}
	return nil
}
