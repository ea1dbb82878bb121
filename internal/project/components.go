package project

import (
	"context"
	"fmt"
	"maps"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/embed/adapter"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/rerank"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// Embedder returns the configured document embedder, or nil when
// embeddings are off (provider "none"). It is loaded once.
func (p *Project) Embedder(ctx context.Context) (embed.Embedder, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.embedLoad {
		return p.embedder, nil
	}
	if pr := p.cfg.Embed.Provider; pr != embed.None && pr != "" {
		e, err := embed.New(ctx, p.cfg.Embed, p.env.getenv)
		if err != nil {
			return nil, err
		}
		p.embedder = e
	}
	p.embedLoad = true
	return p.embedder, nil
}

// NeedsVectors reports whether a mode searches by embeddings.
func NeedsVectors(m retrieve.Mode) bool { return m == retrieve.Dense || m == retrieve.Hybrid }

// VectorEmbedder returns the embedder a mode needs: nil for lexical, an
// error when vectors are needed and none is configured.
func (p *Project) VectorEmbedder(ctx context.Context, mode retrieve.Mode) (embed.Embedder, error) {
	if !NeedsVectors(mode) {
		return nil, nil
	}
	e, err := p.Embedder(ctx)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("mode %s: %w: %w", mode, retrieve.ErrNoVectors, embed.ErrNoEmbedder)
	}
	return e, nil
}

// Retriever returns the retriever for mode, built once per mode: for
// dense and hybrid modes the configured embedder must be the one the
// corpus was built with, and queries go through the trained query
// adapter when one is enabled.
func (p *Project) Retriever(ctx context.Context, mode retrieve.Mode) (*retrieve.Retriever, error) {
	p.mu.Lock()
	r, ok := p.retrievers[mode]
	p.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := p.newRetriever(ctx, mode)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if have, ok := p.retrievers[mode]; ok {
		return have, nil
	}
	p.retrievers[mode] = r
	return r, nil
}

func (p *Project) newRetriever(ctx context.Context, mode retrieve.Mode) (*retrieve.Retriever, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	r := &retrieve.Retriever{Corpus: c, Fusion: p.cfg.Retrieve.FusionSettings(), MMRLambda: p.cfg.Retrieve.MMRLambda}
	rc := p.cfg.Rerank
	if rc.Provider == rerank.LLM && rc.BaseURL == "" {
		// Graded by the configured chat model unless told otherwise.
		g := p.cfg.Generate.OpenAI
		rc.BaseURL, rc.APIKeyEnv = g.BaseURL, g.APIKeyEnv
		if rc.Model == "" {
			rc.Model = g.Model
		}
	}
	rr, err := rerank.New(rc, p.env.getenv)
	if err != nil {
		return nil, err
	}
	if rr != nil {
		r.Reranker = rr
	}
	e, err := p.VectorEmbedder(ctx, mode)
	if err != nil || e == nil {
		return r, err
	}
	id, err := c.Identity(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case !id.Bound():
		return nil, fmt.Errorf("mode %s: %w: this store has no vectors; ingest again with [embed] provider = %q", mode, retrieve.ErrNoVectors, p.cfg.Embed.Provider)
	case id.Embedder != e.ID() || id.Dim != e.Dim():
		return nil, fmt.Errorf("mode %s: %w: the store holds %s vectors (dimension %d), the configured embedder is %s", mode, corpus.ErrEmbedderMismatch, id.Embedder, id.Dim, e.ID())
	}
	r.Embedder, err = p.QueryEmbedder(ctx, e)
	return r, err
}

// QueryEmbedder wraps e with the project's trained query adapter when one
// is enabled for e and embed.adapter allows it; documents are always
// embedded with e itself.
func (p *Project) QueryEmbedder(ctx context.Context, e embed.Embedder) (embed.Embedder, error) {
	if e == nil || p.cfg.Embed.Adapter == "off" {
		return e, nil
	}
	ad, err := adapter.For(ctx, p.adapterStore(), e.ID(), e.Dim())
	if err != nil || ad == nil {
		return e, err
	}
	return ad.Wrap(e), nil
}

// Generator returns the answer writer: the built-in extractive answerer,
// or a chat model behind an OpenAI-compatible endpoint. model, when not
// empty, asks for that chat model.
func (p *Project) Generator(ctx context.Context, model string) (answer.Generator, error) {
	cfg := p.cfg
	if model != "" {
		cfg.Generate.Provider, cfg.Generate.OpenAI.Model = "openai", model
	}
	var gen answer.Generator
	if cfg.Generate.Provider != "openai" {
		c, err := p.Corpus(ctx)
		if err != nil {
			return nil, err
		}
		gen = answer.NewExtractive(c, cfg.Answer)
	} else {
		tok, err := p.Tokenizer()
		if err != nil {
			return nil, err
		}
		prices := answer.DefaultPrices()
		maps.Copy(prices, cfg.Prices)
		if gen, err = answer.NewLLM(cfg.Generate.OpenAI, p.env.getenv, tok, prices); err != nil {
			return nil, err
		}
	}
	// Every answer, streamed or not, numbers its citations by first use.
	return answer.Renumbered(gen), nil
}

// Judge returns the configured answer judge, model replacing
// judge.model when set; nil when no judge model is configured.
func (p *Project) Judge(model string) (*judge.Judge, error) {
	cfg := p.cfg.JudgeSettings()
	if model != "" {
		cfg.Model = model
	}
	if !cfg.Enabled() {
		return nil, nil
	}
	rubric, err := judge.LoadRubric(cfg, p.cfg.Dir)
	if err != nil {
		return nil, err
	}
	prices := answer.DefaultPrices()
	maps.Copy(prices, p.cfg.Prices)
	return judge.New(cfg, judge.Options{Getenv: p.env.getenv, Prices: prices, Rubric: rubric})
}

// adapterStore is where the query adapter is kept: the project's own
// store (a scratch index has its own).
func (p *Project) adapterStore() adapter.MetaStore { return p.store }

// Search runs a query with the retriever of its mode.
func (p *Project) Search(ctx context.Context, q retrieve.Query) ([]retrieve.Hit, error) {
	r, err := p.Retriever(ctx, q.Mode)
	if err != nil {
		return nil, err
	}
	return r.Search(ctx, q)
}

// CountTokens counts text's tokens with the project's tokenizer (0 when
// it cannot be loaded): the server reports usage with it when the
// answerer reports none.
func (p *Project) CountTokens(text string) int {
	tok, err := p.Tokenizer()
	if err != nil {
		return 0
	}
	return tok.Count(text)
}
