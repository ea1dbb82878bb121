package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/ragtune/ragtune/internal/bm25"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// Keyword search ranks with FTS5's own bm25() when nothing better is at
// hand, which scores every chunk that matches any query word. The
// keyword index (bm25.Index) ranks the same way, to the bit, but skips
// chunks that cannot reach the top k. It is derived data, like the HNSW
// graph:
//
//   - the SQLite file stays the truth: the index is built from the FTS5
//     table's own tokens (fts5vocab), so both always agree;
//   - a file beside the store (keywordFile) holds it as of a generation
//     (the counter every write bumps), written whole and renamed into
//     place, so a reader finds the old file or the new one;
//   - triggers note every chunk inserted or deleted since that file in
//     chunks_changed, in the same transaction as the change; a reader
//     applies those changes to the file's index in memory (bm25.Merge),
//     so a search is never stale, even after a crash mid-ingest;
//   - RefreshIndex (after each ingest) writes the merged index as the new
//     file and empties chunks_changed, only if nothing was written since.
//
// Without the file (a store made before it, or a read-only copy never
// refreshed) searches use FTS5 as before.

const keywordFile = "keywords.bm25"

// changeLog is the schema that notes changed chunks for the index.
var changeLog = []string{
	`CREATE TABLE IF NOT EXISTS chunks_changed (rowid INTEGER PRIMARY KEY)`,
	`CREATE TRIGGER IF NOT EXISTS chunks_changed_ai AFTER INSERT ON chunks BEGIN
		INSERT OR IGNORE INTO chunks_changed(rowid) VALUES (new.rowid); END`,
	`CREATE TRIGGER IF NOT EXISTS chunks_changed_ad AFTER DELETE ON chunks BEGIN
		INSERT OR IGNORE INTO chunks_changed(rowid) VALUES (old.rowid); END`,
}

// errKeywordMismatch means the index file with the logged changes does
// not add up to the store (a file from another copy of the store, or a
// change the log lost): FTS5 ranks until a refresh rebuilds it.
var errKeywordMismatch = errors.New("the keyword index does not match the store")

// keywordIndex is the index of one generation.
type keywordIndex struct {
	gen string
	idx *bm25.Index
}

type keywordCache struct {
	// build is held while an index is made (catchUp) and guards base;
	// mu guards cur, and is only ever held for a moment.
	build sync.Mutex
	mu    sync.Mutex
	cur   *keywordIndex
	// tok is the store's tokenizer, made once on first use.
	tokOnce sync.Once
	tok     *ftsTokens
	tokErr  error
	// base is the file's index as last read, kept so that a new
	// generation merges its changes without reading the file again.
	base *keywordIndex
}

// stampOf names the generation an index file holds.
func stampOf(gen string) string { return "generation " + gen }

// keywords returns the index of the store's current generation, or nil
// when there is no index file to start from (FTS5 ranks then).
func (s *Corpus) keywords(ctx context.Context) (*keywordIndex, error) {
	gen, err := s.generation(ctx)
	if err != nil {
		return nil, err
	}
	if cur := s.currentKeywords(); cur != nil && cur.gen == gen {
		return cur, nil
	}
	// Another search or a refresh is making the index: FTS5 ranks this
	// one rather than wait for it.
	if !s.kw.build.TryLock() {
		return nil, nil
	}
	defer s.kw.build.Unlock()
	if cur := s.currentKeywords(); cur != nil && cur.gen == gen {
		return cur, nil
	}
	cur, err := s.catchUp(ctx, false)
	if err != nil || cur == nil {
		return nil, err
	}
	s.setKeywords(cur)
	return cur, nil
}

func (s *Corpus) currentKeywords() *keywordIndex {
	s.kw.mu.Lock()
	defer s.kw.mu.Unlock()
	return s.kw.cur
}

func (s *Corpus) setKeywords(kw *keywordIndex) {
	s.kw.mu.Lock()
	defer s.kw.mu.Unlock()
	s.kw.cur = kw
}

// catchUp builds the current generation's index in one read snapshot:
// the change log, the file (read after the log, see below) and the
// changed chunks. Without a usable file it returns nil, or, when full
// is set, builds the whole index from the FTS5 table. Holds kw.build.
//
// Why the file is read after the log: RefreshIndex renames the new file
// into place before it empties the log, so a log read first lists at
// least every change since whichever file is then found, unless that
// file is newer than the snapshot, which is detected.
func (s *Corpus) catchUp(ctx context.Context, full bool) (*keywordIndex, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the keyword index: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return nil, fmt.Errorf("reading the keyword index: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `COMMIT`)
	gen, err := sqlitedb.Meta(ctx, conn, "vector_generation")
	if err != nil {
		return nil, err
	}
	changed, logged, err := s.changedChunks(ctx, conn)
	if err != nil {
		return nil, err
	}
	base := s.keywordBase(gen)
	if base != nil && (logged || base.gen == gen) && len(changed) <= maxMerged(base.idx.Docs(), full) {
		kw, err := s.applyChanges(ctx, conn, base, gen, changed)
		if !errors.Is(err, errKeywordMismatch) || !full {
			return kw, err
		}
	}
	switch {
	case full:
		if _, err := conn.ExecContext(ctx, `CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, chunks_fts, instance)`); err != nil {
			return nil, fmt.Errorf("reading the full-text index: %w", err)
		}
		idx, err := readFTS(ctx, conn, "chunks_fts_docsize", "temp.chunks_vocab")
		if err != nil {
			return nil, err
		}
		return &keywordIndex{gen: gen, idx: idx}, nil
	}
	return nil, nil
}

// maxMerged is how many changed chunks are merged into an index file of
// n chunks. Merging re-tokenises each changed chunk (about what FTS5
// spent writing it) and copies the postings; past a quarter of the
// index, a refresh builds it whole from the FTS5 table instead, which
// costs less. A search merges at most a twentieth (searches wait while
// it runs); finding more changes, it ranks with FTS5 until the ingest
// making them refreshes the index.
func maxMerged(n int, refresh bool) int {
	if refresh {
		return max(1000, n/4)
	}
	return max(1000, n/20)
}

// keywordBase is the index file's content if it holds a generation no
// newer than gen; kept in memory between calls. Holds kw.build.
func (s *Corpus) keywordBase(gen string) *keywordIndex {
	path := filepath.Join(s.dir, keywordFile)
	stamp := ""
	if b := s.kw.base; b != nil {
		stamp = stampOf(b.gen)
	}
	if fileStamp, err := bm25.ReadStamp(path); err != nil || fileStamp != stamp {
		// Not there, damaged (the next refresh rebuilds it) or another
		// generation's: read it whole.
		s.kw.base = nil
		idx, st, err := bm25.ReadFile(path)
		if err != nil {
			return nil
		}
		s.kw.base = &keywordIndex{gen: strings.TrimPrefix(st, "generation "), idx: idx}
	}
	if b := s.kw.base; b != nil && genNumber(b.gen) <= genNumber(gen) {
		return b
	}
	return nil
}

// applyChanges merges the changed chunks into base: every changed rowid
// leaves it, and those still stored come back with their current text.
func (s *Corpus) applyChanges(ctx context.Context, conn *sql.Conn, base *keywordIndex, gen string, changed []uint32) (*keywordIndex, error) {
	if base.gen == gen && len(changed) == 0 {
		return base, nil
	}
	texts, err := chunkTexts(ctx, conn, changed)
	if err != nil {
		return nil, err
	}
	tok, err := s.tokens(ctx)
	if err != nil {
		return nil, err
	}
	add, err := tok.index(ctx, texts)
	if err != nil {
		return nil, err
	}
	idx, err := bm25.Merge(base.idx, add, changed)
	if err != nil {
		return nil, fmt.Errorf("updating the keyword index: %w", err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM chunks_fts_docsize`).Scan(&n); err != nil {
		return nil, fmt.Errorf("checking the keyword index: %w", err)
	}
	if n != idx.Docs() {
		return nil, fmt.Errorf("%w: %d chunks, the full-text index %d", errKeywordMismatch, idx.Docs(), n)
	}
	return &keywordIndex{gen: gen, idx: idx}, nil
}

// changedChunks reads the change log; logged is false for a store
// without one (made before it, and read-only since).
func (s *Corpus) changedChunks(ctx context.Context, conn *sql.Conn) ([]uint32, bool, error) {
	if ok, err := sqlitedb.HasTable(ctx, conn, "chunks_changed"); err != nil || !ok {
		return nil, false, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT rowid FROM chunks_changed ORDER BY rowid`)
	if err != nil {
		return nil, false, fmt.Errorf("reading changed chunks: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, err
		}
		if id < 0 || id > maxDoc {
			return nil, false, nil
		}
		out = append(out, uint32(id))
	}
	return out, true, rows.Err()
}

// chunkTexts reads the indexed columns of those of rowids still stored.
func chunkTexts(ctx context.Context, conn *sql.Conn, rowids []uint32) ([]chunkText, error) {
	var out []chunkText
	stmt, err := conn.PrepareContext(ctx, `SELECT title, text FROM chunks WHERE rowid = ?`)
	if err != nil {
		return nil, fmt.Errorf("reading changed chunks: %w", err)
	}
	defer stmt.Close()
	for _, id := range rowids {
		c := chunkText{rowid: int64(id)}
		switch err := stmt.QueryRowContext(ctx, id).Scan(&c.title, &c.text); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("reading changed chunk %d: %w", id, err)
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// tokens is the store's FTS5 tokenizer, made on first use.
func (s *Corpus) tokens(ctx context.Context) (*ftsTokens, error) {
	s.kw.tokOnce.Do(func() { s.kw.tok, s.kw.tokErr = newFTSTokens(context.WithoutCancel(ctx), s.db) })
	return s.kw.tok, s.kw.tokErr
}

// generation is the store's write counter.
func (s *Corpus) generation(ctx context.Context) (string, error) {
	return sqlitedb.Meta(ctx, s.db, "vector_generation")
}

// genNumber reads a generation; a store never written is at 0.
func genNumber(gen string) int64 {
	n, _ := strconv.ParseInt(gen, 10, 64)
	return n
}

// refreshKeywords writes the current generation's index file (building
// it whole when there is none) and empties the change log, unless
// something was written meanwhile. A store that may not be written keeps
// the index in memory.
func (s *Corpus) refreshKeywords(ctx context.Context) error {
	s.kw.build.Lock()
	defer s.kw.build.Unlock()
	cur, err := s.catchUp(ctx, true)
	if err != nil || cur == nil {
		return err
	}
	s.setKeywords(cur)
	if s.readOnly {
		return nil
	}
	if s.kw.base == cur {
		return nil // the file is current
	}
	if err := cur.idx.WriteFile(filepath.Join(s.dir, keywordFile), stampOf(cur.gen), storePerm(s.dir)); err != nil {
		return err
	}
	s.kw.base = cur
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		gen, err := sqlitedb.Meta(ctx, tx, "vector_generation")
		if err != nil || gen != cur.gen {
			return err // written since: the log stays, a superset is harmless
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chunks_changed`); err != nil { // writable stores have it (addChangeLog)
			return fmt.Errorf("emptying the change log: %w", err)
		}
		return nil
	})
}

// verifyKeywords checks the keyword index (its file with the changes
// logged since) against the full-text index: the same number of chunks
// and, for every term, the same number of chunks holding it. A store
// written during the check is not judged.
func (s *Corpus) verifyKeywords(ctx context.Context) ([]string, error) {
	kw, err := s.keywords(ctx)
	if errors.Is(err, errKeywordMismatch) {
		return []string{err.Error()}, nil
	}
	if err != nil || kw == nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the keyword index: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab_row USING fts5vocab(main, chunks_fts, row)`); err != nil {
		return nil, fmt.Errorf("checking the keyword index: %w", err)
	}
	var problems []string
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM chunks_fts_docsize`).Scan(&n); err != nil {
		return []string{"keyword index: could not be compared with the full-text index: " + err.Error()}, nil
	}
	if n != kw.idx.Docs() {
		problems = append(problems, fmt.Sprintf("keyword index: %d chunks, full-text index %d", kw.idx.Docs(), n))
	}
	terms, wrong, example := 0, 0, ""
	err = eachRow(ctx, conn, `SELECT doc, term FROM temp.chunks_vocab_row`, func(df int64, term string) {
		terms++
		if kw.idx.DocFreq(term) != int(df) {
			wrong++
			example = fmt.Sprintf("%q in %d chunks, full-text index %d", term, kw.idx.DocFreq(term), df)
		}
	})
	if err != nil {
		return []string{"keyword index: could not be compared with the full-text index: " + err.Error()}, nil
	}
	if terms != kw.idx.Terms() {
		problems = append(problems, fmt.Sprintf("keyword index: %d terms, full-text index %d", kw.idx.Terms(), terms))
	}
	if wrong > 0 {
		problems = append(problems, fmt.Sprintf("keyword index: %d terms counted differently, e.g. %s", wrong, example))
	}
	if gen, err := s.generation(ctx); err != nil || gen != kw.gen {
		return nil, err // written meanwhile: no verdict
	}
	return problems, nil
}
