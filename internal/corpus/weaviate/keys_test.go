package weaviate_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/apikey"
	"github.com/ragtune/ragtune/internal/corpus/weaviate"
	"github.com/ragtune/ragtune/internal/corpus/weaviate/weaviatetest"
)

// TestKeyContract checks the API keys kept in the cluster against a real
// node: what one handle writes, a second handle (another serve replica)
// sees at once.
func TestKeyContract(t *testing.T) {
	node := weaviatetest.Start(t)
	ctx := t.Context()
	prefix := fmt.Sprintf("Keys%d", collections.Add(1))
	open := func() *weaviate.Corpus {
		c, err := weaviate.Open(ctx, weaviate.Config{URL: node.URL, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := open(), open()
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if ks, err := b.APIKeys(ctx); err != nil || len(ks) != 0 {
		t.Fatalf("keys of a new cluster: %v, %v", ks, err)
	}
	key, err := a.CreateAPIKey(ctx, "ci", []string{"read", "write"})
	if err != nil {
		t.Fatal(err)
	}
	name, scopes, err := b.CheckAPIKey(ctx, key)
	if err != nil || name != "ci" || !reflect.DeepEqual(scopes, []string{"read", "write"}) {
		t.Fatalf("CheckAPIKey = %q, %v, %v", name, scopes, err)
	}
	// What every request pays for not caching keys.
	took := make([]time.Duration, 50)
	for i := range took {
		start := time.Now()
		if _, _, err := b.CheckAPIKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		took[i] = time.Since(start)
	}
	slices.Sort(took)
	t.Logf("CheckAPIKey on one node: p50 %v, p95 %v", took[25], took[47])
	if _, _, err := b.CheckAPIKey(ctx, key+"0"); !errors.Is(err, apikey.ErrUnknown) {
		t.Fatalf("a wrong key: %v", err)
	}
	if _, err := b.CreateAPIKey(ctx, "ci", []string{"read"}); !errors.Is(err, apikey.ErrExists) {
		t.Fatalf("a second key named ci: %v", err)
	}
	for _, bad := range [][]string{nil, {"root"}} {
		if _, err := a.CreateAPIKey(ctx, "x", bad); !errors.Is(err, apikey.ErrInvalid) {
			t.Fatalf("scopes %v accepted", bad)
		}
	}
	if _, err := a.CreateAPIKey(ctx, "admin", []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	ks, err := b.APIKeys(ctx)
	if err != nil || len(ks) != 2 || ks[0].Name != "admin" || ks[1].Name != "ci" || ks[1].CreatedAt == "" {
		t.Fatalf("APIKeys = %+v, %v", ks, err)
	}
	// Emptying the corpus keeps the keys.
	if err := a.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.CheckAPIKey(ctx, key); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
	if ok, err := b.RevokeAPIKey(ctx, "ci"); err != nil || !ok {
		t.Fatalf("RevokeAPIKey = %v, %v", ok, err)
	}
	if _, _, err := a.CheckAPIKey(ctx, key); !errors.Is(err, apikey.ErrUnknown) {
		t.Fatalf("a revoked key: %v", err)
	}
	if ok, err := a.RevokeAPIKey(ctx, "ci"); err != nil || ok {
		t.Fatalf("revoking it again = %v, %v", ok, err)
	}
	// The name is free again.
	if _, err := a.CreateAPIKey(ctx, "ci", []string{"read"}); err != nil {
		t.Fatal(err)
	}
}
