package corpus_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/corpus/corpustest"
	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/corpus/weaviate"
	"github.com/ragtune/ragtune/internal/corpus/weaviate/weaviatetest"
)

// TestCopyBetweenEmbedded copies one embedded corpus into another; no
// server needed.
func TestCopyBetweenEmbedded(t *testing.T) {
	ctx := t.Context()
	src := embedded(t, 10)
	dir := t.TempDir()
	dst, err := sqlite.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := corpus.Copy(ctx, src, dst, nil)
	if err != nil || rep.Copied != 10 || rep.Chunks != 20 {
		t.Fatalf("copy: %+v, %v", rep, err)
	}
	// The copy leaves the target's keyword index built, as an ingest does.
	if _, err := os.Stat(filepath.Join(dir, "keywords.bm25")); err != nil {
		t.Fatalf("no keyword index after the copy: %v", err)
	}
	if rep, err := corpus.Copy(ctx, src, dst, nil); err != nil || rep.Copied != 0 || rep.Skipped != 10 {
		t.Fatalf("second copy: %+v, %v", rep, err)
	}
	// A target document with the same hash but other chunk text is
	// skipped, then fails the read-back check.
	bad := corpustest.Docs(0, 1)
	bad[0].Chunks[0].Text = "changed"
	if err := dst.Upsert(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := corpus.Copy(ctx, src, dst, nil); !errors.Is(err, corpus.ErrCopyMismatch) {
		t.Fatalf("copy onto a differing target: %v; want ErrCopyMismatch", err)
	}
}

// TestMigrateBothWays copies an embedded corpus to Weaviate and back into
// a new embedded store; a second run copies nothing and verifies all.
func TestMigrateBothWays(t *testing.T) {
	node := weaviatetest.Start(t)
	ctx := t.Context()
	src := embedded(t, 30)
	mid, err := weaviate.Open(ctx, weaviate.Config{URL: node.URL, Prefix: "Migrate"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := corpus.Copy(ctx, src, mid, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := corpus.Copy(ctx, src, mid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Copied != 30 || again.Copied != 0 || again.Skipped != 30 || first.Checksum != again.Checksum {
		t.Fatalf("copies: %+v then %+v", first, again)
	}
	back, err := sqlite.Create(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	home, err := corpus.Copy(ctx, mid, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	if home.Checksum != first.Checksum || home.Chunks != 60 {
		t.Fatalf("back home: %+v; want checksum %s", home, first.Checksum)
	}
	if id, _ := back.Identity(ctx); id != (corpus.Identity{Embedder: "test", Dim: 4}) {
		t.Fatalf("embedder after the round trip: %+v", id)
	}
}

// embedded is a new embedded corpus holding n test documents.
func embedded(t *testing.T, n int) *sqlite.Corpus {
	t.Helper()
	c, err := sqlite.Create(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(t.Context(), corpus.Identity{Embedder: "test", Dim: 4}); err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(t.Context(), corpustest.Docs(0, n)); err != nil {
		t.Fatal(err)
	}
	return c
}
