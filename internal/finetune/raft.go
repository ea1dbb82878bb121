package finetune

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Passage is a retrieved chunk offered as context in a training example.
type Passage struct {
	Source string
	Text   string
}

// Search retrieves up to k passages for a question.
type Search func(ctx context.Context, question string, k int) ([]Passage, error)

// RAFTOptions shape retrieval-augmented training examples.
type RAFTOptions struct {
	K        int     // passages per example
	LeaveOut float64 // share of examples whose relevant passage is left out (the answer then declines)
	Seed     uint64
}

// WithContext rewrites examples in the RAFT pattern: the last user turn
// becomes numbered passages (the one that best supports the answer plus
// distractors, in random order) and the question; the answer cites the
// relevant passage. For a share of examples the relevant passage is left
// out and the answer becomes the refusal, so the model learns to decline
// when the context lacks the answer. Examples whose retrieval finds
// nothing supporting their answer are left unchanged and counted.
func WithContext(ctx context.Context, exs []Example, search Search, o RAFTOptions) ([]Example, int, error) {
	if o.K < 2 {
		o.K = 4
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x4af7))
	out := make([]Example, 0, len(exs))
	unsupported := 0
	for _, ex := range exs {
		q, a := lastTurn(ex, "user"), lastTurn(ex, "assistant")
		if q < 0 || a < 0 || a < q {
			out = append(out, ex)
			continue
		}
		question, ans := ex.Messages[q].Content, ex.Messages[a].Content
		found, err := search(ctx, question, o.K+1)
		if err != nil {
			return nil, 0, fmt.Errorf("retrieving context for line %d: %w", ex.Line, err)
		}
		best, bestSup := -1, 0.0
		for i, p := range found {
			if s := lexical.Support(p.Text, ans); s > bestSup {
				best, bestSup = i, s
			}
		}
		if best < 0 || bestSup < 0.5 {
			unsupported++
			out = append(out, ex)
			continue
		}
		relevant := found[best]
		distractors := append(append([]Passage{}, found[:best]...), found[best+1:]...)
		leaveOut := r.Float64() < o.LeaveOut
		var passages []Passage
		if leaveOut {
			passages = distractors[:min(o.K, len(distractors))]
		} else {
			passages = append([]Passage{relevant}, distractors[:min(o.K-1, len(distractors))]...)
		}
		r.Shuffle(len(passages), func(i, j int) { passages[i], passages[j] = passages[j], passages[i] })
		cite := 0
		var b strings.Builder
		b.WriteString("Context passages:\n\n")
		for i, p := range passages {
			fmt.Fprintf(&b, "[%d] (%s)\n%s\n\n", i+1, p.Source, strings.TrimSpace(p.Text))
			if !leaveOut && p == relevant {
				cite = i + 1
			}
		}
		fmt.Fprintf(&b, "Question: %s", question)
		n := Example{Line: ex.Line, Messages: append([]Message{}, ex.Messages...)}
		n.Messages[q] = Message{Role: "user", Content: b.String()}
		if leaveOut {
			n.Messages[a] = Message{Role: "assistant", Content: answer.Declined}
		} else {
			n.Messages[a] = Message{Role: "assistant", Content: strings.TrimSpace(ans) + fmt.Sprintf(" [%d]", cite)}
		}
		out = append(out, n)
	}
	return out, unsupported, nil
}

func lastTurn(ex Example, role string) int {
	for i := len(ex.Messages) - 1; i >= 0; i-- {
		if ex.Messages[i].Role == role {
			return i
		}
	}
	return -1
}
