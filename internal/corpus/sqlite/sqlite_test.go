package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

func newStore(t *testing.T) *Corpus {
	t.Helper()
	s, err := Create(t.Context(), filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func doc(path string, texts ...string) corpus.Document {
	d := corpus.Document{Path: path, Title: path, Format: "text", Hash: fmt.Sprint(texts), Signature: "sig"}
	for i, t := range texts {
		d.Chunks = append(d.Chunks, corpus.Chunk{ID: corpus.ChunkID(path, i, t), Ord: i, Title: path, Text: t, LineStart: i + 1, LineEnd: i + 1})
	}
	return d
}

func search(t *testing.T, s *Corpus, match string) []string {
	t.Helper()
	hits, err := s.SearchLexical(t.Context(), corpus.LexicalQuery{Match: match, K: 10})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range hits {
		out = append(out, h.DocPath+":"+h.Text)
	}
	return out
}

func TestUpsertReplacesAndDeletes(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Upsert(ctx, []corpus.Document{doc("a.md", "keys rotate every ninety days", "backups run nightly"), doc("b.md", "restores take twenty minutes")}); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, `"rotating"`); len(got) != 1 || got[0] != "a.md:keys rotate every ninety days" {
		t.Fatalf("stemmed search = %q", got)
	}
	// Replacing a.md must drop its old chunks from the index too.
	if err := s.Upsert(ctx, []corpus.Document{doc("a.md", "keys are never rotated")}); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, `"backups"`); len(got) != 0 {
		t.Fatalf("old chunk still found after replace: %q", got)
	}
	if err := s.Delete(ctx, []string{"b.md"}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 1 || st.Chunks != 1 {
		t.Fatalf("stats = %+v, want 1 document, 1 chunk", st)
	}
	if problems, err := s.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %q", err, problems)
	}
}

func TestSearchRanksAndFilters(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	s.Upsert(ctx, []corpus.Document{
		doc("docs/x.md", "rotation rotation rotation of keys"),
		doc("docs/y.md", "rotation is mentioned once among many other words here"),
		doc("other/z.md", "rotation rotation rotation of keys"),
	})
	hits, err := s.SearchLexical(ctx, corpus.LexicalQuery{Match: `"rotation" OR "keys"`, K: 10, PathPrefix: "docs/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].DocPath != "docs/x.md" || hits[0].Score <= hits[1].Score || hits[1].Score <= 0 {
		t.Fatalf("hits = %+v", hits)
	}
	n, df, err := s.TermStats(ctx, []string{"rotation", "keys", "absent"})
	if err != nil || n != 3 || df["rotation"] != 3 || df["keys"] != 2 || df["absent"] != 0 {
		t.Fatalf("TermStats = %d %v %v", n, df, err)
	}
}

// Two handles writing at once (as two processes would) must both succeed:
// SQLite serialises them and busy_timeout makes the second wait.
func TestConcurrentWriters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	first, err := Create(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w, s := range []*Corpus{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := s.Upsert(context.Background(), []corpus.Document{doc(fmt.Sprintf("w%d/%d.md", w, i), "text number", "more text")}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, _ := first.Stats(t.Context())
	if st.Documents != 100 || st.Chunks != 200 {
		t.Fatalf("stats = %+v, want 100 documents and 200 chunks", st)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlitedb.File+"-wal")); err != nil {
		t.Errorf("store is not in WAL mode: %v", err)
	}
}

func TestVectors(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Bind(ctx, corpus.Identity{Embedder: "m@1", Dim: 2}); err != nil {
		t.Fatal(err)
	}
	d1, d2 := doc("a.md", "north"), doc("b.md", "east", "north-east")
	d1.Chunks[0].Vector = []float32{0, 1}
	d2.Chunks[0].Vector, d2.Chunks[1].Vector = []float32{1, 0}, []float32{0.7071, 0.7071}
	if err := s.Upsert(ctx, []corpus.Document{d1, d2}); err != nil {
		t.Fatal(err)
	}
	hits, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: []float32{0.6, 0.8}, K: 2})
	if err != nil || len(hits) != 2 || hits[0].Text != "north-east" || hits[1].Text != "north" {
		t.Fatalf("dense hits = %+v, %v", hits, err)
	}
	// Replacing a document removes its old vectors with its chunks.
	if err := s.Upsert(ctx, []corpus.Document{doc("b.md", "gone")}); err == nil {
		t.Fatal("a chunk without a vector was accepted into a store bound to an embedder")
	}
	if problems, _ := s.Verify(ctx); len(problems) != 0 {
		t.Errorf("verify after a refused write: %q", problems)
	}
	if err := s.Bind(ctx, corpus.Identity{Embedder: "other@2", Dim: 2}); !errors.Is(err, corpus.ErrEmbedderMismatch) {
		t.Errorf("rebinding: %v", err)
	}
}

func unitVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float32
	for i := range v {
		v[i] = float32(r.NormFloat64())
		n += v[i] * v[i]
	}
	n = float32(math.Sqrt(float64(n)))
	for i := range v {
		v[i] /= n
	}
	return v
}

// The HNSW graph is used only when it matches the store's current
// vectors, agrees with the exact scan, and follows updates.
func TestVectorIndexFollowsWrites(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(1, 2))
	s.Bind(ctx, corpus.Identity{Embedder: "m@1", Dim: 16})
	write := func(from, to int) {
		var docs []corpus.Document
		for i := from; i < to; i++ {
			d := doc(fmt.Sprintf("d%03d.md", i), fmt.Sprintf("text %d", i))
			d.Chunks[0].Vector = unitVec(r, 16)
			docs = append(docs, d)
		}
		if err := s.Upsert(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 200)
	q := unitVec(r, 16)
	exactHits, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RefreshVectorIndex(ctx, 100); err != nil || !ok {
		t.Fatalf("refresh: %v %v", ok, err)
	}
	if files := s.hnswFiles(); len(files) != 1 {
		t.Fatalf("index files %v", files)
	}
	graphHits, _ := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 5})
	if s.dense.idx.graph == nil {
		t.Fatal("search did not use the fresh graph")
	}
	for i := range exactHits {
		if exactHits[i].ID != graphHits[i].ID {
			t.Errorf("rank %d: graph %s, exact %s", i, graphHits[i].ID, exactHits[i].ID)
		}
	}
	write(200, 260) // a new generation: the old graph must not be used
	s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 5})
	if s.dense.idx.graph != nil {
		t.Fatal("a stale graph was used after a write")
	}
	s.RefreshVectorIndex(ctx, 100)
	files := s.hnswFiles()
	if len(files) != 1 {
		t.Fatalf("old index files not removed: %v", files)
	}
	os.WriteFile(files[0], []byte("garbage"), 0o644) // a corrupt graph is ignored
	write(260, 261)
	if ok, err := s.RefreshVectorIndex(ctx, 100); err != nil || !ok {
		t.Fatalf("refresh over a corrupt file: %v %v", ok, err)
	}
	// The last document again with a new vector: its chunk gets the rowid
	// the old one had, and the graph must hold the new vector.
	last := doc("d260.md", "text 260 again")
	last.Chunks[0].Vector = unitVec(r, 16)
	if err := s.Upsert(ctx, []corpus.Document{last}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RefreshVectorIndex(ctx, 100); err != nil || !ok {
		t.Fatalf("refresh after a reused rowid: %v %v", ok, err)
	}
	if top, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: last.Chunks[0].Vector, K: 1}); err != nil || len(top) != 1 || top[0].DocPath != "d260.md" || top[0].Score < 0.999 {
		t.Fatalf("the graph kept the reused rowid's old vector: %+v %v", top, err)
	}
	hits, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 3, PathPrefix: "d00"})
	if err != nil || len(hits) != 3 {
		t.Fatalf("filtered graph search: %v %v", hits, err)
	}
	for _, h := range hits {
		if !strings.HasPrefix(h.DocPath, "d00") {
			t.Errorf("filter let %s through", h.DocPath)
		}
	}
}

// Quantised search re-ranked in float32 returns what the exact scan does
// on a small random store.
func TestQuantizedDenseSearch(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(4, 4))
	s.Bind(ctx, corpus.Identity{Embedder: "m@1", Dim: 32})
	var docs []corpus.Document
	for i := range 300 {
		d := doc(fmt.Sprintf("q%03d.md", i), fmt.Sprintf("t%d", i))
		d.Chunks[0].Vector = unitVec(r, 32)
		docs = append(docs, d)
	}
	if err := s.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	agree := 0
	for range 20 {
		q := unitVec(r, 32)
		s.Quantize(false)
		want, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 5})
		if err != nil {
			t.Fatal(err)
		}
		s.Quantize(true)
		got, err := s.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: 5})
		if err != nil || s.dense.idx.q8 == nil {
			t.Fatalf("quantised search: %v", err)
		}
		same := true
		for i := range want {
			if got[i].ID != want[i].ID || math.Abs(got[i].Score-want[i].Score) > 1e-6 {
				same = false
			}
		}
		if same {
			agree++
		}
	}
	if agree < 19 {
		t.Errorf("int8 + re-rank agreed with exact search on %d of 20 queries", agree)
	}
	vs, err := s.VectorsOf(ctx, []int64{1, 2})
	if err != nil || len(vs) != 2 || len(vs[1]) != 32 {
		t.Errorf("VectorsOf under quantisation: %v %v", len(vs), err)
	}
}

func TestTagFiltersInBothModes(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	s.Bind(ctx, corpus.Identity{Embedder: "m@1", Dim: 2})
	a, b := doc("a.md", "keys rotate"), doc("b.md", "keys rotate too")
	a.Tags, b.Tags = []string{"ops", "sec"}, []string{"ops"}
	a.Chunks[0].Vector, b.Chunks[0].Vector = []float32{1, 0}, []float32{0.9, 0.1}
	if err := s.Upsert(ctx, []corpus.Document{a, b}); err != nil {
		t.Fatal(err)
	}
	lex, _ := s.SearchLexical(ctx, corpus.LexicalQuery{Match: `"keys"`, K: 5, Tags: []string{"sec"}})
	dense, _ := s.SearchDense(ctx, corpus.DenseQuery{Vector: []float32{0, 1}, K: 5, Tags: []string{"sec"}})
	if len(lex) != 1 || lex[0].DocPath != "a.md" || len(dense) != 1 || dense[0].DocPath != "a.md" {
		t.Errorf("tag sec: lexical %v, dense %v", lex, dense)
	}
	none, _ := s.SearchLexical(ctx, corpus.LexicalQuery{Match: `"keys"`, K: 5, Tags: []string{"o%"}})
	if len(none) != 0 {
		t.Errorf("LIKE wildcards in a tag must not match: %v", none)
	}
}
