package embed

import (
	"context"
	"sync"
)

// Memo wraps e so that it remembers the vectors it made: the same texts
// embedded in several passes are embedded once. It keeps every vector,
// so it suits a bounded set of texts (a test set's questions).
func Memo(e Embedder) Embedder {
	return &memo{Embedder: e, seen: map[string][]float32{}}
}

type memo struct {
	Embedder
	mu   sync.Mutex
	seen map[string][]float32
}

func (m *memo) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var missing []string
	for _, t := range texts {
		if _, ok := m.seen[t]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		vecs, err := m.Embedder.Embed(ctx, missing)
		if err != nil {
			return nil, err
		}
		for i, t := range missing {
			m.seen[t] = vecs[i]
		}
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = m.seen[t]
	}
	return out, nil
}
