package retrieve

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/store"
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
	st, err := store.Create(t.Context(), filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var docs []store.Document
	for i, text := range []string{"key rotation happens every ninety days", "backups are kept thirty days", "rotation of keys by hand"} {
		p := string(rune('a'+i)) + ".md"
		docs = append(docs, store.Document{Path: p, Chunks: []store.Chunk{{ID: store.ChunkID(p, 0, text), Text: text}}})
	}
	if err := st.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	r := &Retriever{Store: st}
	hits, err := r.Search(t.Context(), Query{Text: "How are keys rotated?", Mode: Lexical})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Rank != 1 || hits[1].Rank != 2 {
		t.Fatalf("hits = %+v", hits)
	}
	if _, err := r.Search(t.Context(), Query{Text: "x", Mode: Hybrid}); err == nil || !strings.Contains(err.Error(), "--mode lexical") {
		t.Errorf("hybrid without vectors: %v", err)
	}
}
