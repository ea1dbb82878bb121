package testset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// PromptVersion names the model writer's prompts; it is recorded with
// every item it writes. Change it when a prompt changes.
const PromptVersion = "2026-12-06.1"

const singlePrompt = `You write test questions for a question-answering system over a team's documents.
From the passage, write ONE question a user of these documents could ask, answered by the passage.
Rules: the question must make sense on its own, without seeing the passage (never "according to the text", "in this passage", "the author"); it must not contain its answer; the answer is short (a name, number, phrase or one sentence); "quote" is copied verbatim from the passage, a sentence or less, and contains the answer.
Reply with JSON only: {"question": "...", "answer": "...", "quote": "..."}`

const pairPrompt = `You write test questions for a question-answering system over a team's documents.
Two passages of one document follow. Write ONE question that needs BOTH passages to answer: combine a fact from passage 1 with a fact from passage 2.
Rules: the question must make sense on its own (never "according to the text", "passage 1"); it must not contain its answer; "quote1" is copied verbatim from passage 1 and "quote2" from passage 2, each a sentence or less.
Reply with JSON only: {"question": "...", "answer": "...", "quote1": "...", "quote2": "..."}`

const offPrompt = `You write test questions for a question-answering system over a team's documents.
Write ONE question on the topic of the passage that a user would plausibly ask but that the passage does NOT answer: it asks for a specific fact (a number, name, date, reason or step) the passage does not give. It must make sense on its own (never "according to the text").
Reply with JSON only: {"question": "..."}`

const verifyPrompt = `Decide whether any of the numbered passages answers the question. Answer true only if a passage states the answer; related information is not enough.
Reply with JSON only: {"answered": true|false, "passage": n or 0}`

// Searcher finds the corpus' passages for a question, to verify that an
// unanswerable question is answered by none of them.
type Searcher func(ctx context.Context, question string) ([]corpus.Hit, error)

// ModelConfig configures the model writer.
type ModelConfig struct {
	LLM    answer.LLMConfig
	Getenv func(string) string
	Price  answer.Price
	// Search is the project's retriever; without it the writer writes no
	// off-passage unanswerable questions (swapped-entity twins still come).
	Search Searcher
	// MaxCostUSD stops the generation once its spending reaches it (0: no limit).
	MaxCostUSD float64
}

// Model writes questions with a chat model behind an OpenAI-compatible
// endpoint, one passage (or pair) per call, the reply in JSON mode.
type Model struct {
	cfg    ModelConfig
	client openai.Client

	mu       sync.Mutex
	usage    Usage
	failures int     // calls failed in a row
	reserved float64 // worst cost of the calls under way
}

// Usage is what the model writer has spent.
type Usage struct {
	Calls            int     `json:"calls"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	// Unmetered calls came back without token counts: their cost is unknown.
	Unmetered int `json:"unmetered_calls,omitempty"`
}

// ErrNoModel means no chat model endpoint is configured.
var ErrNoModel = errors.New("no chat model configured")

// ErrNoPrice means a cost limit was asked for a model without a price.
var ErrNoPrice = errors.New("unknown price")

// ErrBudget means the generation reached its cost limit.
var ErrBudget = errors.New("the generation reached its cost limit")

// NewModel configures the client; no request is made.
func NewModel(cfg ModelConfig) (*Model, error) {
	if cfg.LLM.BaseURL == "" || cfg.LLM.Model == "" {
		return nil, fmt.Errorf("%w: the model question writer needs a base_url and a model", ErrNoModel)
	}
	if cfg.MaxCostUSD > 0 && cfg.Price == (answer.Price{}) {
		return nil, fmt.Errorf("%w: no price is known for model %q, so a cost limit cannot be kept", ErrNoPrice, cfg.LLM.Model)
	}
	llm := cfg.LLM
	client := answer.NewClient(answer.ClientConfig{BaseURL: llm.BaseURL, APIKeyEnv: llm.APIKeyEnv, TimeoutSec: llm.TimeoutSec, MaxRetries: llm.MaxRetries}, cfg.Getenv)
	return &Model{cfg: cfg, client: client}, nil
}

// ID names the model and the prompts' version.
func (m *Model) ID() string { return "llm:" + m.cfg.LLM.Model + "/" + PromptVersion }

// Usage is what the writer has spent so far.
func (m *Model) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usage
}

// Write asks for one single-passage question.
func (m *Model) Write(ctx context.Context, p Passage) ([]Candidate, error) {
	var r struct{ Question, Answer, Quote string }
	if err := m.ask(ctx, singlePrompt, passageText(p), &r); err != nil {
		return nil, err
	}
	return []Candidate{{Question: r.Question, Answer: r.Answer, Quote: r.Quote, Kind: evaluate.KindAnswerable, Method: "llm"}}, nil
}

// WritePair asks for one question that needs both passages.
func (m *Model) WritePair(ctx context.Context, p Passage) ([]Candidate, error) {
	var r struct{ Question, Answer, Quote1, Quote2 string }
	if err := m.ask(ctx, pairPrompt, passageText(p), &r); err != nil {
		return nil, err
	}
	// One line a passage: a quote's own line breaks become spaces.
	q1, q2 := strings.Join(strings.Fields(r.Quote1), " "), strings.Join(strings.Fields(r.Quote2), " ")
	return []Candidate{{Question: r.Question, Answer: r.Answer, Quote: q1 + "\n" + q2, Kind: KindTwoPassage, Method: "llm_pair"}}, nil
}

// WriteUnanswerable asks for a question near the passage's topic that the
// passage does not answer, then has the model check the corpus' top
// passages for that question: it is kept only when none answers it.
func (m *Model) WriteUnanswerable(ctx context.Context, p Passage) ([]Candidate, error) {
	if m.cfg.Search == nil {
		return nil, nil
	}
	var r struct{ Question string }
	if err := m.ask(ctx, offPrompt, passageText(p), &r); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Question) == "" {
		return nil, nil
	}
	hits, err := m.cfg.Search(ctx, r.Question)
	if err != nil {
		return nil, fmt.Errorf("searching the corpus for %q: %w", r.Question, err)
	}
	if len(hits) == 0 {
		// Nothing to check against: not verified, so not kept.
		return []Candidate{{Question: r.Question, Kind: KindOffPassage, Method: "llm_off_passage"}}, nil
	}
	var v struct {
		Answered bool `json:"answered"`
	}
	if err := m.ask(ctx, verifyPrompt, verifyText(r.Question, hits), &v); err != nil {
		return nil, err
	}
	c := Candidate{Question: r.Question, Kind: KindOffPassage, Method: "llm_off_passage"}
	if !v.Answered {
		c.Verified = fmt.Sprintf("the model found no answer in the corpus' top %d passages", len(hits))
	}
	return []Candidate{c}, nil
}

func passageText(p Passage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Document: %s\n", p.Doc.Path)
	for i, c := range p.Chunks {
		if len(p.Chunks) > 1 {
			fmt.Fprintf(&b, "\nPassage %d", i+1)
		} else {
			b.WriteString("\nPassage")
		}
		if c.Heading != "" {
			fmt.Fprintf(&b, " (section: %s)", c.Heading)
		}
		fmt.Fprintf(&b, ":\n%s\n", c.Text)
	}
	return b.String()
}

func verifyText(q string, hits []corpus.Hit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Question: %s\n", q)
	for i, h := range hits {
		fmt.Fprintf(&b, "\n[%d] %s\n", i+1, h.Text)
	}
	return b.String()
}

// ask makes one JSON-mode call and decodes the reply into v. A reply
// that is not the JSON asked for is an error for that passage.
func (m *Model) ask(ctx context.Context, system, user string, v any) error {
	// The most this call can cost: its prompt (at most a token per three
	// bytes) and a reply at the token limit. Reserved while it runs, so
	// calls made at once cannot overrun the budget together.
	worst := m.cfg.Price.Cost(len(system+user)/3+20, replyTokenLimit)
	if err := m.reserve(worst); err != nil {
		return err
	}
	defer m.release(worst)
	resp, err := m.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:          m.cfg.LLM.Model,
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage(user)},
		Temperature:    openai.Float(0),
		MaxTokens:      openai.Int(replyTokenLimit),
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
	})
	if err != nil {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != 429 {
			// A bad key, an unknown model, JSON mode unsupported: every
			// call would fail the same way.
			return Fatal{fmt.Errorf("the chat model refused the request: %w", err)}
		}
		return m.failed(fmt.Errorf("asking the chat model: %w", err))
	}
	m.count(resp.Usage)
	if len(resp.Choices) == 0 {
		return m.failed(errors.New("the chat model returned no choices"))
	}
	if err := json.Unmarshal([]byte(jsonObject(resp.Choices[0].Message.Content)), v); err != nil {
		return m.failed(fmt.Errorf("the chat model's reply is not the JSON asked for: %w", err))
	}
	m.mu.Lock()
	m.failures = 0
	m.mu.Unlock()
	return nil
}

// jsonObject is the reply from its first { to its last }, so that a code
// fence or a sentence around the object does not spoil it.
func jsonObject(s string) string {
	i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if i < 0 || j < i {
		return s
	}
	return s[i : j+1]
}

// failed counts a failed call; after maxFailures in a row the endpoint is
// taken to be down and the generation stops.
func (m *Model) failed(err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures++
	if m.failures >= maxFailures {
		return Fatal{fmt.Errorf("%d calls in a row failed, the last: %w", m.failures, err)}
	}
	return err
}

// Bounds of the model writer: a reply's tokens (its JSON is short) and
// failed calls in a row before it gives up.
const (
	replyTokenLimit = 400
	maxFailures     = 10
)

func (m *Model) count(u openai.CompletionUsage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage.Calls++
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		m.usage.Unmetered++
	}
	m.usage.PromptTokens += int(u.PromptTokens)
	m.usage.CompletionTokens += int(u.CompletionTokens)
	m.usage.CostUSD += m.cfg.Price.Cost(int(u.PromptTokens), int(u.CompletionTokens))
}

// reserve sets aside a call's worst cost, or stops the generation when
// that would pass the limit.
func (m *Model) reserve(worst float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.MaxCostUSD > 0 && m.usage.CostUSD+m.reserved+worst > m.cfg.MaxCostUSD {
		return Fatal{fmt.Errorf("%w ($%.4f spent of $%.4f; the next call could cost up to $%.4f)", ErrBudget, m.usage.CostUSD, m.cfg.MaxCostUSD, worst)}
	}
	m.reserved += worst
	return nil
}

func (m *Model) release(worst float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reserved -= worst
}
