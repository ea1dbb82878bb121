package adapter

import (
	"context"
	"fmt"
)

// MetaStore is where adapters are kept: the store's key/value metadata,
// local even when the corpus lives in a remote vector database.
type MetaStore interface {
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

const metaKey = "query_adapter"

// Load returns the stored adapter, or nil when none was trained.
func Load(ctx context.Context, m MetaStore) (*Adapter, error) {
	raw, err := m.Meta(ctx, metaKey)
	if err != nil || raw == "" {
		return nil, err
	}
	a, err := Unmarshal([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("loading the query adapter (retrain it with `ragtune tune embeddings`): %w", err)
	}
	return a, nil
}

// Save replaces the stored adapter.
func Save(ctx context.Context, m MetaStore, a *Adapter) error {
	data, err := a.Marshal()
	if err != nil {
		return err
	}
	return m.SetMeta(ctx, metaKey, string(data))
}

// For returns the adapter to use with the embedder e (ID and dimension),
// or nil when none is stored, it is switched off, or it was trained for
// another embedder.
func For(ctx context.Context, m MetaStore, embedderID string, dim int) (*Adapter, error) {
	a, err := Load(ctx, m)
	if err != nil || a == nil {
		return nil, err
	}
	if !a.Enabled || a.Embedder != embedderID || a.Dim != dim {
		return nil, nil
	}
	return a, nil
}
