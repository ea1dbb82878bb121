package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// OpenAIConfig reaches any OpenAI-compatible /v1/embeddings endpoint:
// OpenAI, Ollama's /v1, vLLM, llama.cpp server, LM Studio.
type OpenAIConfig struct {
	BaseURL string `toml:"base_url"` // e.g. https://api.openai.com/v1 or http://localhost:11434/v1
	Model   string `toml:"model"`
	// APIKeyEnv names the environment variable holding the key; the key
	// itself is never written to a file.
	APIKeyEnv  string `toml:"api_key_env"`
	Dimensions int    `toml:"dimensions"` // 0: ask the endpoint once
	MaxRetries int    `toml:"max_retries"`
	TimeoutSec int    `toml:"timeout_seconds"`
}

type openAIEmbedder struct {
	client openai.Client
	model  string
	dims   int
	askDim bool // send "dimensions" (text-embedding-3 and later)
}

// NewOpenAI connects to the endpoint. Without a configured dimension it
// embeds one probe text to learn it, since a store binds to a dimension
// before its first write.
func NewOpenAI(ctx context.Context, cfg OpenAIConfig, getenv func(string) string) (Embedder, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("embed.openai needs base_url and model")
	}
	keyEnv := cfg.APIKeyEnv
	if keyEnv == "" {
		keyEnv = "OPENAI_API_KEY"
	}
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 3
	}
	timeout := time.Duration(max(cfg.TimeoutSec, 1)) * time.Second
	if cfg.TimeoutSec == 0 {
		timeout = time.Minute
	}
	opts := []option.RequestOption{option.WithBaseURL(cfg.BaseURL), option.WithMaxRetries(retries), option.WithRequestTimeout(timeout)}
	// Local servers need no key; the SDK still wants one, so it gets a
	// placeholder rather than reading OPENAI_API_KEY behind our back.
	key := getenv(keyEnv)
	if key == "" {
		key = "unused"
	}
	opts = append(opts, option.WithAPIKey(key))
	e := &openAIEmbedder{client: openai.NewClient(opts...), model: cfg.Model, dims: cfg.Dimensions, askDim: cfg.Dimensions > 0}
	if e.dims == 0 {
		v, err := e.Embed(ctx, []string{"dimension probe"})
		if err != nil {
			return nil, fmt.Errorf("asking %s for its embedding dimension: %w", cfg.BaseURL, err)
		}
		e.dims = len(v[0])
	}
	return e, nil
}

func (e *openAIEmbedder) ID() string { return fmt.Sprintf("openai:%s/%d", e.model, e.dims) }
func (e *openAIEmbedder) Dim() int   { return e.dims }

// Embed sends one request per call (wrap with Batched to bound its size)
// and returns unit-length vectors in input order. Empty texts, which the
// API rejects, get zero vectors without a request.
func (e *openAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var inputs []string
	var pos []int
	for i, t := range texts {
		if t == "" {
			out[i] = make([]float32, e.dims)
			continue
		}
		inputs = append(inputs, t)
		pos = append(pos, i)
	}
	if len(inputs) == 0 {
		return out, nil
	}
	params := openai.EmbeddingNewParams{Model: openai.EmbeddingModel(e.model), Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs}}
	if e.askDim {
		params.Dimensions = openai.Int(int64(e.dims))
	}
	res, err := e.client.Embeddings.New(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("embedding %d texts with %s: %w", len(inputs), e.model, err)
	}
	if len(res.Data) != len(inputs) {
		return nil, fmt.Errorf("embedding endpoint returned %d vectors for %d texts", len(res.Data), len(inputs))
	}
	data := res.Data
	sort.Slice(data, func(i, j int) bool { return data[i].Index < data[j].Index })
	for k, d := range data {
		if int(d.Index) != k {
			return nil, fmt.Errorf("embedding endpoint returned index %d at position %d", d.Index, k)
		}
		if e.dims != 0 && len(d.Embedding) != e.dims {
			return nil, fmt.Errorf("embedding endpoint returned dimension %d, want %d", len(d.Embedding), e.dims)
		}
		out[pos[k]] = unit(d.Embedding)
	}
	return out, nil
}

// unit scales v to length 1, so inner product is cosine similarity.
func unit(v []float64) []float32 {
	var n float64
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	out := make([]float32, len(v))
	for i, x := range v {
		if n > 0 {
			out[i] = float32(x / n)
		}
	}
	return out
}
