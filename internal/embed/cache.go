package embed

import (
	"context"
	"crypto/sha256"
)

// Cache keeps vectors by (embedder ID, text hash), so text that was
// embedded once, in any document, is never embedded again.
type Cache interface {
	GetVectors(ctx context.Context, model string, hashes [][32]byte) (map[[32]byte][]float32, error)
	PutVectors(ctx context.Context, model string, hashes [][32]byte, vecs [][]float32) error
}

type cached struct {
	Embedder
	cache Cache
}

// Cached wraps e with a vector cache.
func Cached(e Embedder, c Cache) Embedder {
	if e == nil || c == nil {
		return e
	}
	return &cached{e, c}
}

func (c *cached) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	hashes := make([][32]byte, len(texts))
	for i, t := range texts {
		hashes[i] = sha256.Sum256([]byte(t))
	}
	found, err := c.cache.GetVectors(ctx, c.ID(), hashes)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	var missTexts []string
	var missIdx []int
	for i, h := range hashes {
		if v, ok := found[h]; ok && len(v) == c.Dim() {
			out[i] = v
			continue
		}
		missTexts = append(missTexts, texts[i])
		missIdx = append(missIdx, i)
	}
	if len(missTexts) == 0 {
		return out, nil
	}
	vecs, err := c.Embedder.Embed(ctx, missTexts)
	if err != nil {
		return nil, err
	}
	missHashes := make([][32]byte, len(missIdx))
	for j, i := range missIdx {
		out[i] = vecs[j]
		missHashes[j] = hashes[i]
	}
	// A failed cache write only costs a recomputation later.
	_ = c.cache.PutVectors(ctx, c.ID(), missHashes, vecs)
	return out, nil
}
