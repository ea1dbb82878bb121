package evaluate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/store"
)

// completeKey marks a scratch store whose corpus was fully indexed.
const completeKey = "eval_corpus_complete"

// Attach moves a scratch store's corpus to another backend: name is
// unique to the dataset and settings, and fresh asks for an empty corpus.
type Attach func(ctx context.Context, st *store.Store, name string, fresh bool) error

// ScratchStore opens the store for ds under cacheDir, indexing the corpus
// first unless a complete index of the same corpus with the same chunking
// already exists there. It reports whether the index was reused. With
// attach, the corpus lives where attach puts it.
func ScratchStore(ctx context.Context, cacheDir string, ds *Dataset, opts chunk.Options, tok chunk.Counter, e embed.Embedder, progress func(done, total int), attach Attach) (*store.Store, bool, error) {
	sig := ingest.Signature(opts, e)
	key := sha256.Sum256([]byte(ds.Hash + "|" + sig))
	name := hex.EncodeToString(key[:6])
	dir := filepath.Join(cacheDir, ds.Name+"-"+name)
	if attach != nil {
		dir += "-remote" // its completion mark speaks for the remote corpus
	}
	if st, err := store.Open(ctx, dir); err == nil {
		if v, _ := st.Meta(ctx, completeKey); v == ds.Hash {
			if attach == nil {
				return st, true, nil
			}
			// The remote corpus can change behind the mark; count it.
			if err := attach(ctx, st, name, false); err == nil {
				if stats, err := st.Stats(ctx); err == nil && stats.Documents == len(ds.Corpus) {
					return st, true, nil
				}
			}
		}
		st.Close()
	}
	// An incomplete index (interrupted earlier) is rebuilt from scratch.
	if err := os.RemoveAll(dir); err != nil {
		return nil, false, fmt.Errorf("clearing %s: %w", dir, err)
	}
	st, err := store.Create(ctx, dir)
	if err != nil {
		return nil, false, err
	}
	if attach != nil {
		if err := attach(ctx, st, name, true); err != nil {
			st.Close()
			return nil, false, err
		}
	}
	if e != nil {
		if err := st.BindEmbedder(ctx, e.ID(), e.Dim()); err != nil {
			st.Close()
			return nil, false, err
		}
	}
	if err := IndexCorpus(ctx, st, ds.Corpus, opts, tok, e, progress); err != nil {
		st.Close()
		return nil, false, err
	}
	if e != nil {
		if _, err := st.RefreshVectorIndex(ctx, store.HNSWThreshold); err != nil {
			st.Close()
			return nil, false, err
		}
	}
	if err := st.SetMeta(ctx, completeKey, ds.Hash); err != nil {
		st.Close()
		return nil, false, err
	}
	return st, false, nil
}

// IndexCorpus chunks corpus documents into st, keyed by their IDs. Title
// and text form one body, as BM25 baselines on BEIR index them.
func IndexCorpus(ctx context.Context, st *store.Store, corpus []CorpusDoc, opts chunk.Options, tok chunk.Counter, e embed.Embedder, progress func(done, total int)) error {
	sig := ingest.Signature(opts, e)
	const batch = 256
	var docs []store.Document
	flush := func(done int) error {
		ptrs := make([]*store.Document, len(docs))
		for i := range docs {
			ptrs[i] = &docs[i]
		}
		if err := ingest.EmbedChunks(ctx, e, ptrs...); err != nil {
			return err
		}
		if err := st.Upsert(ctx, docs); err != nil {
			return err
		}
		docs = docs[:0]
		if progress != nil {
			progress(done, len(corpus))
		}
		return nil
	}
	for i, c := range corpus {
		text := c.Text
		if c.Title != "" {
			text = c.Title + "\n\n" + c.Text
		}
		doc := &document.Document{Path: c.ID, Format: document.Text, Text: text}
		chunks, err := chunk.Split(doc, opts, tok)
		if err != nil {
			return fmt.Errorf("chunking %s: %w", c.ID, err)
		}
		docs = append(docs, ingest.ToStore(doc, chunks, sig))
		if len(docs) == batch || i == len(corpus)-1 {
			if err := flush(i + 1); err != nil {
				return err
			}
		}
	}
	return nil
}
