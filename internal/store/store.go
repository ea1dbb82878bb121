// Package store is the embedded store: one directory holding a SQLite
// database (pure Go driver) with documents, chunks and an FTS5 full-text
// index. WAL mode lets searches run while another process ingests; every
// document is replaced inside one transaction, so a crash at any moment
// leaves each document either fully old or fully new.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/lexical"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DBFile is the database file name inside the store directory.
const DBFile = "ragtune.db"

// schemaVersion changes when the tables do; Open refuses other versions.
const schemaVersion = "1"

// ErrNotFound means the store directory holds no store.
var ErrNotFound = errors.New("no ragtune store here")

// Store is an open embedded store.
type Store struct {
	db     *sql.DB
	dir    string
	dense  denseCache
	remote Corpus // nil: the corpus is in db
}

// Create makes a new store in dir (or opens the existing one).
func Create(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating store directory: %w", err)
	}
	s, err := open(ctx, dir)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Open opens the store in dir, which must have been created.
func Open(ctx context.Context, dir string) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, DBFile)); err != nil {
		return nil, fmt.Errorf("%w at %s (run `ragtune init` first): %w", ErrNotFound, dir, err)
	}
	s, err := open(ctx, dir)
	if err != nil {
		return nil, err
	}
	v, err := s.Meta(ctx, "schema_version")
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.addMissingColumns(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if v != schemaVersion {
		s.Close()
		return nil, fmt.Errorf("store at %s has schema version %q; this ragtune reads %q", dir, v, schemaVersion)
	}
	return s, nil
}

func open(ctx context.Context, dir string) (*Store, error) {
	path := filepath.Join(dir, DBFile)
	// _txlock=immediate takes the write lock at BEGIN, so two writers wait
	// for each other (busy_timeout) instead of failing on lock upgrade.
	dsn := "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &Store{db: db, dir: dir}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.remote != nil {
		if err := s.remote.Close(); err != nil {
			s.db.Close()
			return err
		}
	}
	return s.db.Close()
}

// Dir is the store directory.
func (s *Store) Dir() string { return s.dir }

var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
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

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("creating schema: %w", err)
			}
		}
		now := time.Now().UTC().Format(time.RFC3339)
		for k, v := range map[string]string{
			"schema_version": schemaVersion,
			"created_at":     now,
			"lexical":        "sqlite-fts5 bm25; tokenize=" + lexical.FTS5Tokenizer,
			"embedder":       "none",
			"dimension":      "0",
		} {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)`, k, v); err != nil {
				return fmt.Errorf("writing store metadata: %w", err)
			}
		}
		return nil
	})
}

// addMissingColumns upgrades stores made before a column existed; it
// takes the write lock only when there is something to add.
func (s *Store) addMissingColumns(ctx context.Context) error {
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

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// Meta reads a metadata value ("" if unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading store metadata %s: %w", key, err)
	}
	return v, nil
}

// DocID derives a document's stable ID from its path.
func DocID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:8])
}

// ChunkID derives a chunk's ID from its document, position and text, so
// re-ingesting the same content reproduces the same IDs.
func ChunkID(path string, ord int, text string) string {
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(ord)))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil)[:10])
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
		args = append(args, "%,"+likeEscaper.Replace(t)+",%")
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

// likePrefix escapes a path prefix for use with LIKE ... ESCAPE '\'.
func likePrefix(prefix string) string { return likeEscaper.Replace(prefix) + "%" }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SetMeta writes a metadata value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("writing store metadata %s: %w", key, err)
	}
	return nil
}
