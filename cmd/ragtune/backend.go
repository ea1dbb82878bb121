package main

import (
	"context"
	"time"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/store"
	"github.com/ragtune/ragtune/internal/store/weaviate"
)

// weaviateConfig is the cluster connection cfg describes, with the API key
// read from the variable it names; prefix overrides the collection prefix.
func (a *app) weaviateConfig(cfg config.Config, prefix string) weaviate.Config {
	w := cfg.Store.Weaviate
	wc := weaviate.Config{URL: w.URL, Prefix: w.Prefix, Shards: w.Shards, Replication: w.Replication,
		Consistency: w.Consistency, Timeout: time.Minute}
	if w.APIKeyEnv != "" {
		wc.APIKey = a.getenv(w.APIKeyEnv)
	}
	if prefix != "" {
		wc.Prefix = prefix
	}
	return wc
}

// attachCorpus points st at the configured corpus backend.
func (a *app) attachCorpus(ctx context.Context, cfg config.Config, st *store.Store) error {
	if cfg.Store.Backend != config.BackendWeaviate {
		return nil
	}
	c, err := weaviate.Open(ctx, a.weaviateConfig(cfg, ""))
	if err != nil {
		return err
	}
	st.SetCorpus(c)
	return nil
}

// scratchAttach puts evaluation corpora on the configured backend, in
// collections of their own (<prefix>Eval<key>), so an eval on Weaviate
// measures Weaviate.
func (a *app) scratchAttach(cfg config.Config) evaluate.Attach {
	if cfg.Store.Backend != config.BackendWeaviate {
		return nil
	}
	return func(ctx context.Context, st *store.Store, name string, fresh bool) error {
		c, err := weaviate.Open(ctx, a.weaviateConfig(cfg, cfg.Store.Weaviate.Prefix+"Eval"+name))
		if err != nil {
			return err
		}
		if fresh {
			if err := c.Reset(ctx); err != nil {
				return err
			}
		}
		st.SetCorpus(c)
		return nil
	}
}
