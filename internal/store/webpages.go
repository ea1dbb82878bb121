package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ragtune/ragtune/internal/sqlitedb"
	"github.com/ragtune/ragtune/internal/web"
)

// The web page memory keeps what a site said about each page it served
// (ETag, Last-Modified), so the next crawl asks with them and an
// unchanged page costs a 304.

const webPagesTable = `CREATE TABLE IF NOT EXISTS web_pages (
	url TEXT PRIMARY KEY, etag TEXT NOT NULL, last_modified TEXT NOT NULL, fetched_at TEXT NOT NULL)`

// Validators returns what the site said of url last time (empty if never).
func (s *Store) Validators(ctx context.Context, url string) (web.Validators, error) {
	var v web.Validators
	if ok, err := sqlitedb.HasTable(ctx, s.db, "web_pages"); err != nil || !ok {
		return v, err
	}
	err := s.db.QueryRowContext(ctx, `SELECT etag, last_modified FROM web_pages WHERE url = ?`, url).Scan(&v.ETag, &v.LastModified)
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("reading the validators of %s: %w", url, err)
	}
	return v, nil
}

// Remember keeps what the site said of url.
func (s *Store) Remember(ctx context.Context, url string, v web.Validators) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, webPagesTable); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO web_pages(url, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, fetched_at = excluded.fetched_at`,
			url, v.ETag, v.LastModified, time.Now().UTC().Format(time.RFC3339))
		return err
	})
}
