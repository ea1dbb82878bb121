package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/embed/adapter"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// AdapterRequest is one `tune embeddings` run.
type AdapterRequest struct {
	// Data is a BEIR directory, a QA file with gold_doc_ids, or "" for
	// synthetic questions drawn from the project's own chunks.
	Data      string
	Corpus    string // with a QA file: a BEIR directory to answer from
	Split     string
	HeldOut   float64 // share of questions never trained on
	Synthetic int     // without labelled data: synthetic questions to make
	Augment   int     // with labelled data: synthetic ones to add (<0: top up to 2000)
	Negatives int     // hard negatives per question
	Seed      uint64
	Train     adapter.Options
	Progress  Progress
}

// AdapterRun is a trained (or toggled) adapter and where it is kept.
type AdapterRun struct {
	Adapter  *adapter.Adapter
	StoreDir string
	Took     time.Duration
}

// ErrNotDataset means training data is neither a BEIR directory nor a
// QA file.
var ErrNotDataset = errors.New("want a BEIR directory (with queries.jsonl) or a QA .jsonl file")

// ErrNoAdapter means no query adapter has been trained in a store.
var ErrNoAdapter = errors.New("no query adapter in this store")

// adapterData is where the training questions and the index come from.
type adapterData struct {
	name    string
	src     *Project // p itself or a scratch index
	queries []adapter.Labelled
}

func (d *adapterData) close(p *Project) {
	if d.src != p {
		d.src.Close()
	}
}

// TuneAdapter trains a query adapter for the configured embedder from
// (question, relevant chunk) pairs, scores held-out questions before and
// after, dense and hybrid, with the same retriever settings as eval, and
// saves it in the store the questions were answered from, enabled only if
// it improved held-out nDCG@10 in the project's mode.
func (p *Project) TuneAdapter(ctx context.Context, req AdapterRequest) (*AdapterRun, error) {
	began := time.Now()
	e, err := p.Embedder(ctx)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("tune embeddings: %w", embed.ErrNoEmbedder)
	}
	d, err := p.adapterSource(ctx, req, false)
	if err != nil {
		return nil, err
	}
	defer d.close(p)
	c, err := d.src.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	if id, err := c.Identity(ctx); err != nil {
		return nil, err
	} else if id.Embedder != e.ID() || id.Dim != e.Dim() {
		return nil, fmt.Errorf("%w: the store holds %s vectors (dimension %d), the configured embedder is %s; ingest again first",
			corpus.ErrEmbedderMismatch, id.Embedder, id.Dim, e.ID())
	}
	ad, err := d.train(ctx, c, e, req)
	if err != nil {
		return nil, err
	}
	if ad.Report.Before, ad.Report.After, err = d.src.heldOutFigures(ctx, ad, d.heldOut(req)); err != nil {
		return nil, err
	}
	// Enabled only if it helps the mode this project searches with.
	decide := "dense ndcg@10"
	if p.cfg.Retrieve.Mode == string(retrieve.Hybrid) {
		decide = "hybrid ndcg@10"
	}
	ad.Report.DecidedBy = decide
	ad.Enabled = ad.Report.After[decide] > ad.Report.Before[decide]
	if err := adapter.Save(ctx, d.src.store, ad); err != nil {
		return nil, err
	}
	return &AdapterRun{Adapter: ad, StoreDir: d.src.store.Dir(), Took: time.Since(began)}, nil
}

// heldOut is the share of the questions never trained on.
func (d *adapterData) heldOut(req AdapterRequest) []adapter.Labelled {
	_, held := adapter.Split(d.queries, req.HeldOut, req.Seed)
	return held
}

// train builds the training and validation pairs and trains the adapter.
func (d *adapterData) train(ctx context.Context, c corpus.Corpus, e embed.Embedder, req AdapterRequest) (*adapter.Adapter, error) {
	trainQs, heldQs := adapter.Split(d.queries, req.HeldOut, req.Seed)
	fitQs, validQs := adapter.Split(trainQs, 0.1, req.Seed+1)
	augment := req.Augment
	if augment < 0 {
		// Measured on SciFact and Cranfield: a few hundred labelled
		// questions plus corpus sentences beat the labelled ones alone.
		augment = max(0, 2000-len(fitQs))
	}
	source := d.name
	if augment > 0 && !strings.HasPrefix(d.name, "synthetic:") {
		extra, err := syntheticQuestions(ctx, c, augment, req.Seed)
		if err != nil {
			return nil, err
		}
		fitQs = append(fitQs, extra...)
		source += fmt.Sprintf(" + %d synthetic", len(extra))
	}
	train, err := adapter.BuildPairs(ctx, c, e, fitQs, req.Negatives, req.Progress.stage("building training pairs"))
	if err != nil {
		return nil, err
	}
	valid, err := adapter.BuildPairs(ctx, c, e, validQs, req.Negatives, nil)
	if err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("no training pairs: none of the %d questions has a relevant document in the store", len(fitQs))
	}
	opts := req.Train
	opts.Seed = req.Seed
	if progress := req.Progress.stage("training"); progress != nil {
		opts.Progress = func(s adapter.EpochStat) { progress(s.Epoch, s.Epochs) }
	}
	ad, stats, err := adapter.Train(ctx, adapter.Identity(e.ID(), e.Dim()), train, valid, opts)
	if err != nil {
		return nil, err
	}
	ad.TrainedAt = time.Now().Unix()
	ad.Report = adapter.Report{Source: source, TrainPairs: len(train), ValidPairs: len(valid), HeldOutQueries: len(heldQs), Epochs: stats}
	return ad, nil
}

// ToggleAdapter switches the adapter stored where req's data points on or
// off (enable nil: leave it) and returns it.
func (p *Project) ToggleAdapter(ctx context.Context, req AdapterRequest, enable *bool) (*AdapterRun, error) {
	d, err := p.adapterSource(ctx, req, true)
	if err != nil {
		return nil, err
	}
	defer d.close(p)
	ad, err := adapter.Load(ctx, d.src.store)
	if err != nil {
		return nil, err
	}
	if ad == nil {
		return nil, ErrNoAdapter
	}
	if enable != nil {
		ad.Enabled = *enable
		if err := adapter.Save(ctx, d.src.store, ad); err != nil {
			return nil, err
		}
	}
	return &AdapterRun{Adapter: ad, StoreDir: d.src.store.Dir()}, nil
}

// adapterSource finds the questions and the index they are answered
// from; onlyStore skips making synthetic questions.
func (p *Project) adapterSource(ctx context.Context, req AdapterRequest, onlyStore bool) (*adapterData, error) {
	switch {
	case req.Data != "" && evaluate.IsBEIR(req.Data):
		ds, err := evaluate.LoadBEIR(req.Data, req.Split)
		if err != nil {
			return nil, err
		}
		s, err := p.OpenScratch(ctx, ScratchRequest{Dataset: ds, Mode: retrieve.Dense, Progress: req.Progress.stage("indexing " + ds.Name)})
		if err != nil {
			return nil, err
		}
		var qs []adapter.Labelled
		for _, q := range ds.Queries {
			qs = append(qs, adapter.Labelled{ID: q.ID, Text: q.Text, Relevant: ds.Qrels[q.ID]})
		}
		return &adapterData{"beir:" + ds.Name, s.Project, qs}, nil
	case req.Data != "":
		return p.qaAdapterSource(ctx, req)
	}
	if onlyStore {
		return &adapterData{name: "store", src: p}, nil
	}
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	qs, err := syntheticQuestions(ctx, c, req.Synthetic, req.Seed)
	if err != nil {
		return nil, err
	}
	return &adapterData{"synthetic:" + p.cfg.StoreDir(), p, qs}, nil
}

func (p *Project) qaAdapterSource(ctx context.Context, req AdapterRequest) (*adapterData, error) {
	if info, err := os.Stat(req.Data); err != nil || info.IsDir() {
		return nil, fmt.Errorf("%s: %w", req.Data, ErrNotDataset)
	}
	items, err := evaluate.LoadQA(req.Data)
	if err != nil {
		return nil, err
	}
	src, _, _, err := p.qaSource(ctx, QAEval{Corpus: req.Corpus, Split: req.Split, Progress: req.Progress}, retrieve.Dense)
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
	return &adapterData{"qa:" + req.Data, src, qs}, nil
}

// syntheticQuestions draws n pseudo-questions from the corpus's chunks.
func syntheticQuestions(ctx context.Context, c corpus.Corpus, n int, seed uint64) ([]adapter.Labelled, error) {
	docs, err := c.Documents(ctx, "")
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(docs))
	for i, d := range docs {
		paths[i] = d.Path
	}
	return adapter.Synthetic(ctx, c, paths, n, seed)
}

// heldOutFigures scores the held-out questions, dense and hybrid, with
// the base embedder and with the adapter, through the project's own
// retriever settings (fusion, MMR, quantisation), as eval would.
func (p *Project) heldOutFigures(ctx context.Context, ad *adapter.Adapter, held []adapter.Labelled) (map[string]float64, map[string]float64, error) {
	before, after := map[string]float64{}, map[string]float64{}
	if len(held) == 0 {
		return before, after, nil
	}
	ds := &evaluate.Dataset{Name: "held-out", Qrels: evaluate.Qrels{}}
	for _, q := range held {
		ds.Queries = append(ds.Queries, evaluate.Query{ID: q.ID, Text: q.Text})
		ds.Qrels[q.ID] = q.Relevant
	}
	e, err := p.Embedder(ctx)
	if err != nil {
		return nil, nil, err
	}
	e = embed.Memo(e) // four passes, one embedding per question
	metrics := []evaluate.Metric{{Name: "ndcg", K: 10}, {Name: "recall", K: 100}, {Name: "mrr", K: 10}}
	for _, mode := range []retrieve.Mode{retrieve.Dense, retrieve.Hybrid} {
		base, err := p.newRetriever(ctx, mode)
		if err != nil {
			return nil, nil, err
		}
		for _, side := range []struct {
			out map[string]float64
			emb embed.Embedder
		}{{before, e}, {after, ad.Wrap(e)}} {
			r := *base
			r.Embedder = side.emb
			res, err := evaluate.EvaluateRetrieval(ctx, ds, &r, evaluate.RetrievalOptions{Mode: mode, Depth: 100, Metrics: metrics})
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

// WriteText writes the adapter for a person: whether it is on, what it
// was trained on, and the held-out figures before and after.
func (run *AdapterRun) WriteText(w io.Writer) {
	ad := run.Adapter
	r := ad.Report
	state := "ENABLED"
	if !ad.Enabled {
		state = "stored but OFF"
	}
	fmt.Fprintf(w, "Query adapter %s for %s (%d-d): %s\n", ad.Fingerprint(), ad.Embedder, ad.Dim, state)
	fmt.Fprintf(w, "  trained on %d pairs (%d for model selection) from %s", r.TrainPairs, r.ValidPairs, r.Source)
	if run.Took > 0 {
		fmt.Fprintf(w, " in %.1fs", run.Took.Seconds())
	}
	fmt.Fprintf(w, "\n  held-out questions: %d (never trained on)\n\n", r.HeldOutQueries)
	fmt.Fprintf(w, "  %-22s %8s %8s %8s\n", "held-out metric", "before", "after", "change")
	for _, k := range evaluate.MetricNames(r.Before) {
		fmt.Fprintf(w, "  %-22s %8.4f %8.4f %+8.4f\n", k, r.Before[k], r.After[k], r.After[k]-r.Before[k])
	}
	if !ad.Enabled && len(r.Before) > 0 {
		fmt.Fprintf(w, "\n  It did not improve held-out %s (the project's retrieve.mode), so it stays off (--enable to use it anyway).\n", r.DecidedBy)
	}
}
