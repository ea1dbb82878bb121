// Package embed turns text into vectors. The built-in embedder runs the
// Universal Sentence Encoder Lite offline (package uselite); others speak
// to a provider. Callers depend on the small Embedder interface.
package embed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/ragtune/ragtune/internal/embed/uselite"
)

// Embedder maps texts to vectors of a fixed dimension.
type Embedder interface {
	ID() string
	Dim() int
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Providers.
const (
	None    = "none"
	Builtin = "builtin"
	OpenAI  = "openai"
)

// Config selects an embedder.
type Config struct {
	Provider  string `toml:"provider"`   // none | builtin | openai
	ModelDir  string `toml:"model_dir"`  // builtin model files; default in the user cache
	BatchSize int    `toml:"batch_size"` // texts per model call or request
	// Adapter: "auto" maps queries through the store's trained query
	// adapter (ragtune tune embeddings) when one is enabled; "off" never.
	Adapter string       `toml:"adapter"`
	OpenAI  OpenAIConfig `toml:"openai"`
}

// DefaultConfig leaves embeddings off: on the measured collections BM25
// beats the built-in model by a wide margin, and embedding makes ingest
// far slower, so vectors are something to switch on and measure.
func DefaultConfig() Config {
	return Config{Provider: None, BatchSize: 32, Adapter: "auto", OpenAI: OpenAIConfig{APIKeyEnv: "OPENAI_API_KEY", MaxRetries: 3, TimeoutSec: 60}}
}

// ErrNoEmbedder means the configuration has no embedder.
var ErrNoEmbedder = errors.New("no embedder is configured (set [embed] provider = \"builtin\" in ragtune.toml, then re-run ingest)")

// DefaultModelDir is where scripts/fetch-model.sh installs the built-in
// model, given a getenv function.
func DefaultModelDir(getenv func(string) string) string {
	if d := getenv("RAGTUNE_MODEL_DIR"); d != "" {
		return d
	}
	cache := getenv("XDG_CACHE_HOME")
	if cache == "" {
		if home := getenv("HOME"); home != "" {
			cache = filepath.Join(home, ".cache")
		} else {
			cache = os.TempDir()
		}
	}
	return filepath.Join(cache, "ragtune", "models", "use-lite-"+uselite.PackageVersion)
}

// New returns the configured embedder; provider "none" gives
// ErrNoEmbedder.
func New(ctx context.Context, cfg Config, getenv func(string) string) (Embedder, error) {
	switch cfg.Provider {
	case None, "":
		return nil, ErrNoEmbedder
	case Builtin:
		dir := cfg.ModelDir
		if dir == "" {
			dir = DefaultModelDir(getenv)
		}
		m, err := uselite.Load(dir)
		if errors.Is(err, uselite.ErrMissing) {
			return nil, fmt.Errorf("%w; install it with `make model` (scripts/fetch-model.sh), or point embed.model_dir at it", err)
		}
		if err != nil {
			return nil, err
		}
		return Batched(m, cfg.BatchSize), nil
	case OpenAI:
		e, err := NewOpenAI(ctx, cfg.OpenAI, getenv)
		if err != nil {
			return nil, err
		}
		return Batched(e, cfg.BatchSize), nil
	}
	return nil, fmt.Errorf("unknown embed.provider %q (want none, builtin or openai)", cfg.Provider)
}

// batched splits large requests so one call never builds a huge tensor.
type batched struct {
	Embedder
	size int
}

// Batched wraps e so that each underlying call gets at most size texts.
func Batched(e Embedder, size int) Embedder {
	if size <= 0 {
		size = 32
	}
	return &batched{e, size}
}

func (b *batched) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	// Batches run side by side: the model's matrix products use every
	// core already, but the rest of its work is serial per call.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := 0; i < len(texts); i += b.size {
		end := min(len(texts), i+b.size)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, err := b.Embedder.Embed(ctx, texts[i:end])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			copy(out[i:end], v)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
