package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// Each finished ingest leaves a row, so that how often the documents
// change can be measured instead of guessed (ragtune advise reads it).

const ingestRunsTable = `CREATE TABLE IF NOT EXISTS ingest_runs (
	id INTEGER PRIMARY KEY, finished_at INTEGER NOT NULL, root TEXT NOT NULL,
	added INTEGER NOT NULL, updated INTEGER NOT NULL, deleted INTEGER NOT NULL,
	unchanged INTEGER NOT NULL, failed INTEGER NOT NULL, documents INTEGER NOT NULL)`

// IngestRun is one finished ingest of a root.
type IngestRun struct {
	FinishedAt time.Time `json:"finished_at"`
	Root       string    `json:"root"`
	Added      int       `json:"added"`
	Updated    int       `json:"updated"`
	Deleted    int       `json:"deleted"`
	Unchanged  int       `json:"unchanged"`
	Failed     int       `json:"failed"`
	Documents  int       `json:"documents"` // in the store afterwards
}

// RecordIngest appends a finished ingest to the history.
func (s *Store) RecordIngest(ctx context.Context, r IngestRun) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, ingestRunsTable); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ingest_runs(finished_at, root, added, updated, deleted, unchanged, failed, documents)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.FinishedAt.UnixMilli(), r.Root, r.Added, r.Updated, r.Deleted, r.Unchanged, r.Failed, r.Documents)
		if err != nil {
			return fmt.Errorf("recording the ingest: %w", err)
		}
		return nil
	})
}

// IngestRuns returns the history, oldest first.
func (s *Store) IngestRuns(ctx context.Context) ([]IngestRun, error) {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "ingest_runs"); err != nil || !ok {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT finished_at, root, added, updated, deleted, unchanged, failed, documents FROM ingest_runs ORDER BY finished_at, id`)
	if err != nil {
		return nil, fmt.Errorf("reading the ingest history: %w", err)
	}
	defer rows.Close()
	var out []IngestRun
	for rows.Next() {
		var r IngestRun
		var ms int64
		if err := rows.Scan(&ms, &r.Root, &r.Added, &r.Updated, &r.Deleted, &r.Unchanged, &r.Failed, &r.Documents); err != nil {
			return nil, err
		}
		r.FinishedAt = time.UnixMilli(ms)
		out = append(out, r)
	}
	return out, rows.Err()
}
