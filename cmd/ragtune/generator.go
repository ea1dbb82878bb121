package main

import (
	"maps"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/store"
)

// generator returns the configured answer writer: the built-in extractive
// answerer, or a chat model behind an OpenAI-compatible endpoint.
func (a *app) generator(cfg config.Config, st *store.Store) (answer.Generator, error) {
	if cfg.Generate.Provider != "openai" {
		return &answer.Extractive{Stats: st, Thresholds: cfg.Answer}, nil
	}
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		return nil, err
	}
	prices := answer.DefaultPrices()
	maps.Copy(prices, cfg.Prices)
	return answer.NewLLM(cfg.Generate.OpenAI, a.getenv, tok, prices)
}
