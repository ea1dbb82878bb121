// Package sqlitedb holds what the project database (package store) and
// the embedded corpus (package corpus/sqlite) share about the one SQLite
// file they live in: how it is opened, transactions, the meta table and
// the vector encoding. Each opens its own connection pool on the file;
// neither imports the other.
package sqlitedb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// File is the database file name inside the store directory.
const File = "ragtune.db"

// SchemaVersion changes when the tables do; both sides refuse others.
const SchemaVersion = "1"

// MetaTable is created by whichever side opens a new file first.
const MetaTable = `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`

// Create makes dir (0700 when new: the store holds API key hashes and
// the corpus) and opens its database file, which is made readable by its
// owner only (0600); SQLite gives the WAL files the same mode.
func Create(ctx context.Context, dir string) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating store directory: %w", err)
	}
	path := filepath.Join(dir, File)
	_, statErr := os.Stat(path)
	db, err := Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := os.Chmod(path, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("making %s private: %w", path, err)
		}
	}
	return db, nil
}

// ErrReadOnly means the store may be read but not written by this user.
var ErrReadOnly = errors.New("this user may read the store but not write it")

// Writable reports whether this user may write the store in dir: its
// database file, and the folder SQLite keeps the WAL files in.
func Writable(dir string) (file, folder bool) {
	return unix.Access(filepath.Join(dir, File), unix.W_OK) == nil, unix.Access(dir, unix.W_OK) == nil
}

// Open opens the database file in dir. A store this user may not write
// opens read-only, so searches and answers still work: "mode=ro" when
// the folder is writable (SQLite can keep its WAL index there), else
// "immutable", which tells SQLite nobody writes the file meanwhile.
func Open(ctx context.Context, dir string) (*sql.DB, error) {
	path := filepath.Join(dir, File)
	// _txlock=immediate takes the write lock at BEGIN, so two writers wait
	// for each other (busy_timeout) instead of failing on lock upgrade.
	dsn := "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)"
	if _, err := os.Stat(path); err == nil {
		switch file, folder := Writable(dir); {
		case !file && folder:
			dsn = "file:" + path + "?mode=ro&_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)"
		case !file:
			dsn = "file:" + path + "?mode=ro&immutable=1&_pragma=foreign_keys(1)"
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// Each SQLite connection has its own schema and page cache: keep the
	// ones opened (database/sql keeps 2 idle by default, so under load
	// connections were opened and closed constantly), and bound how many
	// run at once so concurrent searches queue instead of thrashing. No
	// code path holds one connection while it waits for another.
	db.SetMaxIdleConns(64)
	db.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	return db, nil
}

// Tx runs fn in a transaction, committing when it returns nil.
func Tx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
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

// Querier is a *sql.DB or a *sql.Tx.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Meta reads a value of the meta table ("" if unset).
func Meta(ctx context.Context, q Querier, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading store metadata %s: %w", key, err)
	}
	return v, nil
}

// SetMeta writes a value of the meta table.
func SetMeta(ctx context.Context, q Querier, key, value string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("writing store metadata %s: %w", key, err)
	}
	return nil
}

// HasTable reports whether the database has a table of that name.
func HasTable(ctx context.Context, q Querier, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

// EncodeVector is a vector's BLOB form: little-endian float32s.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector reads EncodeVector's form.
func DecodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// LikePrefix escapes a prefix for use with LIKE ... ESCAPE '\'.
func LikePrefix(prefix string) string { return likeEscaper.Replace(prefix) + "%" }

// LikeEscape escapes LIKE's wildcards in s, for use with ESCAPE '\'.
func LikeEscape(s string) string { return likeEscaper.Replace(s) }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
