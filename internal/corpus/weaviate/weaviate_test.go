package weaviate_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/corpus/corpustest"
	"github.com/ragtune/ragtune/internal/corpus/weaviate"
	"github.com/ragtune/ragtune/internal/corpus/weaviate/weaviatetest"
)

var collections atomic.Int64

// openOn returns corpora on node, each in collections of its own.
func openOn(node *weaviatetest.Node) func(t *testing.T) corpus.Corpus {
	return func(t *testing.T) corpus.Corpus {
		c, err := weaviate.Open(t.Context(), weaviate.Config{URL: node.URL, Prefix: fmt.Sprintf("Test%d", collections.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

func TestContract(t *testing.T) {
	node := weaviatetest.Start(t)
	corpustest.Run(t, openOn(node))
}

// TestClusterSurvivesNodeLoss runs three nodes with every shard on all
// three, kills one with SIGKILL, keeps searching and writing, restarts it
// and checks that its own replica caught up on everything.
func TestClusterSurvivesNodeLoss(t *testing.T) {
	if os.Getenv("RAGTUNE_WEAVIATE_CLUSTER") == "0" {
		t.Skip("RAGTUNE_WEAVIATE_CLUSTER=0: three-node failure test skipped")
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
	if err := c.Bind(ctx, corpus.Identity{Embedder: "test", Dim: 4}); err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, corpustest.Docs(0, 60)); err != nil {
		t.Fatal(err)
	}

	nodes[2].Kill()
	// Writes wait on every replica the cluster still believes alive, and
	// on a Raft leader, so wait (as a real failure would) until gossip has
	// marked node3 down and a leader is in place; before that a write can
	// run into the client's timeout.
	waitNodeDown(t, nodes[0].URL, "node3", time.Minute)
	// If node3 led the Raft group, the other two elect a new leader first.
	waitLeader(t, nodes[0].URL, "node3", 2*time.Minute)
	hits, err := c.SearchLexical(ctx, corpus.LexicalQuery{Text: "topic42 report", K: 5})
	if err != nil || len(hits) == 0 || hits[0].DocPath != "doc-042.txt" {
		t.Fatalf("lexical search with a node down: %v, %v", hits, err)
	}
	dense, err := c.SearchDense(ctx, corpus.DenseQuery{Vector: []float32{1, 1, 1, 1}, K: 5})
	if err != nil || len(dense) != 5 {
		t.Fatalf("dense search with a node down: %d hits, %v", len(dense), err)
	}
	// Writes go on with two of three replicas acknowledging.
	if err := c.Upsert(ctx, corpustest.Docs(60, 80)); err != nil {
		t.Fatalf("writing with a node down: %v", err)
	}
	docs, err := c.Documents(ctx, "")
	if err != nil || len(docs) != 80 {
		t.Fatalf("documents with a node down: %d, %v", len(docs), err)
	}

	nodes[2].Restart(t)
	// The restarted node missed 20 documents (40 chunk writes); async
	// replication copies them over. Its own replica must end up holding
	// every document with the right content, read object by object from
	// that node.
	deadline := time.Now().Add(3 * time.Minute)
	for _, d := range corpustest.Docs(0, 80) {
		for {
			got, err := c.Replica(ctx, d.Path, "node3", 2)
			if err == nil {
				if got.Hash != d.Hash || len(got.Chunks) != 2 || got.Chunks[1].Text != d.Chunks[1].Text {
					t.Fatalf("%s on node3: hash %s, chunks %+v", d.Path, got.Hash, got.Chunks)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node3 did not catch up on %s: %v", d.Path, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	// Searches still answer, including what was written while node3 was down.
	hits, err = c.SearchLexical(ctx, corpus.LexicalQuery{Text: "topic77", K: 2})
	if err != nil || len(hits) != 2 || hits[0].DocPath != "doc-077.txt" {
		t.Fatalf("searching after the restart: %v, %v", hits, err)
	}
}

// waitNodeDown polls /v1/nodes on url until node is no longer reported
// healthy.
func waitNodeDown(t *testing.T, url, node string, limit time.Duration) {
	t.Helper()
	var out struct {
		Nodes []struct{ Name, Status string }
	}
	poll(t, url+"/v1/nodes", &out, limit, func() bool {
		for _, n := range out.Nodes {
			if n.Name == node && n.Status == "HEALTHY" {
				return false
			}
		}
		return true
	})
}

// waitLeader polls /v1/cluster/statistics on url until the node there
// follows a Raft leader other than gone.
func waitLeader(t *testing.T, url, gone string, limit time.Duration) {
	t.Helper()
	var out struct {
		Statistics []struct {
			LeaderID any `json:"leaderId"`
		}
	}
	poll(t, url+"/v1/cluster/statistics", &out, limit, func() bool {
		if len(out.Statistics) == 0 {
			return false
		}
		leader, _ := out.Statistics[0].LeaderID.(string)
		return leader != "" && leader != gone
	})
}

// poll GETs url into out until done says so, failing after limit.
func poll(t *testing.T, url string, out any, limit time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(out)
			resp.Body.Close()
		}
		if err == nil && done() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: condition not met after %s", url, limit)
}
