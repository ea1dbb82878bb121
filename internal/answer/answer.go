// Package answer turns retrieved chunks into an answer with citations, or
// a reasoned refusal. Generators stream Events so that a server can
// forward tokens and citations as soon as they exist; Collect gathers a
// stream into a Result for callers that want the whole answer.
package answer

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// Declined is the exact answer given when the context does not cover the
// question.
const Declined = "I do not have information about that."

// Abstain reasons.
const (
	ReasonNoResults         = "no_results"
	ReasonLowRetrievalScore = "low_retrieval_score"
	ReasonUnsupportedAnswer = "unsupported_answer"
	ReasonModelDeclined     = "model_declined"
)

// Request is a question with its retrieved context, numbered from 1 in
// slice order.
type Request struct {
	Question string
	Hits     []retrieve.Hit
	// ClosedBook asks the model alone, without passages: the no-RAG arms
	// of a comparison. Generators that only quote passages decline.
	ClosedBook bool
	// History is the conversation before Question, oldest first. A chat
	// model sees the most recent turns that fit its budget; the built-in
	// answerer judges the question with the subject earlier user turns
	// give it (see package conversation), its own words weighing more.
	History []conversation.Turn
}

// EventType names what an Event carries.
type EventType string

const (
	EventToken    EventType = "token"
	EventCitation EventType = "citation"
	EventAbstain  EventType = "abstain"
	EventUsage    EventType = "usage"
	// EventAssessment carries the built-in answerer's judgement of the
	// context, before the answer.
	EventAssessment EventType = "assessment"
	EventDone       EventType = "done"
	EventError      EventType = "error"
)

// Event is one step of a streamed answer.
type Event struct {
	Type     EventType `json:"type"`
	Text     string    `json:"text,omitempty"`     // token
	Citation *Citation `json:"citation,omitempty"` // citation
	Reason   string    `json:"reason,omitempty"`   // abstain
	Usage    *Usage    `json:"usage,omitempty"`    // usage
	// assessment
	Assessment *Assessment `json:"assessment,omitempty"`
	Error      string      `json:"error,omitempty"` // error
}

// Usage counts what an answer cost.
type Usage struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	// CitationsDropped counts citations removed because their passage
	// did not support the sentence.
	CitationsDropped int `json:"citations_dropped"`
}

// Assessment is how well the retrieved context answers the question.
type Assessment struct {
	// Answerability is the calibrated probability that the best sentence
	// answers the question.
	Answerability float64 `json:"answerability"`
	// ShortAnswer is the span of that sentence that answers ("" when the
	// answer is declined).
	ShortAnswer string `json:"short_answer,omitempty"`
}

// Citation maps a marker [n] to the chunk it cites.
type Citation struct {
	N       int    `json:"n"`
	Doc     string `json:"doc"`
	ChunkID string `json:"chunk_id"`
	Heading string `json:"heading"`
	Lines   [2]int `json:"lines"`
}

// CitationFor builds the citation for context chunk n (1-based).
func CitationFor(n int, h retrieve.Hit) Citation {
	return Citation{N: n, Doc: h.DocPath, ChunkID: h.ID, Heading: h.Heading, Lines: [2]int{h.LineStart, h.LineEnd}}
}

// Generator writes answers.
type Generator interface {
	ID() string
	Generate(ctx context.Context, req Request) (<-chan Event, error)
}

// Result is a complete answer; its JSON form is part of the CLI contract.
type Result struct {
	Answer        string         `json:"answer"`
	Abstained     bool           `json:"abstained"`
	AbstainReason *string        `json:"abstain_reason"`
	Citations     []Citation     `json:"citations"`
	Retrieved     []retrieve.Hit `json:"retrieved"`
	Usage         *Usage         `json:"usage,omitempty"`
	Generator     string         `json:"generator"`
	// Answerability and ShortAnswer come from generators that judge the
	// context (the built-in answerer); a chat model decides for itself.
	Answerability *float64 `json:"answerability,omitempty"`
	ShortAnswer   string   `json:"short_answer,omitempty"`
}

// Collector folds a stream into a Result one event at a time, for
// callers that forward the events as they come.
type Collector struct {
	r Result
	b strings.Builder
}

// Add takes one event; an error event is returned as an error.
func (c *Collector) Add(ev Event) error {
	switch ev.Type {
	case EventToken:
		c.b.WriteString(ev.Text)
	case EventCitation:
		c.r.Citations = append(c.r.Citations, *ev.Citation)
	case EventAbstain:
		reason := ev.Reason
		c.r.Abstained, c.r.AbstainReason = true, &reason
	case EventUsage:
		c.r.Usage = ev.Usage
	case EventAssessment:
		a := ev.Assessment.Answerability
		c.r.Answerability, c.r.ShortAnswer = &a, ev.Assessment.ShortAnswer
	case EventError:
		return fmt.Errorf("generating the answer: %s", ev.Error)
	}
	return nil
}

// Result is the answer so far: its text trimmed, citations in number
// order (the sources list follows the numbers).
func (c *Collector) Result() Result {
	r := c.r
	r.Answer = strings.TrimSpace(c.b.String())
	r.Citations = append([]Citation{}, c.r.Citations...)
	sort.SliceStable(r.Citations, func(i, j int) bool { return r.Citations[i].N < r.Citations[j].N })
	return r
}

// Collect drains a stream into a Result.
func Collect(ctx context.Context, events <-chan Event) (Result, error) {
	var c Collector
	for {
		select {
		case <-ctx.Done():
			return c.Result(), ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return c.Result(), nil
			}
			if err := c.Add(ev); err != nil {
				return c.Result(), err
			}
		}
	}
}

// Answer runs g on req and collects the result.
func Answer(ctx context.Context, g Generator, req Request) (Result, error) {
	events, err := g.Generate(ctx, req)
	if err != nil {
		return Result{}, err
	}
	r, err := Collect(ctx, events)
	r.Retrieved = req.Hits
	if r.Retrieved == nil {
		r.Retrieved = []retrieve.Hit{}
	}
	r.Generator = g.ID()
	return r, err
}

// WriteText writes the answer for a person: the text (a chat model's
// uncited sentences marked), the refusal reason or the sources.
func (res Result) WriteText(w io.Writer) {
	if res.Abstained {
		fmt.Fprintln(w, res.Answer)
		if res.Answerability != nil {
			fmt.Fprintf(w, "\n(declined: %s; answerability %.2f)\n", *res.AbstainReason, *res.Answerability)
		} else {
			fmt.Fprintf(w, "\n(declined: %s)\n", *res.AbstainReason)
		}
		return
	}
	// The built-in answerer only quotes cited sentences; a chat model's
	// sentence may cite nothing, or lose an unsupported citation.
	text, unsourced := res.Answer, 0
	if res.Generator != ExtractiveID {
		text, unsourced = MarkUnsourced(res.Answer)
	}
	fmt.Fprintln(w, text)
	if res.ShortAnswer != "" {
		fmt.Fprintf(w, "\nShort answer: %s", res.ShortAnswer)
		if res.Answerability != nil {
			fmt.Fprintf(w, "  (answerability %.2f)", *res.Answerability)
		}
		fmt.Fprintln(w)
	}
	if res.Usage != nil && res.Usage.CitationsDropped > 0 {
		fmt.Fprintf(w, "\n(%d citation(s) removed: their passages did not support the sentence)\n", res.Usage.CitationsDropped)
	}
	if unsourced > 0 {
		fmt.Fprintf(w, "(%d sentence(s) marked %s cite no passage: check them before relying on them)\n", unsourced, UnsourcedMark)
	}
	fmt.Fprintln(w, "\nSources:")
	for _, c := range res.Citations {
		where := fmt.Sprintf("%s:%d-%d", c.Doc, c.Lines[0], c.Lines[1])
		if c.Heading != "" {
			where += "  (" + c.Heading + ")"
		}
		fmt.Fprintf(w, "  [%d] %s\n", c.N, where)
	}
}
