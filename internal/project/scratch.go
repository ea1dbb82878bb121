package project

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// completeKey marks a scratch index whose corpus was fully indexed.
const completeKey = "eval_corpus_complete"

// Scratch is an evaluation index: a project of its own over a test
// collection's corpus, built by the same ingest pipeline and searched by
// the same retrievers as the project it came from.
type Scratch struct {
	*Project
	Reused bool // an index of the same corpus and settings was reused
}

// ScratchRequest says which evaluation index to open.
type ScratchRequest struct {
	Dataset *evaluate.Dataset
	Mode    retrieve.Mode // chunks are embedded only when it needs vectors
	// Dir holds the index; "" for the user cache directory, where an
	// index is reused while the corpus and settings stay the same.
	Dir      string
	Progress func(done, total int) // told of the documents indexed
}

// OpenScratch opens the index of a test collection, indexing the corpus
// first unless a complete index of the same corpus with the same chunking
// and embedder already exists. On a cluster backend the corpus goes into
// collections of its own, so an eval there measures the cluster.
func (p *Project) OpenScratch(ctx context.Context, req ScratchRequest) (*Scratch, error) {
	ds := req.Dataset
	e, err := p.VectorEmbedder(ctx, req.Mode)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte(ds.Hash + "|" + ingest.Signature(p.cfg.Chunk, e)))
	name := hex.EncodeToString(key[:6])
	parent := req.Dir
	if parent == "" {
		parent = p.cacheDir("eval")
	}
	dir := filepath.Join(parent, ds.Name+"-"+name)
	remote := p.cfg.Store.Backend == config.BackendWeaviate
	if remote {
		dir += "-remote" // its completion mark speaks for the remote corpus
	}
	cfg := p.cfg
	cfg.Store.Path = dir
	if s, err := p.reuseScratch(ctx, cfg, ds, name); s != nil || err != nil {
		return s, err
	}
	// An incomplete index (interrupted earlier) is rebuilt from scratch.
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", dir, err)
	}
	st, err := store.Create(ctx, dir)
	if err != nil {
		return nil, err
	}
	s := &Scratch{Project: p.child(cfg, st, name)}
	if err := s.index(ctx, ds, e, req.Progress); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// reuseScratch returns the complete index at cfg's store path, or nil.
func (p *Project) reuseScratch(ctx context.Context, cfg config.Config, ds *evaluate.Dataset, name string) (*Scratch, error) {
	st, err := store.Open(ctx, cfg.StoreDir())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, nil // unreadable: rebuilt
	}
	s := &Scratch{Project: p.child(cfg, st, name), Reused: true}
	if v, _ := st.Meta(ctx, completeKey); v == ds.Hash {
		// A remote corpus can change behind the mark; count it.
		c, err := s.Corpus(ctx)
		if err == nil {
			if stats, err := c.Stats(ctx); err == nil && stats.Documents == len(ds.Corpus) {
				// An index made by an earlier version gets the search
				// indexes it lacks (a no-op when they are current).
				if err := corpus.Refresh(ctx, c); err != nil {
					s.Close()
					return nil, err
				}
				return s, nil
			}
		}
	}
	s.Close()
	return nil, nil
}

// child is a project over another store with p's settings, sharing p's
// embedder and tokenizer.
func (p *Project) child(cfg config.Config, st *store.Store, name string) *Project {
	c := newProject(cfg, p.env, st)
	c.corpusName = name
	p.mu.Lock()
	c.embedder, c.embedLoad, c.tokenizer = p.embedder, p.embedLoad, p.tokenizer
	p.mu.Unlock()
	return c
}

func (s *Scratch) index(ctx context.Context, ds *evaluate.Dataset, e embed.Embedder, progress func(done, total int)) error {
	c, err := s.openCorpus(ctx, true)
	if err != nil {
		return err
	}
	if s.corpusName != "" && s.cfg.Store.Backend == config.BackendWeaviate {
		if err := corpus.Reset(ctx, c); err != nil {
			return err
		}
	}
	in, done, err := s.Ingester(ctx)
	if err != nil {
		return err
	}
	defer done()
	// A scratch index keeps no ingest history, and each text is embedded
	// once here, so no embedding cache either.
	in.History, in.Embedder = nil, e
	if err := in.Index(ctx, ds.Documents(), s.cfg.Chunk, progress); err != nil {
		return err
	}
	return s.store.SetMeta(ctx, completeKey, ds.Hash)
}
