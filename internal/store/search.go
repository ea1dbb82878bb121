package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Hit is one search result.
type Hit struct {
	Chunk
	DocPath  string  `json:"doc"`
	DocTitle string  `json:"doc_title"`
	Score    float64 `json:"score"`
}

// LexicalQuery is a BM25 search.
type LexicalQuery struct {
	Match      string // an FTS5 MATCH expression (see lexical.MatchQuery)
	Text       string // the query as typed, for engines with their own query syntax
	K          int
	PathPrefix string   // only documents under this path
	Tags       []string // only documents with every one of these tags
	TitleBoost float64  // BM25 weight of the title/heading column; 1 if zero
}

// SearchLexical ranks chunks by BM25 (k1=1.2, b=0.75, as FTS5 computes
// it). Scores are positive, higher is better; ties break on chunk ID.
func (s *Store) SearchLexical(ctx context.Context, q LexicalQuery) ([]Hit, error) {
	if s.remote != nil {
		return s.remote.SearchLexical(ctx, q)
	}
	if q.Match == "" || q.K <= 0 {
		return nil, nil
	}
	boost := q.TitleBoost
	if boost == 0 {
		boost = 1
	}
	tagSQL, tagArgs := tagFilter(q.Tags)
	args := append(append([]any{boost, q.Match, likePrefix(q.PathPrefix)}, tagArgs...), q.K)
	rows, err := s.db.QueryContext(ctx, `
		SELECT c.rowid, c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end, c.line_start, c.line_end, c.tokens,
		       d.path, d.title, -bm25(chunks_fts, ?, 1.0) AS score
		FROM chunks_fts
		JOIN chunks c ON c.rowid = chunks_fts.rowid
		JOIN documents d ON d.id = c.doc_id
		WHERE chunks_fts MATCH ? AND d.path LIKE ? ESCAPE '\'`+tagSQL+`
		ORDER BY score DESC, c.id
		LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("searching: %w", err)
	}
	defer rows.Close()
	var hits []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.Rowid, &h.ID, &h.Ord, &h.Title, &h.Heading, &h.Text, &h.Start, &h.End, &h.LineStart, &h.LineEnd, &h.Tokens,
			&h.DocPath, &h.DocTitle, &h.Score); err != nil {
			return nil, fmt.Errorf("reading search results: %w", err)
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// TermStats returns the number of chunks and, for each term, how many
// chunks contain it (after the index's own stemming). The answerer uses
// these as IDF weights.
func (s *Store) TermStats(ctx context.Context, terms []string) (int, map[string]int, error) {
	if s.remote != nil {
		return s.remote.TermStats(ctx, terms)
	}
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

func statFile(dir, name string) (int64, error) {
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
