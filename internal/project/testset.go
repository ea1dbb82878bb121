package project

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/testset"
)

// TestSetRequest asks for a generated QA test set from the project's corpus.
type TestSetRequest struct {
	Options testset.Options
	// Writer is "offline", "model", or "" for the chat model when one is
	// configured ([generate] provider = "openai") and offline otherwise.
	Writer string
	// Model overrides [generate.openai] model for the model writer.
	Model string
	// MaxCostUSD refuses (before any call) a model generation estimated to
	// cost more, and stops one whose spending reaches it; 0 means no limit.
	MaxCostUSD float64
}

// ErrUnknownWriter marks a writer name that is neither offline nor model.
var ErrUnknownWriter = errors.New("unknown question writer")

// TestSetRun is a generated set and what making it took.
type TestSetRun struct {
	Items  []evaluate.QAItem
	Report *testset.Report
	// Usage is the chat model's spending; nil for the offline writer.
	Usage *testset.Usage
}

// GenerateTestSet samples the project's passages and writes a QA test set
// of proposed items (see package testset).
func (p *Project) GenerateTestSet(ctx context.Context, req TestSetRequest) (*TestSetRun, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the corpus to generate from: %w", err)
	}
	w, err := p.questionWriter(req)
	if err != nil {
		return nil, err
	}
	items, rep, err := testset.Generate(ctx, c, w, req.Options)
	run := &TestSetRun{Items: items, Report: rep}
	if m, ok := w.(*testset.Model); ok {
		u := m.Usage()
		run.Usage = &u
	}
	if errors.Is(err, testset.ErrEmptyCorpus) {
		return run, fmt.Errorf("%w at %s: ingest documents first", err, p.cfg.StoreDir())
	}
	return run, err
}

// questionWriter picks the writer a request names.
func (p *Project) questionWriter(req TestSetRequest) (testset.Writer, error) {
	name := req.Writer
	if name == "" {
		name = "offline"
		if p.cfg.Generate.Provider == "openai" || req.Model != "" {
			name = "model"
		}
	}
	switch name {
	case "offline":
		return testset.Offline{Seed: req.Options.Seed}, nil
	case "model":
		return p.modelWriter(req)
	}
	return nil, fmt.Errorf("%w %q (offline or model)", ErrUnknownWriter, name)
}

// TestSetDir is where the project keeps its test sets (the server's
// review API lists the files there): testsets/ beside ragtune.toml.
func (p *Project) TestSetDir() string {
	return filepath.Join(p.cfg.Dir, "testsets")
}

// modelWriter is the chat-model question writer, with the project's
// retriever to verify unanswerable questions against the whole corpus.
func (p *Project) modelWriter(req TestSetRequest) (*testset.Model, error) {
	llm := p.cfg.Generate.OpenAI
	if req.Model != "" {
		llm.Model = req.Model
	}
	mode, err := p.cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, err
	}
	k := max(p.cfg.Retrieve.K, 5)
	search := func(ctx context.Context, q string) ([]corpus.Hit, error) {
		// The whole corpus, not only --path-prefix: the set is run against all of it.
		hits, err := p.Search(ctx, retrieve.Query{Text: q, K: k, Mode: mode})
		out := make([]corpus.Hit, len(hits))
		for i, h := range hits {
			out[i] = h.Hit
		}
		return out, err
	}
	return testset.NewModel(testset.ModelConfig{LLM: llm, Getenv: p.env.getenv, Price: p.price(llm.Model), Search: search, MaxCostUSD: req.MaxCostUSD})
}

// price is a model's price: the configured one, else the built-in table's.
func (p *Project) price(model string) answer.Price {
	if pr, ok := p.cfg.Prices[model]; ok {
		return pr
	}
	return answer.DefaultPrices()[model]
}

// EstimateTestSet prices a model generation before it runs.
func (p *Project) EstimateTestSet(ctx context.Context, req TestSetRequest) (testset.Estimate, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return testset.Estimate{}, fmt.Errorf("opening the corpus to estimate from: %w", err)
	}
	model := req.Model
	if model == "" {
		model = p.cfg.Generate.OpenAI.Model
	}
	return testset.EstimateCost(ctx, c, req.Options, p.price(model))
}

// UsesModel reports whether the request would be written by a chat model.
func (p *Project) UsesModel(req TestSetRequest) bool {
	w, err := p.questionWriter(req)
	if err != nil {
		return false
	}
	_, ok := w.(*testset.Model)
	return ok
}
