package testset

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/answer"
)

// Estimate is what a model generation is expected to cost, before it runs.
type Estimate struct {
	Calls        int     `json:"calls"`     // expected
	MaxCalls     int     `json:"max_calls"` // the most it can make
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	USD          float64 `json:"usd"`
	MaxUSD       float64 `json:"max_usd"`
	// ChunkTokens is the mean chunk length the estimate is based on.
	ChunkTokens float64 `json:"chunk_tokens"`
}

// Per-call figures of the model writer's prompts: instructions and
// framing, the reply, and the share of passages that yield a kept item
// (a reasonable model's replies pass the checks most of the time).
const (
	promptOverheadTokens = 200
	replyTokens          = 80
	keptPerCall          = 0.75
	sampleDocs           = 30
)

// EstimateCost prices a model generation of opts from the mean chunk
// length of a sample of src's documents.
func EstimateCost(ctx context.Context, src Source, opts Options, price answer.Price) (Estimate, error) {
	docs, err := src.Documents(ctx, opts.PathPrefix)
	if err != nil {
		return Estimate{}, fmt.Errorf("listing documents: %w", err)
	}
	var tokens, n int
	for _, d := range docs[:min(sampleDocs, len(docs))] {
		doc, err := src.Document(ctx, d.Path)
		if err != nil {
			return Estimate{}, fmt.Errorf("reading %s: %w", d.Path, err)
		}
		for _, c := range doc.Chunks {
			tokens += c.Tokens
			n++
		}
	}
	e := Estimate{}
	if n > 0 {
		e.ChunkTokens = float64(tokens) / float64(n)
	}
	size := max(opts.Size, 1)
	pairs := float64(size) * opts.PairShare
	unans := float64(size) * opts.UnanswerableShare / 2 // half are model-written, at two calls each
	single := float64(size)
	expected := (single+pairs)/keptPerCall + 2*unans/keptPerCall
	e.Calls = int(expected + 0.5)
	e.MaxCalls = int((single + pairs + 2*unans) * passagesPerItem)
	perCallIn := promptOverheadTokens + e.ChunkTokens*1.3 // pairs send two chunks; verifications k passages
	e.InputTokens = int(float64(e.Calls) * perCallIn)
	e.OutputTokens = e.Calls * replyTokens
	e.USD = price.Cost(e.InputTokens, e.OutputTokens)
	e.MaxUSD = price.Cost(int(float64(e.MaxCalls)*perCallIn), e.MaxCalls*replyTokens)
	return e, nil
}
