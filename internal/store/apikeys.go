package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/apikey"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// API keys are kept as SHA-256 hashes: the store can check a key but
// never reveal one. A key's scopes are "read" (search, ask), "write"
// (ingest, delete documents) and "admin" (revoke keys over HTTP).

const apiKeysTable = `CREATE TABLE IF NOT EXISTS api_keys (
	hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, created_at TEXT NOT NULL)`

// RevokeAPIKey deletes the key called name, so requests with it are
// refused from then on; false when no key has that name.
func (s *Store) RevokeAPIKey(ctx context.Context, name string) (bool, error) {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "api_keys"); err != nil || !ok {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_keys WHERE name = ?`, name)
	if err != nil {
		return false, fmt.Errorf("revoking key %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ErrBadKey means a key is unknown.
var ErrBadKey = apikey.ErrUnknown

// APIKey describes a stored key (never the key itself).
type APIKey = apikey.Key

// CreateAPIKey makes a new random key with the given scopes and returns
// it; this is the only time it is visible.
func (s *Store) CreateAPIKey(ctx context.Context, name string, scopes []string) (string, error) {
	if err := apikey.Check(name, scopes); err != nil {
		return "", err
	}
	key, err := apikey.New()
	if err != nil {
		return "", err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, apiKeysTable); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys(hash, name, scopes, created_at) VALUES (?, ?, ?, ?)`,
			apikey.Hash(key), name, strings.Join(scopes, ","), time.Now().UTC().Format(time.RFC3339))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("a key named %q %w", name, apikey.ErrExists)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// CheckAPIKey returns the name and scopes of key.
func (s *Store) CheckAPIKey(ctx context.Context, key string) (string, []string, error) {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "api_keys"); err != nil || !ok {
		return "", nil, ErrBadKey
	}
	h := apikey.Hash(key)
	var stored, name, scopes string
	err := s.db.QueryRowContext(ctx, `SELECT hash, name, scopes FROM api_keys WHERE hash = ?`, h).Scan(&stored, &name, &scopes)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !apikey.Equal(stored, h)) {
		return "", nil, ErrBadKey
	}
	if err != nil {
		return "", nil, err
	}
	return name, strings.Split(scopes, ","), nil
}

// APIKeys lists the keys.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	out := []APIKey{}
	if ok, err := sqlitedb.HasTable(ctx, s.db, "api_keys"); err != nil || !ok {
		return out, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, scopes, created_at FROM api_keys ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k APIKey
		var scopes string
		if err := rows.Scan(&k.Name, &scopes, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.Scopes = strings.Split(scopes, ",")
		out = append(out, k)
	}
	return out, rows.Err()
}

// KeysLocation says where the keys live.
func (s *Store) KeysLocation() string {
	return "this machine's project database in " + s.dir
}
