package embed

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
)

type countingEmbedder struct {
	mu    sync.Mutex
	calls []int
}

func (c *countingEmbedder) ID() string { return "count" }
func (c *countingEmbedder) Dim() int   { return 1 }
func (c *countingEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	c.calls = append(c.calls, len(texts))
	c.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t))}
	}
	return out, nil
}

func TestBatchedKeepsOrder(t *testing.T) {
	inner := &countingEmbedder{}
	vecs, err := Batched(inner, 2).Embed(t.Context(), []string{"a", "bb", "ccc", "dddd", "eeeee"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Ints(inner.calls) // batches run concurrently, in any order
	if len(inner.calls) != 3 || inner.calls[0] != 1 || inner.calls[2] != 2 {
		t.Errorf("calls = %v, want batches of 2, 2, 1", inner.calls)
	}
	for i, v := range vecs {
		if v[0] != float32(i+1) {
			t.Errorf("vector %d = %v; order lost", i, v)
		}
	}
}

func TestNew(t *testing.T) {
	env := func(k string) string {
		if k == "RAGTUNE_MODEL_DIR" {
			return t.TempDir()
		}
		return ""
	}
	if _, err := New(t.Context(), Config{Provider: None}, env); !errors.Is(err, ErrNoEmbedder) {
		t.Errorf("provider none: %v", err)
	}
	if _, err := New(t.Context(), Config{Provider: Builtin}, env); err == nil || !strings.Contains(err.Error(), "make model") {
		t.Errorf("missing model: %v, want a message naming the setup command", err)
	}
	if _, err := New(t.Context(), Config{Provider: "magic"}, env); err == nil {
		t.Error("unknown provider accepted")
	}
	if d := DefaultModelDir(func(k string) string { return map[string]string{"XDG_CACHE_HOME": "/c"}[k] }); d != "/c/ragtune/models/use-lite-0.2.0" {
		t.Errorf("DefaultModelDir = %s", d)
	}
}

type mapCache map[[32]byte][]float32

func (m mapCache) GetVectors(_ context.Context, _ string, hs [][32]byte) (map[[32]byte][]float32, error) {
	out := map[[32]byte][]float32{}
	for _, h := range hs {
		if v, ok := m[h]; ok {
			out[h] = v
		}
	}
	return out, nil
}

func (m mapCache) PutVectors(_ context.Context, _ string, hs [][32]byte, vs [][]float32) error {
	for i, h := range hs {
		m[h] = vs[i]
	}
	return nil
}

func TestCachedEmbedsEachTextOnce(t *testing.T) {
	inner := &countingEmbedder{}
	e := Cached(inner, mapCache{})
	if _, err := e.Embed(t.Context(), []string{"a", "bb"}); err != nil {
		t.Fatal(err)
	}
	vecs, err := e.Embed(t.Context(), []string{"bb", "ccc", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(inner.calls) != 2 || inner.calls[1] != 1 {
		t.Errorf("calls = %v; the second call should embed only the new text", inner.calls)
	}
	if vecs[0][0] != 2 || vecs[1][0] != 3 || vecs[2][0] != 1 {
		t.Errorf("vectors = %v", vecs)
	}
}
