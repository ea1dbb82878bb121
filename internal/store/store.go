// Package store is the project database: settings (meta), API keys,
// evaluation runs, fine-tuning jobs, ingest history and the embedding
// cache. It is always local, one SQLite file in the store directory
// (pure Go driver), and never touches the corpus, which lives in the same
// file (package corpus/sqlite) or on a cluster (package corpus/weaviate).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// DBFile is the database file name inside the store directory.
const DBFile = sqlitedb.File

// ErrNotFound means the store directory holds no store.
var ErrNotFound = errors.New("no ragtune store here")

// Store is an open project database.
type Store struct {
	db  *sql.DB
	dir string
}

// Create makes a new store in dir (or opens the existing one).
func Create(ctx context.Context, dir string) (*Store, error) {
	db, err := sqlitedb.Create(ctx, dir)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, dir: dir}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Open opens the store in dir, which must have been created.
func Open(ctx context.Context, dir string) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, DBFile)); err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrNotFound, dir, err)
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
	if v != sqlitedb.SchemaVersion {
		s.Close()
		return nil, fmt.Errorf("store at %s has schema version %q; this ragtune reads %q", dir, v, sqlitedb.SchemaVersion)
	}
	return s, nil
}

func open(ctx context.Context, dir string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, dir: dir}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dir is the store directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, sqlitedb.MetaTable); err != nil {
			return fmt.Errorf("creating schema: %w", err)
		}
		now := time.Now().UTC().Format(time.RFC3339)
		for k, v := range map[string]string{"schema_version": sqlitedb.SchemaVersion, "created_at": now} {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)`, k, v); err != nil {
				return fmt.Errorf("writing store metadata: %w", err)
			}
		}
		return nil
	})
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return sqlitedb.Tx(ctx, s.db, fn)
}

// Meta reads a metadata value ("" if unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	return sqlitedb.Meta(ctx, s.db, key)
}

// SetMeta writes a metadata value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return sqlitedb.SetMeta(ctx, s.db, key, value)
}

// AllMeta returns every metadata value: the store's settings and, for
// the embedded corpus, its index identity.
func (s *Store) AllMeta(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, fmt.Errorf("reading metadata: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("reading metadata: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Bytes is the size of the store's database on disk (with its WAL).
func (s *Store) Bytes() int64 {
	var n int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(filepath.Join(s.dir, DBFile+suffix)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// Ping reads the store's schema version, to show the database answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.Meta(ctx, "schema_version")
	return err
}
