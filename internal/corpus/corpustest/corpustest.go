// Package corpustest is the contract every corpus backend keeps: the same
// scenario runs against the embedded store and against Weaviate, so that
// ingest, search, ask, eval and serve behave alike on both.
package corpustest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
)

const dim = 4

func doc(path, hash string, tags []string, texts ...string) corpus.Document {
	d := corpus.Document{Path: path, Title: "Title of " + path, Format: "text", Hash: hash, Size: 100, Signature: "sig", Tags: tags}
	for i, t := range texts {
		v := make([]float32, dim)
		v[len(t)%dim] = 1 // a unit vector that differs between texts
		v[(len(t)+1)%dim] = 0.5
		norm := float32(math.Sqrt(1.25))
		for j := range v {
			v[j] /= norm
		}
		d.Chunks = append(d.Chunks, corpus.Chunk{ID: corpus.ChunkID(path, i, t), Ord: i, Title: "Heading " + path, Heading: "H", Text: t,
			Start: i * 10, End: i*10 + len(t), LineStart: i + 1, LineEnd: i + 2, Tokens: len(t) / 4, Vector: v})
	}
	return d
}

func lexicalQuery(text string, k int) corpus.LexicalQuery {
	return corpus.LexicalQuery{Match: lexical.MatchQuery(text), Text: text, K: k}
}

func paths(hits []corpus.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.DocPath)
	}
	return out
}

// Run runs the contract against a fresh, empty store from open.
func Run(t *testing.T, open func(t *testing.T) corpus.Corpus) {
	ctx := t.Context()
	st := open(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Run("empty", func(t *testing.T) {
		id, err := st.Identity(ctx)
		if err != nil || id != corpus.NoEmbedder || id.Bound() {
			t.Fatalf("Identity = %+v, %v; want none, 0", id, err)
		}
		docs, err := st.Documents(ctx, "")
		if err != nil || len(docs) != 0 {
			t.Fatalf("Documents = %v, %v", docs, err)
		}
	})
	t.Run("identity", func(t *testing.T) {
		must(st.Bind(ctx, corpus.Identity{Embedder: "test-embedder", Dim: dim}))
		must(st.Bind(ctx, corpus.Identity{Embedder: "test-embedder", Dim: dim}))
		if err := st.Bind(ctx, corpus.Identity{Embedder: "other", Dim: dim}); !errors.Is(err, corpus.ErrEmbedderMismatch) {
			t.Fatalf("binding another embedder: %v; want ErrEmbedderMismatch", err)
		}
		if err := st.Bind(ctx, corpus.Identity{Embedder: "test-embedder", Dim: dim + 1}); !errors.Is(err, corpus.ErrEmbedderMismatch) {
			t.Fatalf("binding another dimension: %v; want ErrEmbedderMismatch", err)
		}
	})
	a := doc("a.md", "h1", []string{"x"}, "The quick brown fox runs over the lazy dog.", "Zebras graze on the savanna at dawn.")
	c := doc("b/c.md", "h2", []string{"x", "y"}, "Foxes are running through the forest tonight.")
	d := doc("b/d.txt", "h3", nil, "Quarterly revenue grew by twelve percent.")
	t.Run("upsert", func(t *testing.T) {
		must(st.Upsert(ctx, []corpus.Document{a, c, d}))
		stats, err := st.Stats(ctx)
		must(err)
		if stats.Documents != 3 || stats.Chunks != 4 {
			t.Fatalf("Stats = %d documents, %d chunks; want 3, 4", stats.Documents, stats.Chunks)
		}
		docs, err := st.Documents(ctx, "b/")
		must(err)
		if len(docs) != 2 || docs[0].Path != "b/c.md" || docs[1].Path != "b/d.txt" || docs[0].Chunks != 1 || docs[0].Hash != "h2" {
			t.Fatalf("Documents(b/) = %+v", docs)
		}
		if !slices.Equal(docs[0].Tags, []string{"x", "y"}) || docs[0].ID != corpus.DocID("b/c.md") {
			t.Fatalf("document c = %+v", docs[0])
		}
	})
	t.Run("lexical", func(t *testing.T) {
		hits, err := st.SearchLexical(ctx, lexicalQuery("running fox", 10))
		must(err)
		// Stemming: "running" finds "runs"/"running", "fox" finds "Foxes".
		if got := paths(hits); len(got) != 2 || !slices.Contains(got, "a.md") || !slices.Contains(got, "b/c.md") {
			t.Fatalf("lexical hits = %v", got)
		}
		if hits[0].Score < hits[1].Score || hits[0].Score <= 0 {
			t.Fatalf("scores not descending and positive: %v, %v", hits[0].Score, hits[1].Score)
		}
		if h := hits[0]; h.Text == "" || h.DocTitle == "" || h.Rowid == 0 || h.LineEnd == 0 {
			t.Fatalf("hit lacks fields: %+v", h)
		}
		hits, err = st.SearchLexical(ctx, lexicalQuery("fox", 1))
		must(err)
		if len(hits) != 1 {
			t.Fatalf("k=1 gave %d hits", len(hits))
		}
		q := lexicalQuery("fox", 10)
		q.PathPrefix = "b/"
		hits, err = st.SearchLexical(ctx, q)
		must(err)
		if got := paths(hits); !slices.Equal(got, []string{"b/c.md"}) {
			t.Fatalf("prefix b/: %v", got)
		}
		q = lexicalQuery("fox revenue", 10)
		q.Tags = []string{"y"}
		hits, err = st.SearchLexical(ctx, q)
		must(err)
		if got := paths(hits); !slices.Equal(got, []string{"b/c.md"}) {
			t.Fatalf("tag y: %v", got)
		}
		hits, err = st.SearchLexical(ctx, lexicalQuery("astrophysics", 10))
		must(err)
		if len(hits) != 0 {
			t.Fatalf("unrelated query found %v", paths(hits))
		}
	})
	t.Run("dense", func(t *testing.T) {
		want := d.Chunks[0]
		hits, err := st.SearchDense(ctx, corpus.DenseQuery{Vector: want.Vector, K: 2})
		must(err)
		if len(hits) != 2 || math.Abs(hits[0].Score-1) > 1e-4 || hits[0].Score < hits[1].Score {
			t.Fatalf("dense hits = %v", hits)
		}
		if hits[0].Text != want.Text && hits[0].Score-hits[1].Score > 1e-6 {
			t.Fatalf("nearest = %q; want %q", hits[0].Text, want.Text)
		}
		hits, err = st.SearchDense(ctx, corpus.DenseQuery{Vector: want.Vector, K: 10, Tags: []string{"y"}})
		must(err)
		if got := paths(hits); !slices.Equal(got, []string{"b/c.md"}) {
			t.Fatalf("dense with tag y: %v", got)
		}
		vecs, err := st.VectorsOf(ctx, []int64{hits[0].Rowid})
		must(err)
		if v := vecs[hits[0].Rowid]; !slices.Equal(v, c.Chunks[0].Vector) {
			t.Fatalf("VectorsOf = %v; want %v", v, c.Chunks[0].Vector)
		}
	})
	t.Run("term stats", func(t *testing.T) {
		n, df, err := st.TermStats(ctx, []string{"fox", "revenue", "absent"})
		must(err)
		if n != 4 || df["fox"] != 2 || df["revenue"] != 1 || df["absent"] != 0 {
			t.Fatalf("TermStats = %d, %v", n, df)
		}
	})
	t.Run("read back", func(t *testing.T) {
		got, err := st.Document(ctx, "a.md")
		must(err)
		if got.Hash != a.Hash || got.Title != a.Title || !slices.Equal(got.Tags, a.Tags) || len(got.Chunks) != len(a.Chunks) {
			t.Fatalf("Document(a.md) = %+v", got)
		}
		for i, ch := range got.Chunks {
			want := a.Chunks[i]
			if ch.ID != want.ID || ch.Text != want.Text || ch.Ord != want.Ord || ch.LineStart != want.LineStart || !slices.Equal(ch.Vector, want.Vector) {
				t.Fatalf("chunk %d = %+v; want %+v", i, ch, want)
			}
		}
		if _, err := st.Document(ctx, "missing.md"); !errors.Is(err, corpus.ErrNoDocument) {
			t.Fatalf("missing document: %v", err)
		}
	})
	t.Run("wrong vectors lose nothing", func(t *testing.T) {
		bad := doc("e.md", "h5", nil, "Eels are long fish.")
		bad.Chunks[0].Vector = []float32{1, 0}
		if err := st.Upsert(ctx, []corpus.Document{bad}); !errors.Is(err, corpus.ErrEmbedderMismatch) {
			t.Fatalf("upserting a short vector: %v", err)
		}
		stats, err := st.Stats(ctx)
		must(err)
		if stats.Documents != 3 || stats.Chunks != 4 {
			t.Fatalf("after a refused write: %d documents, %d chunks", stats.Documents, stats.Chunks)
		}
	})
	t.Run("update replaces", func(t *testing.T) {
		a2 := doc("a.md", "h4", []string{"z"}, "The quick brown fox sleeps.")
		must(st.Upsert(ctx, []corpus.Document{a2}))
		hits, err := st.SearchLexical(ctx, lexicalQuery("zebras savanna", 10))
		must(err)
		if len(hits) != 0 {
			t.Fatalf("old chunk still found: %v", hits)
		}
		got, err := st.Document(ctx, "a.md")
		must(err)
		if got.Hash != "h4" || len(got.Chunks) != 1 || !slices.Equal(got.Tags, []string{"z"}) {
			t.Fatalf("after update: %+v", got)
		}
		problems, err := st.Verify(ctx)
		must(err)
		if len(problems) != 0 {
			t.Fatalf("Verify: %v", problems)
		}
	})
	t.Run("delete", func(t *testing.T) {
		must(st.Delete(ctx, []string{"b/d.txt"}))
		hits, err := st.SearchLexical(ctx, lexicalQuery("revenue", 10))
		must(err)
		if len(hits) != 0 {
			t.Fatalf("deleted document still found")
		}
		stats, err := st.Stats(ctx)
		must(err)
		if stats.Documents != 2 || stats.Chunks != 2 {
			t.Fatalf("after delete: %d documents, %d chunks", stats.Documents, stats.Chunks)
		}
		ok, err := corpus.DeleteByID(ctx, st, corpus.DocID("b/c.md"))
		must(err)
		if !ok {
			t.Fatal("DeleteByID found nothing")
		}
		docs, err := st.Documents(ctx, "")
		must(err)
		if len(docs) != 1 || docs[0].Path != "a.md" {
			t.Fatalf("left: %+v", docs)
		}
	})
}

// Docs makes documents doc-FROM.txt to doc-(TO-1).txt of two chunks each,
// with 4-dimensional vectors, for tests that copy or replicate corpora.
func Docs(from, to int) []corpus.Document {
	var out []corpus.Document
	for i := from; i < to; i++ {
		path := fmt.Sprintf("doc-%03d.txt", i)
		d := corpus.Document{Path: path, Title: path, Format: "text", Hash: fmt.Sprint("h", i), Signature: "sig"}
		for j := range 2 {
			text := fmt.Sprintf("Report %d part %d about topic%d and shared words.", i, j, i)
			v := []float32{float32(i%7) + 1, float32(j) + 1, 1, float32(i%3) + 1}
			d.Chunks = append(d.Chunks, corpus.Chunk{ID: corpus.ChunkID(path, j, text), Ord: j, Text: text, Tokens: 12, Vector: v})
		}
		out = append(out, d)
	}
	return out
}
