package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// EvalRun is a stored evaluation run. Config, Metrics and PerQuery are
// JSON documents owned by the evaluate package.
type EvalRun struct {
	ID         string
	CreatedAt  string
	Kind       string // retrieval | qa
	Dataset    string
	CorpusHash string
	Config     string
	Metrics    string
	PerQuery   string
	RunFile    string
}

// The table is created on first save, not at Open, so that read-only
// commands never take the write lock.
const evalRunsTable = `CREATE TABLE IF NOT EXISTS eval_runs (
	id TEXT PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL, dataset TEXT NOT NULL,
	corpus_hash TEXT NOT NULL, config TEXT NOT NULL, metrics TEXT NOT NULL, per_query TEXT NOT NULL,
	run_file TEXT NOT NULL)`

// SaveEvalRun records a run.
func (s *Store) SaveEvalRun(ctx context.Context, r EvalRun) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, evalRunsTable); err != nil {
			return fmt.Errorf("creating eval_runs: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO eval_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.CreatedAt, r.Kind, r.Dataset, r.CorpusHash, r.Config, r.Metrics, r.PerQuery, r.RunFile)
		if err != nil {
			return fmt.Errorf("saving eval run %s: %w", r.ID, err)
		}
		return nil
	})
}

func (s *Store) hasEvalRuns(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'eval_runs'`).Scan(&n)
	return n > 0, err
}

// EvalRuns lists runs, newest first, without per-query data.
func (s *Store) EvalRuns(ctx context.Context, limit int) ([]EvalRun, error) {
	if ok, err := s.hasEvalRuns(ctx); err != nil || !ok {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, kind, dataset, corpus_hash, config, metrics, run_file
		FROM eval_runs ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing eval runs: %w", err)
	}
	defer rows.Close()
	var out []EvalRun
	for rows.Next() {
		var r EvalRun
		if err := rows.Scan(&r.ID, &r.CreatedAt, &r.Kind, &r.Dataset, &r.CorpusHash, &r.Config, &r.Metrics, &r.RunFile); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ErrNoRun means no eval run has the requested ID.
var ErrNoRun = errors.New("no such eval run")

// ErrAmbiguousRun means a run ID prefix matches several runs.
var ErrAmbiguousRun = errors.New("ambiguous eval run prefix")

// EvalRun loads one run with its per-query data. A unique prefix of the
// ID is enough.
func (s *Store) EvalRun(ctx context.Context, id string) (EvalRun, error) {
	var r EvalRun
	if ok, err := s.hasEvalRuns(ctx); err != nil || !ok {
		return r, fmt.Errorf("%w %q (no runs stored yet)", ErrNoRun, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, kind, dataset, corpus_hash, config, metrics, per_query, run_file
		FROM eval_runs WHERE id LIKE ? ESCAPE '\' LIMIT 2`, sqlitedb.LikePrefix(id))
	if err != nil {
		return r, fmt.Errorf("loading eval run: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if err := rows.Scan(&r.ID, &r.CreatedAt, &r.Kind, &r.Dataset, &r.CorpusHash, &r.Config, &r.Metrics, &r.PerQuery, &r.RunFile); err != nil {
			return r, err
		}
	}
	switch n {
	case 0:
		return r, fmt.Errorf("%w %q", ErrNoRun, id)
	case 2:
		return r, fmt.Errorf("%w: %q matches more than one run; give more of the ID", ErrAmbiguousRun, id)
	}
	return r, rows.Err()
}
