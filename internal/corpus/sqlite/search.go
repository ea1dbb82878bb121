package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// SearchLexical ranks chunks by BM25 (k1=1.2, b=0.75, as FTS5 computes
// it). Scores are positive, higher is better; ties break on rowid (the
// order chunks were written).
func (s *Corpus) SearchLexical(ctx context.Context, q corpus.LexicalQuery) ([]corpus.Hit, error) {
	if q.Match == "" || q.K <= 0 {
		return nil, nil
	}
	boost := q.TitleBoost
	if boost == 0 {
		boost = 1
	}
	var rows *sql.Rows
	var err error
	if q.PathPrefix == "" && len(q.Tags) == 0 {
		// Unfiltered: rank the index alone and read back only the k
		// chunks that made it, instead of carrying every match's text
		// through the sort. Ties break on rowid here (chunk ID below):
		// both are fixed per chunk.
		rows, err = s.db.QueryContext(ctx, `
			WITH top AS (
				SELECT rowid AS r, -bm25(chunks_fts, ?, 1.0) AS score FROM chunks_fts
				WHERE chunks_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?)
			SELECT c.rowid, c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end, c.line_start, c.line_end, c.tokens,
			       d.path, d.title, top.score
			FROM top JOIN chunks c ON c.rowid = top.r JOIN documents d ON d.id = c.doc_id
			ORDER BY top.score DESC, c.rowid`, boost, q.Match, q.K)
	} else {
		tagSQL, tagArgs := tagFilter(q.Tags)
		args := append(append([]any{boost, q.Match, sqlitedb.LikePrefix(q.PathPrefix)}, tagArgs...), q.K)
		rows, err = s.db.QueryContext(ctx, `
			SELECT c.rowid, c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end, c.line_start, c.line_end, c.tokens,
			       d.path, d.title, -bm25(chunks_fts, ?, 1.0) AS score
			FROM chunks_fts
			JOIN chunks c ON c.rowid = chunks_fts.rowid
			JOIN documents d ON d.id = c.doc_id
			WHERE chunks_fts MATCH ? AND d.path LIKE ? ESCAPE '\'`+tagSQL+`
			ORDER BY score DESC, c.rowid
			LIMIT ?`, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("searching: %w", err)
	}
	defer rows.Close()
	var hits []corpus.Hit
	for rows.Next() {
		var h corpus.Hit
		if err := rows.Scan(&h.Rowid, &h.ID, &h.Ord, &h.Title, &h.Heading, &h.Text, &h.Start, &h.End, &h.LineStart, &h.LineEnd, &h.Tokens,
			&h.DocPath, &h.DocTitle, &h.Score); err != nil {
			return nil, fmt.Errorf("reading search results: %w", err)
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// PlainLexicalTopK runs FTS5's own bm25() ORDER BY … LIMIT k on the
// index and reads the rowids only: the yardstick for SearchLexical.
func (s *Corpus) PlainLexicalTopK(ctx context.Context, match string, k int) error {
	rows, err := s.db.QueryContext(ctx, `SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?`, match, k)
	if err != nil {
		return fmt.Errorf("searching: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// TermStats returns the number of chunks and, for each term, how many
// chunks contain it (after the index's own stemming). The answerer uses
// these as IDF weights.
func (s *Corpus) TermStats(ctx context.Context, terms []string) (int, map[string]int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM chunks`).Scan(&n); err != nil {
		return 0, nil, fmt.Errorf("counting chunks: %w", err)
	}
	df := make(map[string]int, len(terms))
	for _, t := range terms {
		var c int
		q := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?`, q).Scan(&c); err != nil {
			return 0, nil, fmt.Errorf("counting term %q: %w", t, err)
		}
		df[t] = c
	}
	return n, df, nil
}
