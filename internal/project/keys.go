package project

import (
	"context"

	"github.com/ragtune/ragtune/internal/apikey"
	"github.com/ragtune/ragtune/internal/config"
)

// KeyStore keeps the API keys ragtune serve accepts.
type KeyStore interface {
	CreateAPIKey(ctx context.Context, name string, scopes []string) (string, error)
	CheckAPIKey(ctx context.Context, key string) (string, []string, error)
	RevokeAPIKey(ctx context.Context, name string) (bool, error)
	APIKeys(ctx context.Context) ([]apikey.Key, error)
	// Ping reports whether the keys can be read (for /healthz).
	Ping(ctx context.Context) error
	// KeysLocation says where the keys live, for people.
	KeysLocation() string
}

// Keys returns where the project's API keys live: the corpus when it
// keeps keys itself (a Weaviate cluster, so that every serve replica over
// it accepts the same keys), else the local project database.
func (p *Project) Keys(ctx context.Context) (KeyStore, error) {
	if b := p.cfg.Store.Backend; b == config.BackendEmbedded || b == "" {
		return p.store, nil
	}
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	if ks, ok := c.(KeyStore); ok {
		return ks, nil
	}
	return p.store, nil
}
