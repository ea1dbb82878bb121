package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sync"

	"github.com/ragtune/ragtune/internal/bm25"
)

// ftsTokens tokenises text exactly as the store's full-text index does,
// by running the same FTS5 tokenizer in a private in-memory database:
// query words become the index's terms, and changed chunks become
// postings, without a second implementation of Porter stemming and
// Unicode folding that could disagree with SQLite's.
type ftsTokens struct {
	mu    sync.Mutex
	db    *sql.DB
	words map[string]string // query word → its one term ("" if not one)
}

// maxCachedWords bounds the query-word cache; it starts over when full.
const maxCachedWords = 100_000

var tokenizeOption = regexp.MustCompile(`tokenize\s*=\s*'([^']*)'`)

// newFTSTokens makes the tokenizer of the store's chunks_fts table.
func newFTSTokens(ctx context.Context, store *sql.DB) (*ftsTokens, error) {
	var ddl string
	if err := store.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'`).Scan(&ddl); err != nil {
		return nil, fmt.Errorf("reading the full-text index's definition: %w", err)
	}
	tok := "unicode61"
	if m := tokenizeOption.FindStringSubmatch(ddl); m != nil {
		tok = m[1]
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("opening the tokenizer: %w", err)
	}
	db.SetMaxOpenConns(1) // one connection: the tables live in it
	for _, stmt := range []string{
		`CREATE VIRTUAL TABLE d USING fts5(title, text, tokenize='` + tok + `')`,
		`CREATE VIRTUAL TABLE dv USING fts5vocab(d, instance)`,
		`CREATE VIRTUAL TABLE q USING fts5(w, tokenize='` + tok + `')`,
		`CREATE VIRTUAL TABLE qv USING fts5vocab(q, instance)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("setting up the tokenizer: %w", err)
		}
	}
	return &ftsTokens{db: db, words: map[string]string{}}, nil
}

func (t *ftsTokens) Close() error { return t.db.Close() }

// terms maps each query word to the one term FTS5 makes of it; ok is
// false when a word makes none or several (a phrase the index would
// match by position, which bm25.Index does not hold).
func (t *ftsTokens) terms(ctx context.Context, words []string) ([]string, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var missing []string
	for _, w := range words {
		if _, ok := t.words[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		if err := t.learn(ctx, missing); err != nil {
			return nil, false, err
		}
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = t.words[w]
		if out[i] == "" {
			return nil, false, nil
		}
	}
	return out, true, nil
}

// learn tokenises words, one row each, and caches their terms.
func (t *ftsTokens) learn(ctx context.Context, words []string) error {
	if len(t.words)+len(words) > maxCachedWords {
		clear(t.words)
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tokenizing the query: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO q(rowid, w) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("tokenizing the query: %w", err)
	}
	defer ins.Close()
	for i, w := range words {
		if _, err := ins.ExecContext(ctx, i+1, w); err != nil {
			return fmt.Errorf("tokenizing the query: %w", err)
		}
	}
	found := make([][]string, len(words))
	err = eachRow(ctx, tx, `SELECT doc, term FROM qv ORDER BY doc, "offset"`, func(doc int64, term string) {
		if doc >= 1 && int(doc) <= len(words) {
			found[doc-1] = append(found[doc-1], term)
		}
	})
	if err != nil {
		return fmt.Errorf("tokenizing the query: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM q`); err != nil {
		return fmt.Errorf("tokenizing the query: %w", err)
	}
	for i, w := range words {
		t.words[w] = ""
		if len(found[i]) == 1 {
			t.words[w] = found[i][0]
		}
	}
	return tx.Commit()
}

// chunkText is a chunk's indexed columns.
type chunkText struct {
	rowid       int64
	title, text string
}

// index builds a bm25.Index of chunks as FTS5 would index them.
func (t *ftsTokens) index(ctx context.Context, chunks []chunkText) (*bm25.Index, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("indexing changed chunks: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO d(rowid, title, text) VALUES (?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("indexing changed chunks: %w", err)
	}
	defer ins.Close()
	for _, c := range chunks {
		if _, err := ins.ExecContext(ctx, c.rowid, c.title, c.text); err != nil {
			return nil, fmt.Errorf("indexing changed chunks: %w", err)
		}
	}
	x, err := readFTS(ctx, tx, "d_docsize", "dv")
	if err != nil {
		return nil, fmt.Errorf("indexing changed chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM d`); err != nil {
		return nil, fmt.Errorf("indexing changed chunks: %w", err)
	}
	return x, tx.Commit()
}

// querier is what readFTS reads through: a transaction or connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readFTS builds a bm25.Index from an FTS5 table's document sizes and
// its fts5vocab instance table (one row per token occurrence).
func readFTS(ctx context.Context, q querier, docsize, vocab string) (*bm25.Index, error) {
	b := bm25.NewBuilder()
	rows, err := q.QueryContext(ctx, `SELECT id, sz FROM `+docsize)
	if err != nil {
		return nil, fmt.Errorf("reading document lengths: %w", err)
	}
	for rows.Next() {
		var id int64
		var sz []byte
		if err := rows.Scan(&id, &sz); err != nil {
			rows.Close()
			return nil, err
		}
		n, ok := sumVarints(sz)
		if !ok || id < 0 || id > maxDoc {
			rows.Close()
			return nil, fmt.Errorf("chunk %d's length record does not fit the keyword index", id)
		}
		b.Doc(uint32(id), n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading document lengths: %w", err)
	}
	if err := eachTerm(ctx, q, vocab, b.Add); err != nil {
		return nil, fmt.Errorf("reading the full-text index: %w", err)
	}
	return b.Build()
}

// eachTerm reads a vocab instance table a term at a time: SQLite lists
// the term's occurrences' rowids in one row (fts5vocab returns them in
// term, then rowid order, so no sort is needed), which costs a few rows
// where one row per occurrence cost database/sql a call per token.
func eachTerm(ctx context.Context, q querier, vocab string, add func(term string, doc, n uint32)) error {
	rows, err := q.QueryContext(ctx, `SELECT term, group_concat(doc, ' ') FROM `+vocab+` GROUP BY term`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var term string
		var docs sql.RawBytes
		if err := rows.Scan(&term, &docs); err != nil {
			return err
		}
		if err := addOccurrences(term, docs, add); err != nil {
			return err
		}
	}
	return rows.Err()
}

// addOccurrences adds a space-separated list of rowids, one per
// occurrence, as postings with their counts.
func addOccurrences(term string, list []byte, add func(term string, doc, n uint32)) error {
	var doc, n uint64
	flush := func() { add(term, uint32(doc), uint32(n)) }
	var cur uint64
	digits := 0
	for i := 0; i <= len(list); i++ {
		if i < len(list) && list[i] >= '0' && list[i] <= '9' {
			cur = cur*10 + uint64(list[i]-'0')
			digits++
			if cur > maxDoc {
				return fmt.Errorf("rowid past %d in the full-text index", uint64(maxDoc))
			}
			continue
		}
		if i < len(list) && list[i] != ' ' || digits == 0 {
			return fmt.Errorf("unexpected vocabulary list for term %q", term)
		}
		switch {
		case n > 0 && cur == doc:
			n++
		default:
			if n > 0 {
				flush()
			}
			doc, n = cur, 1
		}
		cur, digits = 0, 0
	}
	if n > 0 {
		flush()
	}
	return nil
}

// maxDoc is the largest rowid the keyword index can hold.
const maxDoc = 1<<32 - 2

// eachRow runs a (doc, term) query, reusing the term string while
// consecutive rows share it (vocab tables come ordered by term).
func eachRow(ctx context.Context, q querier, query string, each func(doc int64, term string)) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	var term string
	for rows.Next() {
		var doc int64
		var raw sql.RawBytes
		if err := rows.Scan(&doc, &raw); err != nil {
			return err
		}
		if string(raw) != term {
			term = string(raw)
		}
		if doc < 0 || doc > maxDoc {
			return fmt.Errorf("rowid %d does not fit the keyword index", doc)
		}
		each(doc, term)
	}
	return rows.Err()
}

// sumVarints adds up an FTS5 size record: a SQLite varint per column.
func sumVarints(b []byte) (uint32, bool) {
	var total uint64
	for len(b) > 0 {
		var v uint64
		i := 0
		for ; i < len(b) && i < 9; i++ {
			if i == 8 {
				v = v<<8 | uint64(b[i])
				break
			}
			v = v<<7 | uint64(b[i]&0x7f)
			if b[i]&0x80 == 0 {
				break
			}
		}
		if i == len(b) {
			return 0, false
		}
		b = b[i+1:]
		total += v
	}
	return uint32(total), total <= 1<<32-1
}
