package project

import (
	"context"
	"fmt"
	"time"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/corpus/weaviate"
)

// corpusSpec says which corpus to open.
type corpusSpec struct {
	cfg    config.Config
	env    Env
	dir    string // the store directory
	name   string // a scratch index's own collection name; "" for the project's corpus
	create bool   // create what is missing
}

// openCorpus is the one place that chooses a corpus backend.
func openCorpus(ctx context.Context, s corpusSpec) (corpus.Corpus, error) {
	switch s.cfg.Store.Backend {
	case config.BackendWeaviate:
		return weaviate.Open(ctx, weaviateConfig(s))
	case config.BackendEmbedded, "":
		if s.create {
			return sqlite.Create(ctx, s.dir)
		}
		return sqlite.Open(ctx, s.dir)
	}
	return nil, fmt.Errorf("unknown store backend %q", s.cfg.Store.Backend)
}

// weaviateConfig is the cluster connection the configuration describes,
// with the API key read from the variable it names; a scratch index gets
// collections of its own (<prefix>Eval<name>).
func weaviateConfig(s corpusSpec) weaviate.Config {
	w := s.cfg.Store.Weaviate
	wc := weaviate.Config{URL: w.URL, Prefix: w.Prefix, Shards: w.Shards, Replication: w.Replication,
		Consistency: w.Consistency, Timeout: time.Minute}
	if w.APIKeyEnv != "" {
		wc.APIKey = s.env.getenv(w.APIKeyEnv)
	}
	if s.name != "" {
		wc.Prefix = w.Prefix + "Eval" + s.name
	}
	return wc
}

// OpenCorpusOn opens the project's corpus on the given backend, whatever
// the configuration selects: store migrate copies between the two.
func (p *Project) OpenCorpusOn(ctx context.Context, backend string) (corpus.Corpus, error) {
	cfg := p.cfg
	cfg.Store.Backend = backend
	return openCorpus(ctx, corpusSpec{cfg: cfg, env: p.env, dir: p.store.Dir(), create: true})
}
