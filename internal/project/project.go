// Package project is ragtune's composition root, shared by the CLI and
// the server: from a configuration it opens the project database and,
// when first needed, the corpus on its backend, and builds the embedder,
// the retriever of each mode, the answer generator, the tokenizer and the
// ingest pipeline, each once, in one place. Commands and the server ask
// a Project for what they need instead of wiring parts themselves.
package project

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/sqlitedb"
	"github.com/ragtune/ragtune/internal/store"
)

// Env is what a project takes from its surroundings.
type Env struct {
	// Getenv reads the environment (API keys named in the config, cache
	// and model locations); nil reads nothing.
	Getenv func(string) string
	Log    *slog.Logger // nil discards
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

func (e Env) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

// Project is an open ragtune project. Its parts are built lazily and
// once; a Project is safe for concurrent use.
type Project struct {
	cfg   config.Config
	env   Env
	store *store.Store
	// corpusName names the collection of a scratch index on a cluster
	// backend ("" for the project's own corpus).
	corpusName string
	// borrowed: the store belongs to another Project (see with).
	borrowed bool
	// noCorpus, when set, is why this project has no corpus.
	noCorpus error

	mu         sync.Mutex
	corpus     corpus.Corpus
	embedder   embed.Embedder
	embedLoad  bool // embedder has been built (it may be nil: embeddings off)
	tokenizer  chunk.Counter
	retrievers map[retrieve.Mode]*retrieve.Retriever
}

// ErrNoStore means the configured store directory holds no store.
var ErrNoStore = store.ErrNotFound

// ErrReadOnly means this user may read the store but not write it.
var ErrReadOnly = sqlitedb.ErrReadOnly

// Open opens the project cfg describes. Only the local project database
// is opened now; the corpus, which may be on a cluster, is connected when
// first used, so commands that only touch local data (keys, tune jobs,
// advise, eval history) work while the cluster is down.
func Open(ctx context.Context, cfg config.Config, env Env) (*Project, error) {
	st, err := store.Open(ctx, cfg.StoreDir())
	if err != nil {
		return nil, err
	}
	return newProject(cfg, env, st), nil
}

// Init creates the project's store and corpus (or opens existing ones):
// with a cluster backend it also creates the collections.
func Init(ctx context.Context, cfg config.Config, env Env) (*Project, error) {
	st, err := store.Create(ctx, cfg.StoreDir())
	if err != nil {
		return nil, err
	}
	p := newProject(cfg, env, st)
	if _, err := p.openCorpus(ctx, true); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func newProject(cfg config.Config, env Env, st *store.Store) *Project {
	return &Project{cfg: cfg, env: env, store: st, retrievers: map[retrieve.Mode]*retrieve.Retriever{}}
}

// Config is the configuration the project was opened with.
func (p *Project) Config() config.Config { return p.cfg }

// Store is the local project database.
func (p *Project) Store() *store.Store { return p.store }

// Corpus returns the corpus, connecting to its backend on first use.
func (p *Project) Corpus(ctx context.Context) (corpus.Corpus, error) {
	return p.openCorpus(ctx, false)
}

func (p *Project) openCorpus(ctx context.Context, create bool) (corpus.Corpus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.corpus != nil {
		return p.corpus, nil
	}
	if p.noCorpus != nil {
		return nil, p.noCorpus
	}
	c, err := openCorpus(ctx, corpusSpec{cfg: p.cfg, env: p.env, dir: p.store.Dir(), name: p.corpusName, create: create})
	if err != nil {
		return nil, err
	}
	corpus.Quantize(c, p.cfg.Retrieve.Quantize == "int8")
	p.corpus = c
	return c, nil
}

// Close closes the corpus (when it was opened) and the store.
func (p *Project) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.corpus != nil {
		errs = append(errs, p.corpus.Close())
		p.corpus = nil
	}
	if !p.borrowed {
		errs = append(errs, p.store.Close())
	}
	return errors.Join(errs...)
}

// CacheDir is where ragtune keeps rebuildable data (the compiled PDF
// engine, evaluation indexes and runs): $RAGTUNE_CACHE_DIR, else
// $XDG_CACHE_HOME/ragtune, else ~/.cache/ragtune; sub names a part of it.
func CacheDir(getenv func(string) string, sub string) string {
	if d := getenv("RAGTUNE_CACHE_DIR"); d != "" {
		return filepath.Join(d, sub)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ragtune", sub)
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ragtune", sub)
	}
	return filepath.Join(os.TempDir(), "ragtune-cache", sub)
}

func (p *Project) cacheDir(sub string) string { return CacheDir(p.env.getenv, sub) }

// Tokenizer is the token counter chunking and answers use (cl100k).
func (p *Project) Tokenizer() (chunk.Counter, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tokenizer == nil {
		tok, err := chunk.NewTiktokenCounter("cl100k_base")
		if err != nil {
			return nil, fmt.Errorf("loading the tokenizer: %w", err)
		}
		p.tokenizer = tok
	}
	return p.tokenizer, nil
}
