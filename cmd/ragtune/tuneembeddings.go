package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/embed/adapter"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// embeddingsFlags are the settings of one `tune embeddings` run.
type embeddingsFlags struct {
	corpus, split   string
	heldOut         float64
	synthetic, negs int
	augment         int
	seed            uint64
	opts            adapter.Options
	enable, disable bool
	status          bool
}

func (a *app) tuneEmbeddingsCommand() *cobra.Command {
	var f embeddingsFlags
	cmd := &cobra.Command{
		Use:   "embeddings [BEIR-DIR | QA.jsonl]",
		Short: "Fine-tune retrieval offline: train a query adapter for the built-in embedder",
		Long: `embeddings trains a linear adapter that maps query vectors before the dense
search, from (question, relevant chunk) pairs, with the other questions'
chunks in the batch as negatives (and optionally the closest wrong chunks,
--negatives).
Document vectors are unchanged, so nothing is re-embedded and the adapter
can be switched off at any time ([embed] adapter = "off", or --disable).

Where the pairs come from:
  BEIR-DIR   queries and qrels of a BEIR collection; its corpus is indexed
             in the same scratch store "ragtune eval run BEIR-DIR" uses, and
             the adapter is saved there, so eval picks it up.
  QA.jsonl   questions with gold_doc_ids, against the project store (or
             --corpus, a BEIR directory).
  (none)     synthetic questions: sentences drawn from the project's own
             chunks (the inverse cloze task), a weaker signal.
With fewer than 2000 labelled training questions, synthetic ones top the
set up to 2000 (--augment sets how many; 0 turns it off).

A share of the questions (--held-out, by a seeded hash of their IDs) is
never trained on; nDCG@10, Recall@100 and MRR@10 on them, dense and
hybrid, are reported before and after. The adapter is enabled only if it
improved held-out nDCG@10 in the project's mode (hybrid when retrieve.mode
is hybrid, else dense); otherwise it is kept, switched off.`,
		Example: `  ragtune tune embeddings ../shared/datasets/scifact
  ragtune eval run ../shared/datasets/scifact --mode hybrid      # now uses the adapter
  ragtune tune embeddings questions.jsonl --held-out 0.3 --json
  ragtune tune embeddings --synthetic 3000
  ragtune tune embeddings --disable`,
		Args: maxArgs(1, "at most one BEIR directory or QA file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data := ""
			if len(args) == 1 {
				data = args[0]
			}
			return a.tuneEmbeddings(cmd, data, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.corpus, "corpus", "", "with a QA file: a BEIR directory to answer from instead of the project store")
	fl.StringVar(&f.split, "split", "test", "qrels split of a BEIR directory")
	fl.Float64Var(&f.heldOut, "held-out", 0.3, "share of questions never trained on, for the before/after figures")
	fl.IntVar(&f.synthetic, "synthetic", 2000, "without labelled data: synthetic questions to make")
	fl.IntVar(&f.augment, "augment", -1, "with labelled data: also train on this many synthetic questions drawn from the corpus (default: top up to 2000 training questions)")
	fl.IntVar(&f.negs, "negatives", 0, "hard negatives per question (closest wrong chunks); measured to hurt held-out nDCG on SQuAD, so off by default")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the split and the training order")
	fl.IntVar(&f.opts.Epochs, "epochs", 20, "passes over the training pairs (the best on the validation pairs is kept)")
	fl.IntVar(&f.opts.BatchSize, "batch", 256, "questions per training step; the others' chunks are its negatives")
	fl.Float64Var(&f.opts.LearningRate, "lr", 3e-4, "Adam learning rate")
	fl.Float64Var(&f.opts.Temperature, "temperature", 0.05, "softmax temperature of the contrastive loss")
	fl.BoolVar(&f.enable, "enable", false, "switch the stored adapter on (no training)")
	fl.BoolVar(&f.disable, "disable", false, "switch the stored adapter off (no training)")
	fl.BoolVar(&f.status, "status", false, "show the stored adapter and its figures (no training)")
	return cmd
}

func (a *app) tuneEmbeddings(cmd *cobra.Command, data string, f embeddingsFlags) error {
	ctx := cmd.Context()
	cfg, err := a.config()
	if err != nil {
		return err
	}
	e, err := a.embedder(ctx, cfg)
	if err != nil {
		return err
	}
	if e == nil {
		return usageError{fmt.Errorf("tune embeddings: %w", embed.ErrNoEmbedder)}
	}
	src, err := a.adapterSource(cmd, cfg, e, data, f)
	if err != nil {
		return err
	}
	defer src.st.Close()
	if f.enable || f.disable || f.status {
		return a.adapterToggle(ctx, src.st, f)
	}
	if id, dim, err := src.st.Embedder(ctx); err != nil {
		return err
	} else if id != e.ID() || dim != e.Dim() {
		return fmt.Errorf("%w: the store holds %s vectors (dimension %d), the configured embedder is %s; re-ingest first", store.ErrEmbedderMismatch, id, dim, e.ID())
	}
	began := time.Now()
	trainQs, heldQs := adapter.Split(src.queries, f.heldOut, f.seed)
	fitQs, validQs := adapter.Split(trainQs, 0.1, f.seed+1)
	if f.augment < 0 {
		// Measured on SciFact and Cranfield: a few hundred labelled
		// questions plus corpus sentences beat the labelled ones alone.
		f.augment = max(0, 2000-len(fitQs))
	}
	if f.augment > 0 && !strings.HasPrefix(src.name, "synthetic:") {
		extra, err := a.syntheticQuestions(ctx, src.st, f.augment, f.seed)
		if err != nil {
			return err
		}
		fitQs = append(fitQs, extra...)
		src.name += fmt.Sprintf(" + %d synthetic", len(extra))
	}
	bar := a.bar("building training pairs")
	train, err := adapter.BuildPairs(ctx, src.st, e, fitQs, f.negs, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	valid, err := adapter.BuildPairs(ctx, src.st, e, validQs, f.negs, nil)
	if err != nil {
		return err
	}
	if len(train) == 0 {
		return fmt.Errorf("no training pairs: none of the %d questions has a relevant document in the store", len(fitQs))
	}
	f.opts.Seed = f.seed
	bar = a.bar("training")
	f.opts.Progress = func(s adapter.EpochStat) { bar.update(s.Epoch, s.Epochs) }
	ad, stats, err := adapter.Train(ctx, adapter.Identity(e.ID(), e.Dim()), train, valid, f.opts)
	bar.done()
	if err != nil {
		return err
	}
	ad.TrainedAt = time.Now().Unix()
	ad.Report = adapter.Report{Source: src.name, TrainPairs: len(train), ValidPairs: len(valid), HeldOutQueries: len(heldQs), Epochs: stats}
	if ad.Report.Before, ad.Report.After, err = a.heldOutFigures(ctx, cfg, src.st, e, ad, heldQs); err != nil {
		return err
	}
	// Enabled only if it helps the mode this project searches with.
	decide := "dense ndcg@10"
	if cfg.Retrieve.Mode == string(retrieve.Hybrid) {
		decide = "hybrid ndcg@10"
	}
	ad.Report.DecidedBy = decide
	ad.Enabled = ad.Report.After[decide] > ad.Report.Before[decide]
	if err := adapter.Save(ctx, src.st, ad); err != nil {
		return err
	}
	return a.printAdapter(ad, src.st.Dir(), time.Since(began))
}

// adapterData is where training questions and the store come from.
type adapterData struct {
	name    string
	st      *store.Store
	queries []adapter.Labelled
}

func (a *app) adapterSource(cmd *cobra.Command, cfg config.Config, e embed.Embedder, data string, f embeddingsFlags) (*adapterData, error) {
	ctx := cmd.Context()
	switch {
	case data != "" && evaluate.IsBEIR(data):
		ds, err := evaluate.LoadBEIR(data, f.split)
		if err != nil {
			return nil, err
		}
		tok, err := chunk.NewTiktokenCounter("cl100k_base")
		if err != nil {
			return nil, err
		}
		bar := a.bar("indexing " + ds.Name)
		st, _, err := evaluate.ScratchStore(ctx, a.cacheDir("eval"), ds, cfg.Chunk, tok, e, bar.update, a.scratchAttach(cfg))
		bar.done()
		if err != nil {
			return nil, err
		}
		var qs []adapter.Labelled
		for _, q := range ds.Queries {
			qs = append(qs, adapter.Labelled{ID: q.ID, Text: q.Text, Relevant: ds.Qrels[q.ID]})
		}
		return &adapterData{"beir:" + ds.Name, st, qs}, nil
	case data != "":
		if info, err := os.Stat(data); err != nil || info.IsDir() {
			return nil, usageError{fmt.Errorf("%s: want a BEIR directory (with queries.jsonl) or a QA .jsonl file", data)}
		}
		items, err := evaluate.LoadQA(data)
		if err != nil {
			return nil, err
		}
		st, _, _, err := a.qaStore(cmd, cfg, f.corpus, f.split, retrieve.Dense)
		if err != nil {
			return nil, err
		}
		var qs []adapter.Labelled
		for _, it := range items {
			if !it.ShouldAnswer() || len(it.GoldDocIDs) == 0 {
				continue
			}
			rel := map[string]int{}
			for _, d := range it.GoldDocIDs {
				rel[d] = 1
			}
			qs = append(qs, adapter.Labelled{ID: it.ID, Text: it.Question, Relevant: rel})
		}
		return &adapterData{"qa:" + data, st, qs}, nil
	}
	st, err := a.openStore(cmd, cfg)
	if err != nil {
		return nil, err
	}
	if f.enable || f.disable || f.status {
		return &adapterData{name: "store", st: st}, nil
	}
	qs, err := a.syntheticQuestions(ctx, st, f.synthetic, f.seed)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &adapterData{"synthetic:" + cfg.StoreDir(), st, qs}, nil
}

// syntheticQuestions draws n pseudo-questions from the store's chunks.
func (a *app) syntheticQuestions(ctx context.Context, st *store.Store, n int, seed uint64) ([]adapter.Labelled, error) {
	docs, err := st.Documents(ctx, "")
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(docs))
	for i, d := range docs {
		paths[i] = d.Path
	}
	return adapter.Synthetic(ctx, st, paths, n, seed)
}

// heldOutFigures scores the held-out questions, dense and hybrid, with
// the base embedder and with the adapter.
func (a *app) heldOutFigures(ctx context.Context, cfg config.Config, st *store.Store, e embed.Embedder, ad *adapter.Adapter, held []adapter.Labelled) (map[string]float64, map[string]float64, error) {
	before, after := map[string]float64{}, map[string]float64{}
	if len(held) == 0 {
		return before, after, nil
	}
	ds := &evaluate.Dataset{Name: "held-out", Qrels: evaluate.Qrels{}}
	for _, q := range held {
		ds.Queries = append(ds.Queries, evaluate.Query{ID: q.ID, Text: q.Text})
		ds.Qrels[q.ID] = q.Relevant
	}
	metrics := []evaluate.Metric{{Name: "ndcg", K: 10}, {Name: "recall", K: 100}, {Name: "mrr", K: 10}}
	e = &memoEmbedder{Embedder: e, seen: map[string][]float32{}} // four passes, one embedding per question
	for _, mode := range []retrieve.Mode{retrieve.Dense, retrieve.Hybrid} {
		for _, side := range []struct {
			out map[string]float64
			emb embed.Embedder
		}{{before, e}, {after, ad.Wrap(e)}} {
			r := &retrieve.Retriever{Store: st, Embedder: side.emb, Fusion: cfg.Retrieve.FusionSettings()}
			res, err := evaluate.EvaluateRetrieval(ctx, ds, r, evaluate.RetrievalOptions{Mode: mode, Depth: 100, Metrics: metrics})
			if err != nil {
				return nil, nil, err
			}
			for k, v := range res.Metrics {
				side.out[string(mode)+" "+k] = v
			}
		}
	}
	return before, after, nil
}

func (a *app) adapterToggle(ctx context.Context, st *store.Store, f embeddingsFlags) error {
	ad, err := adapter.Load(ctx, st)
	if err != nil {
		return err
	}
	if ad == nil {
		return errors.New("no query adapter in this store: train one with `ragtune tune embeddings`")
	}
	if f.enable || f.disable {
		ad.Enabled = f.enable
		if err := adapter.Save(ctx, st, ad); err != nil {
			return err
		}
	}
	return a.printAdapter(ad, st.Dir(), 0)
}

func (a *app) printAdapter(ad *adapter.Adapter, dir string, took time.Duration) error {
	if a.jsonOut {
		return a.printJSON(map[string]any{"store": dir, "embedder": ad.Embedder, "dim": ad.Dim, "enabled": ad.Enabled,
			"fingerprint": ad.Fingerprint(), "trained_at": ad.TrainedAt, "report": ad.Report, "seconds": took.Seconds()})
	}
	r := ad.Report
	state := "ENABLED"
	if !ad.Enabled {
		state = "stored but OFF"
	}
	fmt.Fprintf(a.stdout, "Query adapter %s for %s (%d-d): %s\n", ad.Fingerprint(), ad.Embedder, ad.Dim, state)
	fmt.Fprintf(a.stdout, "  trained on %d pairs (%d for model selection) from %s", r.TrainPairs, r.ValidPairs, r.Source)
	if took > 0 {
		fmt.Fprintf(a.stdout, " in %.1fs", took.Seconds())
	}
	fmt.Fprintf(a.stdout, "\n  held-out questions: %d (never trained on)\n\n", r.HeldOutQueries)
	fmt.Fprintf(a.stdout, "  %-22s %8s %8s %8s\n", "held-out metric", "before", "after", "change")
	for _, k := range sortedMetricKeys(r.Before) {
		fmt.Fprintf(a.stdout, "  %-22s %8.4f %8.4f %+8.4f\n", k, r.Before[k], r.After[k], r.After[k]-r.Before[k])
	}
	if !ad.Enabled && len(r.Before) > 0 {
		fmt.Fprintf(a.stdout, "\n  It did not improve held-out %s (the project's retrieve.mode), so it stays off (--enable to use it anyway).\n", r.DecidedBy)
	}
	return nil
}

func sortedMetricKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // "dense …" before "hybrid …"
	return keys
}

// memoEmbedder remembers the vectors it made, so the same questions
// scored in several passes are embedded once.
type memoEmbedder struct {
	embed.Embedder
	mu   sync.Mutex
	seen map[string][]float32
}

func (m *memoEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]float32, len(texts))
	var missing []string
	for i, t := range texts {
		if v, ok := m.seen[t]; ok {
			out[i] = v
		} else {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	vecs, err := m.Embedder.Embed(ctx, missing)
	if err != nil {
		return nil, err
	}
	for i, t := range missing {
		m.seen[t] = vecs[i]
	}
	for i, t := range texts {
		out[i] = m.seen[t]
	}
	return out, nil
}
