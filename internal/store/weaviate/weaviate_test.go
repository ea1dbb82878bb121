package weaviate_test

import (
	"fmt"
	"sync/atomic"
	"testing"

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
