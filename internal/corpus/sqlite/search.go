package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/bm25"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
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
	if hits, ok, err := s.searchKeywords(ctx, q); ok || err != nil {
		return hits, err
	}
	return s.searchFTS(ctx, q, boost)
}

// searchFTS ranks with FTS5's bm25(), scoring every match.
func (s *Corpus) searchFTS(ctx context.Context, q corpus.LexicalQuery, boost float64) ([]corpus.Hit, error) {
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
			SELECT `+hitColumns+`, top.score
			FROM top JOIN chunks c ON c.rowid = top.r JOIN documents d ON d.id = c.doc_id
			ORDER BY top.score DESC, c.rowid`, boost, q.Match, q.K)
	} else {
		tagSQL, tagArgs := tagFilter(q.Tags)
		args := append(append([]any{boost, q.Match, sqlitedb.LikePrefix(q.PathPrefix)}, tagArgs...), q.K)
		rows, err = s.db.QueryContext(ctx, `
			SELECT `+hitColumns+`, -bm25(chunks_fts, ?, 1.0) AS score
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
		if err := rows.Scan(append(hitFields(&h), &h.Score)...); err != nil {
			return nil, fmt.Errorf("reading search results: %w", err)
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// searchKeywords ranks with the keyword index when it can answer q
// exactly as FTS5 would: title weight 1, a MATCH expression
// of single-word phrases ORed (what lexical.MatchWeighted writes), and
// an index file to start from. ok is false when it cannot.
func (s *Corpus) searchKeywords(ctx context.Context, q corpus.LexicalQuery) ([]corpus.Hit, bool, error) {
	if q.TitleBoost != 0 && q.TitleBoost != 1 {
		return nil, false, nil
	}
	words, ok := lexical.ParseMatch(q.Match)
	if !ok {
		return nil, false, nil
	}
	kw, err := s.keywords(ctx)
	if errors.Is(err, errKeywordMismatch) {
		return nil, false, nil // FTS5 ranks; status --verify says why
	}
	if err != nil || kw == nil {
		return nil, false, err
	}
	tok, err := s.tokens(ctx)
	if err != nil {
		return nil, false, err
	}
	terms, ok, err := tok.terms(ctx, words)
	if err != nil || !ok {
		return nil, false, err
	}
	bq := bm25.Query{Phrases: terms, K: q.K}
	if q.PathPrefix != "" || len(q.Tags) > 0 {
		allowed, err := s.chunksUnder(ctx, q.PathPrefix, q.Tags)
		if err != nil {
			return nil, false, err
		}
		bq.Allow = allowed.has
	}
	top, err := kw.idx.TopK(ctx, bq)
	if err != nil {
		return nil, true, err
	}
	chosen := make([]ranked, len(top))
	for i, h := range top {
		chosen[i] = ranked{int64(h.Doc), h.Score}
	}
	hits, err := s.hitsByRowid(ctx, chosen)
	return hits, true, err
}

// chunksUnder is the set of chunks of documents under prefix with every
// one of tags: the filter FTS5's search applies, as the same SQL.
func (s *Corpus) chunksUnder(ctx context.Context, prefix string, tags []string) (rowidSet, error) {
	tagSQL, tagArgs := tagFilter(tags)
	rows, err := s.db.QueryContext(ctx, `SELECT c.rowid FROM documents d JOIN chunks c ON c.doc_id = d.id
		WHERE d.path LIKE ? ESCAPE '\'`+tagSQL, append([]any{sqlitedb.LikePrefix(prefix)}, tagArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("filtering the search: %w", err)
	}
	defer rows.Close()
	set := rowidSet{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("filtering the search: %w", err)
		}
		set[uint32(id)] = struct{}{}
	}
	return set, rows.Err()
}

// rowidSet is a set of chunk rowids.
type rowidSet map[uint32]struct{}

func (s rowidSet) has(id uint32) bool { _, ok := s[id]; return ok }

// hitColumns are a hit's columns, in the order hitFields scans them.
const hitColumns = `c.rowid, c.id, c.ord, c.title, c.heading, c.text, c.byte_start, c.byte_end,
	c.line_start, c.line_end, c.tokens, d.path, d.title`

// hitFields are where a row of hitColumns is scanned to.
func hitFields(h *corpus.Hit) []any {
	return []any{&h.Rowid, &h.ID, &h.Ord, &h.Title, &h.Heading, &h.Text, &h.Start, &h.End,
		&h.LineStart, &h.LineEnd, &h.Tokens, &h.DocPath, &h.DocTitle}
}

// ranked is a chunk a search chose, with its score.
type ranked struct {
	rowid int64
	score float64
}

// hitsByRowid reads the chunks of top in one query, in top's order, with
// its scores. A chunk deleted meanwhile is an error.
func (s *Corpus) hitsByRowid(ctx context.Context, top []ranked) ([]corpus.Hit, error) {
	if len(top) == 0 {
		return nil, nil
	}
	ids := make([]string, len(top))
	at := make(map[int64]int, len(top))
	for i, r := range top {
		ids[i] = strconv.FormatInt(r.rowid, 10)
		at[r.rowid] = i
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+hitColumns+`
		FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.rowid IN (`+strings.Join(ids, ",")+`)`)
	if err != nil {
		return nil, fmt.Errorf("reading search results: %w", err)
	}
	defer rows.Close()
	hits := make([]corpus.Hit, len(top))
	found := 0
	for rows.Next() {
		var h corpus.Hit
		if err := rows.Scan(hitFields(&h)...); err != nil {
			return nil, fmt.Errorf("reading search results: %w", err)
		}
		i := at[h.Rowid]
		h.Score = top[i].score
		hits[i] = h
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading search results: %w", err)
	}
	if found != len(top) {
		return nil, fmt.Errorf("reading search results: %d of %d chunks found", found, len(top))
	}
	return hits, nil
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
// these as IDF weights. The keyword index knows them without a query.
func (s *Corpus) TermStats(ctx context.Context, terms []string) (int, map[string]int, error) {
	if kw, err := s.keywords(ctx); err == nil && kw != nil {
		if tok, err := s.tokens(ctx); err == nil {
			if idxTerms, ok, err := tok.terms(ctx, terms); err == nil && ok {
				df := make(map[string]int, len(terms))
				for i, t := range terms {
					df[t] = kw.idx.DocFreq(idxTerms[i])
				}
				return kw.idx.Docs(), df, nil
			}
		}
	}
	return s.termStatsFTS(ctx, terms)
}

// termStatsFTS counts with FTS5, a pass over each term's postings: for
// phrases, and when the keyword index is not at hand.
func (s *Corpus) termStatsFTS(ctx context.Context, terms []string) (int, map[string]int, error) {
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
