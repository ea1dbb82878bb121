package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// Fine-tuning jobs are kept in the store so their status survives a
// restart; the record is the job's JSON, owned by package finetune.

const jobsTable = `CREATE TABLE IF NOT EXISTS finetune_jobs (
	id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, record TEXT NOT NULL)`

// ErrNoJob means no stored job has that ID.
var ErrNoJob = errors.New("no such fine-tuning job")

// SaveJob inserts or updates a job record.
func (s *Store) SaveJob(ctx context.Context, id string, createdAt int64, record any) error {
	b, err := json.Marshal(record)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, jobsTable); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO finetune_jobs(id, created_at, record) VALUES (?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET record = excluded.record`, id, createdAt, string(b))
		if err != nil {
			return fmt.Errorf("saving job %s: %w", id, err)
		}
		return nil
	})
}

// Job loads a job record into v.
func (s *Store) Job(ctx context.Context, id string, v any) error {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "finetune_jobs"); err != nil || !ok {
		return fmt.Errorf("%w %q", ErrNoJob, id)
	}
	var rec string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM finetune_jobs WHERE id = ?`, id).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w %q", ErrNoJob, id)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(rec), v)
}

// Jobs returns the raw records, newest first.
func (s *Store) Jobs(ctx context.Context) ([]json.RawMessage, error) {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "finetune_jobs"); err != nil || !ok {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT record FROM finetune_jobs ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(rec))
	}
	return out, rows.Err()
}
