package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/embed/adapter"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// embedder returns the configured embedder, or nil when embeddings are
// off (provider "none").
func (a *app) embedder(ctx context.Context, cfg config.Config) (embed.Embedder, error) {
	if cfg.Embed.Provider == embed.None || cfg.Embed.Provider == "" {
		return nil, nil
	}
	return embed.New(ctx, cfg.Embed, a.getenv)
}

func needsVectors(m retrieve.Mode) bool { return m == retrieve.Dense || m == retrieve.Hybrid }

// vectorEmbedder loads the embedder a mode needs: nil for lexical, an
// error when vectors are needed and none are configured.
func (a *app) vectorEmbedder(ctx context.Context, cfg config.Config, mode retrieve.Mode) (embed.Embedder, error) {
	if !needsVectors(mode) {
		return nil, nil
	}
	e, err := a.embedder(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("mode %s: %w: %w", mode, retrieve.ErrNoVectors, embed.ErrNoEmbedder)
	}
	return e, nil
}

// retriever builds the retriever for mode over st. For dense and hybrid
// modes the configured embedder must be the one the store was built with.
func (a *app) retriever(ctx context.Context, cfg config.Config, st *store.Store, mode retrieve.Mode) (*retrieve.Retriever, error) {
	st.QuantizeVectors(cfg.Retrieve.Quantize == "int8")
	r := &retrieve.Retriever{Store: st, Fusion: cfg.Retrieve.FusionSettings(), MMRLambda: cfg.Retrieve.MMRLambda}
	e, err := a.vectorEmbedder(ctx, cfg, mode)
	if err != nil || e == nil {
		return r, err
	}
	id, dim, err := st.Embedder(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case id == embed.None:
		return nil, fmt.Errorf("mode %s: %w: this store has no vectors; re-run `ragtune ingest` with [embed] provider = %q", mode, retrieve.ErrNoVectors, cfg.Embed.Provider)
	case id != e.ID() || dim != e.Dim():
		return nil, fmt.Errorf("mode %s: %w: the store holds %s vectors (dimension %d), the configured embedder is %s", mode, store.ErrEmbedderMismatch, id, dim, e.ID())
	}
	r.Embedder, err = a.queryEmbedder(ctx, cfg, st, e)
	return r, err
}

// queryEmbedder wraps e with the store's trained query adapter when one
// is enabled for e and embed.adapter allows it; documents are always
// embedded with e itself.
func (a *app) queryEmbedder(ctx context.Context, cfg config.Config, st *store.Store, e embed.Embedder) (embed.Embedder, error) {
	if e == nil || cfg.Embed.Adapter == "off" {
		return e, nil
	}
	ad, err := adapter.For(ctx, st, e.ID(), e.Dim())
	if err != nil || ad == nil {
		return e, err
	}
	return ad.Wrap(e), nil
}

// configWithMode loads the configuration with a --mode flag applied.
func (a *app) configWithMode(cmd *cobra.Command, mode string) (config.Config, error) {
	cfg, err := a.config()
	if err == nil && cmd.Flags().Changed("mode") {
		cfg.Retrieve.Mode = mode
	}
	return cfg, err
}

// embedderID names the query embedder a run used ("" for none), so a run
// made through a trained query adapter says so in its stored settings.
func embedderID(e embed.Embedder) string {
	if e == nil {
		return ""
	}
	return e.ID()
}
