package retrieve

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/rerank"
	"github.com/ragtune/ragtune/internal/rerank/reranktest"

	"github.com/ragtune/ragtune/internal/corpus/sqlite"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Lexical, "lexical": Lexical, "dense": Dense, "hybrid": Hybrid} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMode("semantic"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
}

func TestSearchRanksFromOne(t *testing.T) {
	st, err := sqlite.Create(t.Context(), filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var docs []corpus.Document
	for i, text := range []string{"key rotation happens every ninety days", "backups are kept thirty days", "rotation of keys by hand"} {
		p := string(rune('a'+i)) + ".md"
		docs = append(docs, corpus.Document{Path: p, Chunks: []corpus.Chunk{{ID: corpus.ChunkID(p, 0, text), Text: text}}})
	}
	if err := st.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	r := &Retriever{Corpus: st}
	hits, err := r.Search(t.Context(), Query{Text: "How are keys rotated?", Mode: Lexical})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Rank != 1 || hits[1].Rank != 2 {
		t.Fatalf("hits = %+v", hits)
	}
	if _, err := r.Search(t.Context(), Query{Text: "x", Mode: Hybrid}); !errors.Is(err, ErrNoVectors) || !strings.Contains(err.Error(), "provider") {
		t.Errorf("hybrid without an embedder: %v", err)
	}
}

func hits(ids ...string) []corpus.Hit {
	var out []corpus.Hit
	for i, id := range ids {
		out = append(out, corpus.Hit{Chunk: corpus.Chunk{ID: id}, Score: float64(len(ids) - i)})
	}
	return out
}

func TestFusion(t *testing.T) {
	r := rrf(60, hits("a", "b", "c"), hits("c", "d"))
	if want := 1/61.0 + 0; r["a"] != want || r["c"] != 1/63.0+1/61.0 || r["d"] != 1/62.0 {
		t.Errorf("rrf = %v", r)
	}
	// Lexical scores 3,2,1 normalise to 1,0.5,0; dense 2,1 to 1,0.
	w := weighted(0.2, hits("a", "b", "c"), hits("c", "d"))
	if !near(w["a"], 0.8) || !near(w["b"], 0.4) || !near(w["c"], 0.2) || !near(w["d"], 0) {
		t.Errorf("weighted = %v", w)
	}
	for _, bad := range []Fusion{{Method: "max", Alpha: 0.5, RRFK: 60, Depth: 10}, {Method: "rrf", Alpha: 2, RRFK: 60, Depth: 10}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// fixedEmbedder maps known texts to fixed vectors.
type fixedEmbedder map[string][]float32

func (f fixedEmbedder) ID() string { return "fixed@1" }
func (f fixedEmbedder) Dim() int   { return 2 }
func (f fixedEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = f[t]
	}
	return out, nil
}

func TestMMRDiversifies(t *testing.T) {
	st, err := sqlite.Create(t.Context(), filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Bind(t.Context(), corpus.Identity{Embedder: "fixed@1", Dim: 2})
	vecs := map[string][]float32{"dup one": {0.9998, 0.02}, "dup two": {1, 0}, "other": {0.7071, 0.7071}}
	var docs []corpus.Document
	for text, v := range vecs {
		d := corpus.Document{Path: text + ".md", Chunks: []corpus.Chunk{{ID: corpus.ChunkID(text, 0, text), Text: text, Vector: v}}}
		docs = append(docs, d)
	}
	if err := st.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	emb := fixedEmbedder{"q": {0.9487, 0.3162}}
	plain := &Retriever{Corpus: st, Embedder: emb}
	hits, err := plain.Search(t.Context(), Query{Text: "q", K: 2, Mode: Dense})
	if err != nil || hits[0].Text != "dup one" || hits[1].Text != "dup two" {
		t.Fatalf("without MMR: %v %v", hits, err)
	}
	diverse := &Retriever{Corpus: st, Embedder: emb, MMRLambda: 0.5}
	hits, err = diverse.Search(t.Context(), Query{Text: "q", K: 2, Mode: Dense})
	if err != nil || hits[0].Text != "dup one" || hits[1].Text != "other" || hits[1].Rank != 2 {
		t.Fatalf("with MMR the near-duplicate should give way: %v %v", hits, err)
	}
}

// TestSamePassageOnce: the same text in two documents (an HTML page and
// its PDF export) is given once, and k passages still come back.
func TestSamePassageOnce(t *testing.T) {
	st := textCorpus(t, map[string]string{
		"page.html": "Signing keys rotate every ninety days.",
		"page.pdf":  "Signing  keys rotate every NINETY days.",
		"ops.md":    "Keys are rotated by the rotate command.",
		"faq.md":    "Rotate a key when it leaks.",
	})
	hits, err := (&Retriever{Corpus: st}).Search(t.Context(), Query{Text: "keys rotate ninety days", K: 3, Mode: Lexical})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, h := range hits {
		paths = append(paths, h.DocPath)
	}
	if len(hits) != 3 || (paths[0] != "page.html" && paths[0] != "page.pdf") || paths[1] == "page.html" || paths[1] == "page.pdf" {
		t.Fatalf("hits %v: want one of the two copies, then the other documents", paths)
	}
	for i, h := range hits {
		if h.Rank != i+1 {
			t.Errorf("rank %d at %d", h.Rank, i)
		}
	}
}

// TestLongQueriesAreBounded: a 900-word query ORs at most
// lexical.MaxQueryTerms words, the rarest, and still finds the passage
// its two rare words point to.
func TestLongQueriesAreBounded(t *testing.T) {
	texts := map[string]string{}
	for i := range 40 {
		text := fmt.Sprintf("common words appear everywhere in document number %d of the collection", i)
		if i == 17 {
			text += " with zymurgy and quillwort"
		}
		texts[fmt.Sprintf("d%02d.md", i)] = text
	}
	st := textCorpus(t, texts)
	var words []string
	for i := range 900 {
		words = append(words, fmt.Sprintf("filler%03d", i), "common", "words")
	}
	words = append(words[:450], append([]string{"zymurgy", "quillwort"}, words[450:]...)...)
	r := &Retriever{Corpus: st}
	terms, err := r.boundedTerms(t.Context(), lexical.WeighQuery(strings.Join(words, " ")))
	kept := map[string]int{}
	for _, qt := range terms {
		kept[qt.Word] = qt.Count
	}
	if err != nil || len(terms) != lexical.MaxQueryTerms || kept["zymurgy"] != 1 || kept["quillwort"] != 1 {
		t.Fatalf("bounded terms: %d, rare ones kept: %v, %v", len(terms), kept, err)
	}
	hits, err := r.Search(t.Context(), Query{Text: strings.Join(words, " "), K: 1, Mode: Lexical})
	if err != nil || len(hits) != 1 || hits[0].DocPath != "d17.md" {
		t.Fatalf("long query: %+v, %v", hits, err)
	}
}

// TestRerankedAndFallBack: a reranker reorders the candidates (the hits
// carry its scores); when it fails, the retrieval order stands and every
// hit says why.
func TestRerankedAndFallBack(t *testing.T) {
	st := textCorpus(t, map[string]string{
		"a.md": "keys keys keys keys are mentioned here often",
		"b.md": "signing keys rotate every ninety days",
		"c.md": "backups run nightly and keys are safe",
	})
	srv := reranktest.Start(t, rerank.TEI)
	cfg := rerank.DefaultConfig()
	cfg.Provider, cfg.BaseURL, cfg.MaxRetries = rerank.TEI, srv.URL, 0
	rr, _ := rerank.New(cfg, nil)
	plain, _ := (&Retriever{Corpus: st}).Search(t.Context(), Query{Text: "signing keys rotate", K: 3})
	r := &Retriever{Corpus: st, Reranker: rr}
	hits, err := r.Search(t.Context(), Query{Text: "signing keys rotate", K: 2})
	if err != nil || len(hits) != 2 || hits[0].DocPath != "b.md" || hits[0].RerankScore == nil || *hits[0].RerankScore != 1 {
		t.Fatalf("reranked: %+v, %v (plain order %v)", hits, err, plain)
	}
	srv.Fail.Store(100)
	hits, err = r.Search(t.Context(), Query{Text: "signing keys rotate", K: 3})
	if err != nil || len(hits) != 3 || hits[0].DocPath != plain[0].DocPath || hits[0].RerankError == "" || hits[0].RerankScore != nil {
		t.Fatalf("with the reranker down: %+v, %v", hits, err)
	}
}

// textCorpus is a real embedded corpus holding one chunk per document.
func textCorpus(t *testing.T, texts map[string]string) *sqlite.Corpus {
	t.Helper()
	st, err := sqlite.Create(t.Context(), filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var docs []corpus.Document
	for path, text := range texts {
		docs = append(docs, corpus.Document{Path: path, Chunks: []corpus.Chunk{{ID: corpus.ChunkID(path, 0, text), Text: text}}})
	}
	if err := st.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	return st
}
