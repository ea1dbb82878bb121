package sqlite

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/bm25"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
)

// sameAsFTS5 checks that the keyword index ranks every query exactly as
// FTS5's bm25() does: the same chunks in the same order, the same scores.
func sameAsFTS5(t testing.TB, s *Corpus, queries []string, k int) {
	t.Helper()
	sameAsFTS5Filtered(t, s, queries, corpus.LexicalQuery{K: k})
}

// sameAsFTS5Filtered is sameAsFTS5 with like's filter and k.
func sameAsFTS5Filtered(t testing.TB, s *Corpus, queries []string, like corpus.LexicalQuery) {
	t.Helper()
	used := 0
	for _, text := range queries {
		q := like
		q.Match = lexical.MatchQuery(text)
		if q.Match == "" {
			continue
		}
		want, err := s.searchFTS(t.Context(), q, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.searchKeywords(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		used++
		if len(got) != len(want) {
			t.Fatalf("%q: %d hits, FTS5 %d", text, len(got), len(want))
		}
		for i := range got {
			if got[i].Rowid != want[i].Rowid || got[i].Score != want[i].Score {
				t.Fatalf("%q hit %d: chunk %d score %v, FTS5 chunk %d score %v", text, i, got[i].Rowid, got[i].Score, want[i].Rowid, want[i].Score)
			}
		}
	}
	if used < len(queries)/2 {
		t.Fatalf("the keyword index answered %d of %d queries", used, len(queries))
	}
}

// words makes random text over a Zipf vocabulary of English-like words,
// so stemming and common words both matter.
func words(rng *rand.Rand, z *rand.Zipf, n int) string {
	stems := []string{"rotat", "key", "backup", "restor", "index", "search", "chunk", "embed", "answer", "cit"}
	ends := []string{"", "e", "es", "ed", "ing", "ion", "ions"}
	out := make([]string, n)
	for i := range out {
		v := z.Uint64()
		if v < uint64(len(stems))*uint64(len(ends)) {
			out[i] = stems[v%uint64(len(stems))] + ends[v/uint64(len(stems))]
		} else {
			out[i] = fmt.Sprintf("w%d", v)
		}
	}
	return strings.Join(out, " ")
}

func TestKeywordIndexRanksAsFTS5(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(rng, 1.05, 3, 3000)
	put := func(first, n int) {
		var docs []corpus.Document
		for i := first; i < first+n; i++ {
			var texts []string
			for range 1 + rng.IntN(3) {
				texts = append(texts, words(rng, z, rng.IntN(80)))
			}
			d := doc(fmt.Sprintf("d%04d.md", i), texts...)
			if i%2 == 0 {
				d.Tags = []string{"even"}
			}
			docs = append(docs, d)
		}
		if err := s.Upsert(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 600)
	var queries []string
	for range 200 {
		queries = append(queries, words(rng, z, 1+rng.IntN(15)))
	}
	if kw, err := s.keywords(ctx); err != nil || kw != nil {
		t.Fatalf("an index before any refresh: %v, %v", kw, err)
	}
	if _, err := s.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	sameAsFTS5(t, s, queries, 10)
	sameAsFTS5(t, s, queries, 100)
	words := lexical.Words(strings.Join(queries, " "))
	n, df, err := s.TermStats(ctx, words)
	nFTS, dfFTS, errFTS := s.termStatsFTS(ctx, words)
	if err != nil || errFTS != nil || n != nFTS || fmt.Sprint(df) != fmt.Sprint(dfFTS) {
		t.Fatalf("term stats from the index %d %v (%v), FTS5 %d %v (%v)", n, df, err, nFTS, dfFTS, errFTS)
	}
	sameAsFTS5Filtered(t, s, queries, corpus.LexicalQuery{K: 10, PathPrefix: "d01"})
	sameAsFTS5Filtered(t, s, queries, corpus.LexicalQuery{K: 10, Tags: []string{"even"}})
	sameAsFTS5Filtered(t, s, queries, corpus.LexicalQuery{K: 10, PathPrefix: "d02", Tags: []string{"even"}})

	// Changes after the file: documents replaced (their chunks' rowids
	// reused when they were the last written), deleted and added, read
	// through the change log without a refresh, in this process and in
	// a fresh one.
	put(590, 40)
	if err := s.Delete(ctx, []string{"d0003.md", "d0100.md"}); err != nil {
		t.Fatal(err)
	}
	sameAsFTS5(t, s, queries, 10)
	other, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sameAsFTS5(t, other, queries, 10)
	if _, err := s.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	var logged int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM chunks_changed`).Scan(&logged)
	if logged != 0 {
		t.Fatalf("%d changes left in the log after a refresh", logged)
	}
	sameAsFTS5(t, s, queries, 10)
	sameAsFTS5(t, other, queries, 10)
}

// TestKeywordIndexRanksAsFTS5OnSciFact: the shared collection, whole.
func TestKeywordIndexRanksAsFTS5OnSciFact(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../../shared/datasets"
	}
	ds, err := evaluate.LoadBEIR(filepath.Join(root, "scifact"), "test")
	if err != nil {
		t.Skipf("dataset scifact not found (set RAGTUNE_DATASETS): %v", err)
	}
	s := newStore(t)
	var docs []corpus.Document
	for _, d := range ds.Corpus {
		docs = append(docs, corpus.Document{Path: d.ID, Title: d.Title, Format: "text", Hash: d.ID, Signature: "sig",
			Chunks: []corpus.Chunk{{ID: "c" + d.ID, Title: d.Title, Text: d.Text, LineStart: 1, LineEnd: 1}}})
	}
	if err := s.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefreshIndex(t.Context()); err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, q := range ds.Queries {
		queries = append(queries, q.Text)
	}
	sameAsFTS5(t, s, queries, 10)
	sameAsFTS5(t, s, queries, 100)
	sameAsFTS5Filtered(t, s, queries, corpus.LexicalQuery{K: 10, PathPrefix: "1"})
}

func refreshedStore(t *testing.T) (*Corpus, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Create(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Upsert(t.Context(), []corpus.Document{doc("a.md", "keys rotate every ninety days", "backups run nightly"), doc("b.md", "restores take twenty minutes")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefreshIndex(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestDamagedKeywordFileIsNotTrusted(t *testing.T) {
	ctx := t.Context()
	s, dir := refreshedStore(t)
	path := filepath.Join(dir, keywordFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if kw, err := other.keywords(ctx); err != nil || kw != nil {
		t.Fatalf("a damaged file was used: %v, %v", kw, err)
	}
	if got := search(t, other, `"rotating"`); len(got) != 1 {
		t.Fatalf("search without the index = %q", got)
	}
	if _, err := other.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bm25.ReadFile(path); err != nil {
		t.Fatalf("refresh did not rewrite the damaged file: %v", err)
	}
	_ = s
}

func TestVerifyFindsALostChange(t *testing.T) {
	ctx := t.Context()
	s, _ := refreshedStore(t)
	if problems, err := s.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("fresh store: %v %q", err, problems)
	}
	if err := s.Upsert(ctx, []corpus.Document{doc("c.md", "rotate the replicas weekly")}); err != nil {
		t.Fatal(err)
	}
	if problems, err := s.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("store with logged changes: %v %q", err, problems)
	}
	// A change the log lost: the index no longer matches the text.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM chunks_changed`); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, s.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	problems, err := other.Verify(ctx)
	if err != nil || len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "keyword index") {
		t.Fatalf("lost change not found: %v %q", err, problems)
	}
	// Repair rebuilds the index from the text.
	if err := other.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	if problems, err := other.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("after repair: %v %q", err, problems)
	}
}

// A store restored from a backup is older than the index file beside it:
// the file is not used until a refresh rebuilds it from the store.
func TestKeywordFileNewerThanStoreIsIgnored(t *testing.T) {
	ctx := t.Context()
	s, dir := refreshedStore(t)
	if _, err := s.db.ExecContext(ctx, `UPDATE meta SET value = '0' WHERE key = 'vector_generation'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM chunks_changed`); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if kw, err := other.keywords(ctx); err != nil || kw != nil {
		t.Fatalf("a file newer than the store was used: %v, %v", kw, err)
	}
	if got := search(t, other, `"restores"`); len(got) != 1 {
		t.Fatalf("search = %q", got)
	}
	if _, err := other.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if kw, err := other.keywords(ctx); err != nil || kw == nil || kw.gen != "0" {
		t.Fatalf("after refresh: %+v, %v", kw, err)
	}
	if problems, err := other.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("after refresh: %v %q", err, problems)
	}
}

func TestMaxMerged(t *testing.T) {
	for _, tc := range []struct {
		n       int
		refresh bool
		want    int
	}{
		{0, false, 1000}, {100_000, false, 5000}, {100_000, true, 25_000}, {2000, true, 1000},
	} {
		if got := maxMerged(tc.n, tc.refresh); got != tc.want {
			t.Errorf("maxMerged(%d, %v) = %d, want %d", tc.n, tc.refresh, got, tc.want)
		}
	}
}

func TestAddOccurrences(t *testing.T) {
	type post struct{ doc, n uint32 }
	for _, tc := range []struct {
		list string
		want []post
		ok   bool
	}{
		{"1", []post{{1, 1}}, true},
		{"1 1 1 4 9 9", []post{{1, 3}, {4, 1}, {9, 2}}, true},
		{"0 12345", []post{{0, 1}, {12345, 1}}, true},
		{"", nil, false},
		{"1  2", nil, false},
		{"1 x", nil, false},
		{"99999999999", nil, false},
	} {
		var got []post
		err := addOccurrences("t", []byte(tc.list), func(_ string, doc, n uint32) { got = append(got, post{doc, n}) })
		if (err == nil) != tc.ok || tc.ok && fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.list, got, err, tc.want)
		}
	}
}

// The files derived from the database take its permissions, so whoever
// may read the store may read them.
func TestDerivedFilesTakeTheStorePermissions(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Chmod(filepath.Join(dir, "ragtune.db"), 0o640); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 3))
	s.Bind(ctx, corpus.Identity{Embedder: "m@1", Dim: 16})
	var docs []corpus.Document
	for i := range 150 {
		d := doc(fmt.Sprintf("p%03d.md", i), fmt.Sprintf("text %d", i))
		d.Chunks[0].Vector = unitVec(r, 16)
		docs = append(docs, d)
	}
	if err := s.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	s.SetHNSWThreshold(100)
	if _, err := s.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	s.Quantize(true)
	if _, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: unitVec(r, 16), K: 3}); err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{keywordFile, "vectors-*.hnsw", "vectors-*.f32"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(files) != 1 {
			t.Errorf("%s: files %v", pattern, files)
			continue
		}
		if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, %v; want 0640", files[0], fi.Mode(), err)
		}
	}
}
