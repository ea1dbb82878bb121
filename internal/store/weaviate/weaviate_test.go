package weaviate_test

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/store"
	"github.com/ragtune/ragtune/internal/store/storetest"
	"github.com/ragtune/ragtune/internal/store/weaviate"
	"github.com/ragtune/ragtune/internal/store/weaviate/weaviatetest"
)

var collections atomic.Int64

// openOn returns stores whose corpora live on node, each in collections
// of its own.
func openOn(node *weaviatetest.Node) func(t *testing.T) *store.Store {
	return func(t *testing.T) *store.Store {
		st, err := store.Create(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		c, err := weaviate.Open(t.Context(), weaviate.Config{URL: node.URL, Prefix: fmt.Sprintf("Test%d", collections.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		st.SetCorpus(c)
		t.Cleanup(func() { st.Close() })
		return st
	}
}

func TestContract(t *testing.T) {
	node := weaviatetest.Start(t)
	storetest.Run(t, openOn(node))
}

func clusterDocs(from, to int) []store.Document {
	var docs []store.Document
	for i := from; i < to; i++ {
		path := fmt.Sprintf("doc-%03d.txt", i)
		d := store.Document{Path: path, Title: path, Format: "text", Hash: fmt.Sprint("h", i), Signature: "sig"}
		for j := range 2 {
			text := fmt.Sprintf("Report %d part %d about topic%d and shared words.", i, j, i)
			v := []float32{float32(i%7) + 1, float32(j) + 1, 1, float32(i%3) + 1}
			d.Chunks = append(d.Chunks, store.Chunk{ID: store.ChunkID(path, j, text), Ord: j, Text: text, Tokens: 12, Vector: v})
		}
		docs = append(docs, d)
	}
	return docs
}

// TestClusterSurvivesNodeLoss runs three nodes with every shard on all
// three, kills one with SIGKILL, keeps searching and writing through the
// others, restarts it and reads everything back from it.
func TestClusterSurvivesNodeLoss(t *testing.T) {
	// Opt-in: on a 2-core machine the three servers sometimes miss the
	// client's one-minute deadline while electing a new leader, and a
	// flaky test must not gate every change.
	if os.Getenv("RAGTUNE_WEAVIATE_CLUSTER") == "" {
		t.Skip("set RAGTUNE_WEAVIATE_CLUSTER=1 to run the three-node failure test (about a minute)")
	}
	nodes := weaviatetest.StartCluster(t, 3)
	ctx := t.Context()
	open := func(n *weaviatetest.Node, consistency string) *weaviate.Corpus {
		c, err := weaviate.Open(ctx, weaviate.Config{URL: n.URL, Prefix: "Cluster", Replication: 3, Consistency: consistency})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open(nodes[0], "QUORUM")
	if err := c.BindEmbedder(ctx, "test", 4); err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, clusterDocs(0, 60)); err != nil {
		t.Fatal(err)
	}

	nodes[2].Kill()
	hits, err := c.SearchLexical(ctx, store.LexicalQuery{Text: "topic42 report", K: 5})
	if err != nil || len(hits) == 0 || hits[0].DocPath != "doc-042.txt" {
		t.Fatalf("lexical search with a node down: %v, %v", hits, err)
	}
	dense, err := c.SearchDense(ctx, store.DenseQuery{Vector: []float32{1, 1, 1, 1}, K: 5})
	if err != nil || len(dense) != 5 {
		t.Fatalf("dense search with a node down: %d hits, %v", len(dense), err)
	}
	// Writes go on with two of three replicas acknowledging.
	if err := c.Upsert(ctx, clusterDocs(60, 80)); err != nil {
		t.Fatalf("writing with a node down: %v", err)
	}
	docs, err := c.Documents(ctx, "")
	if err != nil || len(docs) != 80 {
		t.Fatalf("documents with a node down: %d, %v", len(docs), err)
	}

	nodes[2].Restart(t)
	// The restarted node missed 40 chunk writes; async replication copies
	// them over.
	deadline := time.Now().Add(3 * time.Minute)
	for _, d := range clusterDocs(0, 80) {
		for {
			ok, err := c.OnNode(ctx, d.Path, "node3", 2)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node3 did not catch up on %s: %v", d.Path, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	// Reads through the restarted node, every replica asked to agree.
	back := open(nodes[2], "ALL")
	for _, d := range clusterDocs(0, 80) {
		got, err := back.Document(ctx, d.Path)
		for err != nil && time.Now().Before(deadline) {
			// A restarted node loads its shards lazily.
			time.Sleep(time.Second)
			got, err = back.Document(ctx, d.Path)
		}
		if err != nil {
			t.Fatalf("reading %s through the restarted node: %v", d.Path, err)
		}
		if got.Hash != d.Hash || len(got.Chunks) != 2 {
			t.Fatalf("%s on the restarted node: hash %s, %d chunks", d.Path, got.Hash, len(got.Chunks))
		}
	}
	hits, err = back.SearchLexical(ctx, store.LexicalQuery{Text: "topic77", K: 2})
	if err != nil || len(hits) != 2 || hits[0].DocPath != "doc-077.txt" {
		t.Fatalf("searching through the restarted node: %v, %v", hits, err)
	}
}

// TestMigrateBothWays copies an embedded corpus to Weaviate and back into
// a new embedded store; a second run copies nothing and verifies all.
func TestMigrateBothWays(t *testing.T) {
	node := weaviatetest.Start(t)
	ctx := t.Context()
	src, err := store.Create(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.BindEmbedder(ctx, "test", 4); err != nil {
		t.Fatal(err)
	}
	if err := src.Upsert(ctx, clusterDocs(0, 30)); err != nil {
		t.Fatal(err)
	}
	mid := openOn(node)(t)
	first, err := store.Copy(ctx, src, mid, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := store.Copy(ctx, src, mid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Copied != 30 || again.Copied != 0 || again.Skipped != 30 || first.Checksum != again.Checksum {
		t.Fatalf("copies: %+v then %+v", first, again)
	}
	back, err := store.Create(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	home, err := store.Copy(ctx, mid, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	if home.Checksum != first.Checksum || home.Chunks != 60 {
		t.Fatalf("back home: %+v; want checksum %s", home, first.Checksum)
	}
	if id, dim, _ := back.Embedder(ctx); id != "test" || dim != 4 {
		t.Fatalf("embedder after the round trip: %s/%d", id, dim)
	}
}
