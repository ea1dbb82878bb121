package project

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// RAFT rewrites fine-tuning examples with context retrieved from the
// project's corpus in its configured mode: the relevant passage among
// distractors, and a share without it answered with the refusal. The
// note says how many examples were kept without context.
func (p *Project) RAFT(ctx context.Context, exs []finetune.Example, o finetune.RAFTOptions) ([]finetune.Example, string, error) {
	mode, err := p.cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, "", err
	}
	r, err := p.Retriever(ctx, mode)
	if err != nil {
		return nil, "", err
	}
	search := func(ctx context.Context, q string, n int) ([]finetune.Passage, error) {
		hits, err := r.Search(ctx, retrieve.Query{Text: q, K: n, Mode: mode})
		var out []finetune.Passage
		for _, h := range hits {
			src := h.DocPath
			if h.Heading != "" {
				src += " > " + h.Heading
			}
			out = append(out, finetune.Passage{Source: src, Text: h.Text})
		}
		return out, err
	}
	out, unsupported, err := finetune.WithContext(ctx, exs, search, o)
	if err != nil {
		return nil, "", err
	}
	note := ""
	if unsupported > 0 {
		note = fmt.Sprintf("%d example(s) kept without context: no retrieved passage supports their answer", unsupported)
	}
	return out, note, nil
}
