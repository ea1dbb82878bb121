package embed

import (
	"context"
	"testing"
)

type memoCounter struct{ calls, texts int }

func (c *memoCounter) ID() string { return "count@1" }
func (c *memoCounter) Dim() int   { return 1 }
func (c *memoCounter) Embed(_ context.Context, texts []string) ([][]float32, error) {
	c.calls++
	c.texts += len(texts)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t))}
	}
	return out, nil
}

func TestMemo(t *testing.T) {
	base := &memoCounter{}
	m := Memo(base)
	for range 3 {
		v, err := m.Embed(t.Context(), []string{"a", "bbb", "a"})
		if err != nil || len(v) != 3 || v[0][0] != 1 || v[1][0] != 3 || v[2][0] != 1 {
			t.Fatalf("Embed = %v, %v", v, err)
		}
	}
	if base.calls != 1 || base.texts != 3 {
		t.Errorf("base embedder saw %d calls, %d texts; want 1 call", base.calls, base.texts)
	}
}
