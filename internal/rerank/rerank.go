// Package rerank scores retrieved passages against the query with a
// reranking model, the usual biggest lift after hybrid search: a
// cross-encoder reads query and passage together instead of comparing
// separately made vectors or counting shared words. It speaks the rerank
// APIs people run: the /v1/rerank shape of Cohere, Jina, vLLM and
// LiteLLM, and Hugging Face Text Embeddings Inference's /rerank.
package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
)

// Providers.
const (
	None   = "none"
	Cohere = "cohere" // POST {base_url}/rerank with {"model","query","documents","top_n"}: Cohere, Jina, vLLM, LiteLLM
	TEI    = "tei"    // POST {base_url}/rerank with {"query","texts"}: Hugging Face Text Embeddings Inference
	LLM    = "llm"    // pointwise: a chat model at {base_url}/chat/completions grades each passage 0-10
)

// Config is the [rerank] section.
type Config struct {
	Provider  string `toml:"provider"`    // none (default), cohere or tei
	BaseURL   string `toml:"base_url"`    // e.g. http://localhost:8000/v1 (vLLM) or http://localhost:8080 (TEI)
	Model     string `toml:"model"`       // e.g. BAAI/bge-reranker-v2-m3; TEI serves one model and ignores it
	APIKeyEnv string `toml:"api_key_env"` // the environment variable holding the key, if the server wants one
	// Depth is how many retrieved passages are sent to be reranked; the
	// best k of them are kept.
	Depth          int `toml:"depth"`
	BatchSize      int `toml:"batch_size"` // passages per request
	TimeoutSeconds int `toml:"timeout_seconds"`
	MaxRetries     int `toml:"max_retries"`
}

// DefaultConfig is off, with the settings it would use once on.
func DefaultConfig() Config {
	return Config{Provider: None, Depth: 30, BatchSize: 64, TimeoutSeconds: 20, MaxRetries: 2, APIKeyEnv: "RERANK_API_KEY"}
}

// Validate checks the settings a reranker needs.
func (c Config) Validate() error {
	switch c.Provider {
	case None, "":
		return nil
	case Cohere, TEI, LLM:
	default:
		return fmt.Errorf("rerank.provider %q: want none, cohere, tei or llm", c.Provider)
	}
	if c.BaseURL == "" && c.Provider != LLM { // llm defaults to [generate.openai]
		return fmt.Errorf("rerank.provider = %s needs rerank.base_url", c.Provider)
	}
	if c.Depth < 1 {
		return errors.New("rerank.depth must be at least 1")
	}
	return nil
}

// Reranker scores passages against a query over HTTP.
type Reranker struct {
	cfg    Config
	key    string
	client *http.Client
	chat   openai.Client // the llm provider's grading model
}

// New builds the configured reranker, or nil when reranking is off.
func New(cfg Config, getenv func(string) string) (*Reranker, error) {
	if cfg.Provider == None || cfg.Provider == "" {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Reranker{cfg: cfg, client: &http.Client{Timeout: time.Duration(max(cfg.TimeoutSeconds, 1)) * time.Second}}
	if cfg.APIKeyEnv != "" && getenv != nil {
		r.key = getenv(cfg.APIKeyEnv)
	}
	if r.cfg.BatchSize <= 0 {
		r.cfg.BatchSize = 64
	}
	if cfg.Provider == LLM {
		r.chat = r.chatClient()
	}
	return r, nil
}

// ID names the reranker, for run records.
func (r *Reranker) ID() string { return r.cfg.Provider + ":" + r.cfg.Model }

// Depth is how many passages the reranker wants to see.
func (r *Reranker) Depth() int { return r.cfg.Depth }

// Score returns one relevance score per text, higher is better, in the
// order of texts.
func (r *Reranker) Score(ctx context.Context, query string, texts []string) ([]float64, error) {
	scores := make([]float64, len(texts))
	for start := 0; start < len(texts); start += r.cfg.BatchSize {
		end := min(start+r.cfg.BatchSize, len(texts))
		got, err := r.batch(ctx, query, texts[start:end])
		if err != nil {
			return nil, err
		}
		copy(scores[start:end], got)
	}
	return scores, nil
}

func (r *Reranker) batch(ctx context.Context, query string, texts []string) ([]float64, error) {
	if r.cfg.Provider == LLM {
		return r.grade(ctx, query, texts)
	}
	var body any
	if r.cfg.Provider == TEI {
		body = map[string]any{"query": query, "texts": texts, "truncate": true}
	} else {
		body = map[string]any{"model": r.cfg.Model, "query": query, "documents": texts, "top_n": len(texts)}
	}
	raw, _ := json.Marshal(body)
	var last error
	for attempt := 0; attempt <= r.cfg.MaxRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		scores, retry, err := r.post(ctx, raw, len(texts))
		if err == nil {
			return scores, nil
		}
		last = err
		if !retry {
			break
		}
	}
	return nil, fmt.Errorf("reranking with %s at %s: %w", r.ID(), r.cfg.BaseURL, last)
}

// post sends one request; retry says whether another try may succeed.
func (r *Reranker) post(ctx context.Context, body []byte, n int) ([]float64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(r.cfg.BaseURL, "/")+"/rerank", bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.key != "" {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	res, err := r.client.Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, true, err
	}
	if res.StatusCode != http.StatusOK {
		retry := res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500
		return nil, retry, fmt.Errorf("HTTP %d: %.200s", res.StatusCode, data)
	}
	scores, err := r.parse(data, n)
	return scores, false, err
}

// parse reads either wire format: {"results":[{"index","relevance_score"}]}
// or TEI's [{"index","score"}].
func (r *Reranker) parse(data []byte, n int) ([]float64, error) {
	type item struct {
		Index          int      `json:"index"`
		RelevanceScore *float64 `json:"relevance_score"`
		Score          *float64 `json:"score"`
	}
	var items []item
	if r.cfg.Provider == TEI {
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fmt.Errorf("reading the reranker's answer: %w", err)
		}
	} else {
		var out struct {
			Results []item `json:"results"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("reading the reranker's answer: %w", err)
		}
		items = out.Results
	}
	scores := make([]float64, n)
	seen := make([]bool, n)
	for _, it := range items {
		s := it.RelevanceScore
		if s == nil {
			s = it.Score
		}
		if it.Index < 0 || it.Index >= n || s == nil || seen[it.Index] {
			return nil, fmt.Errorf("the reranker's answer has a bad result (index %d of %d)", it.Index, n)
		}
		scores[it.Index], seen[it.Index] = *s, true
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("the reranker scored %d of %d passages (none for %d)", len(items), n, i)
		}
	}
	return scores, nil
}
