// Package judge grades answers with a chat model: correctness against
// gold answers, faithfulness of each claim to the passages cited, and a
// behaviour rubric the team writes. It speaks the OpenAI chat
// completions API (OpenAI, vLLM, llama.cpp server, Ollama's /v1), asks
// for a JSON reply at temperature 0, and rejects any reply that does not
// parse into a complete verdict: such an item is counted as an error,
// never scored.
package judge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/openai/openai-go/v3"
	"golang.org/x/sync/errgroup"

	"github.com/ragtune/ragtune/internal/answer"
)

// Config is the [judge] section of ragtune.toml. An empty Model turns
// judging off.
type Config struct {
	BaseURL string `toml:"base_url"`
	Model   string `toml:"model"`
	// APIKeyEnv names the environment variable that holds the key.
	APIKeyEnv string `toml:"api_key_env"`
	// Rubric is the behaviour rubric inline, one criterion a line;
	// RubricFile names a file holding it. At most one of them is set.
	Rubric     string `toml:"rubric"`
	RubricFile string `toml:"rubric_file"`
	// MaxItems caps the questions judged, spread evenly over the set
	// (0: every question).
	MaxItems    int `toml:"max_items"`
	Concurrency int `toml:"concurrency"`
	TimeoutSec  int `toml:"timeout_seconds"`
	MaxRetries  int `toml:"max_retries"`
	MaxTokens   int `toml:"max_tokens"`
	// ResponseFormat is json_schema (structured outputs, strict) or
	// json_object (JSON mode) for servers without schema support.
	ResponseFormat string `toml:"response_format"`
}

// Response formats.
const (
	FormatJSONSchema = "json_schema"
	FormatJSONObject = "json_object"
)

// DefaultConfig fills what a user usually leaves out.
func DefaultConfig() Config {
	return Config{Concurrency: 4, TimeoutSec: 60, MaxRetries: 4, MaxTokens: 1024, ResponseFormat: FormatJSONSchema}
}

// Enabled reports whether a judge model is configured.
func (c Config) Enabled() bool { return c.Model != "" }

// Validate checks the settings a run would otherwise trip over.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	switch {
	case c.BaseURL == "":
		return errors.New("judge.model is set but judge.base_url is empty (and so is generate.openai.base_url)")
	case c.Rubric != "" && c.RubricFile != "":
		return errors.New("judge.rubric and judge.rubric_file are both set; keep one")
	case c.ResponseFormat != "" && c.ResponseFormat != FormatJSONSchema && c.ResponseFormat != FormatJSONObject:
		return fmt.Errorf("judge.response_format = %q; want json_schema or json_object", c.ResponseFormat)
	case c.MaxItems < 0 || c.Concurrency < 0:
		return errors.New("judge.max_items and judge.concurrency cannot be negative")
	}
	return nil
}

// Judge grades answers with a chat model.
type Judge struct {
	cfg    Config
	client openai.Client
	price  answer.Price
	rubric Rubric
}

// Options are what New needs besides the settings.
type Options struct {
	Getenv func(string) string
	Prices map[string]answer.Price
	Rubric Rubric
}

// New configures the client; no request is made.
func New(cfg Config, o Options) (*Judge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("no judge model configured")
	}
	d := DefaultConfig()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = d.Concurrency
	}
	if cfg.ResponseFormat == "" {
		cfg.ResponseFormat = d.ResponseFormat
	}
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = answer.DefaultLLMConfig().APIKeyEnv
	}
	client := answer.NewClient(answer.ClientConfig{BaseURL: cfg.BaseURL, APIKeyEnv: cfg.APIKeyEnv, TimeoutSec: cfg.TimeoutSec, MaxRetries: cfg.MaxRetries}, o.Getenv)
	return &Judge{cfg: cfg, client: client, price: o.Prices[cfg.Model], rubric: o.Rubric}, nil
}

// Model is the judge model's name.
func (j *Judge) Model() string { return j.cfg.Model }

// MaxItems is how many questions to judge at most (0: all).
func (j *Judge) MaxItems() int { return j.cfg.MaxItems }

// Rubric is the behaviour rubric the judge applies (empty: none).
func (j *Judge) Rubric() Rubric { return j.rubric }

// Item is one answered question to judge.
type Item struct {
	Question string
	// Gold answers; empty: correctness is not judged.
	Gold []string
	// Declined: the answerer declined, so there are no claims to check
	// and a gold answer was not given (correctness 0 without a call).
	Declined bool
	Answer   string
	// Passages the claims are checked against; empty: faithfulness is
	// not judged.
	Passages []Passage
}

// Passage is a numbered passage as the answer cites it.
type Passage struct {
	N    int
	Text string
}

// Verdict is everything the judge said about one item. A nil part was
// not judged, or failed (then Errors says why).
type Verdict struct {
	Correctness  *Correctness `json:"correctness,omitempty"`
	Claims       []Claim      `json:"claims,omitempty"`
	Faithfulness *float64     `json:"faithfulness,omitempty"`
	Rubric       []Criterion  `json:"rubric,omitempty"`
	RubricPass   *bool        `json:"rubric_pass,omitempty"`
	Errors       []string     `json:"errors,omitempty"`
	Usage        Usage        `json:"-"`
}

// Correctness is the grade of an answer against the gold answers:
// 1 correct, 0.5 partially correct, 0 incorrect.
type Correctness struct {
	Grade  float64 `json:"grade"`
	Label  string  `json:"label"`
	Reason string  `json:"reason"`
	// Called is false when the grade was given without asking the model
	// (a declined answer scores 0).
	Called bool `json:"called"`
}

// Claim is one atomic claim of an answer and whether a passage
// supports it (Passage names it, 0 when none does).
type Claim struct {
	Text      string `json:"claim"`
	Supported bool   `json:"supported"`
	Passage   int    `json:"passage"`
}

// Criterion is the verdict on one rubric criterion.
type Criterion struct {
	ID     string `json:"id"`
	Pass   bool   `json:"pass"`
	Reason string `json:"reason"`
}

// Usage counts what judging cost.
type Usage struct {
	Calls            int
	PromptTokens     int
	CompletionTokens int
	CostUSD          float64
}

func (u *Usage) add(o Usage) {
	u.Calls += o.Calls
	u.PromptTokens += o.PromptTokens
	u.CompletionTokens += o.CompletionTokens
	u.CostUSD += o.CostUSD
}

// Grade judges one item: each part that applies, in turn. It fails only
// when ctx ends or the endpoint refuses the judge outright (bad key,
// unknown model); a reply that does not parse, or a call that failed
// after its retries, is recorded in Verdict.Errors.
func (j *Judge) Grade(ctx context.Context, it Item) (Verdict, error) {
	var v Verdict
	for _, task := range j.tasks(it) {
		if err := task(ctx, it, &v); err != nil {
			if fatal(ctx, err) {
				return v, err
			}
			v.Errors = append(v.Errors, err.Error())
		}
	}
	return v, nil
}

type task func(ctx context.Context, it Item, v *Verdict) error

func (j *Judge) tasks(it Item) []task {
	var ts []task
	if len(it.Gold) > 0 {
		ts = append(ts, j.correctness)
	}
	if !it.Declined && len(it.Passages) > 0 {
		ts = append(ts, j.faithfulness)
	}
	if len(j.rubric.Criteria) > 0 {
		ts = append(ts, j.behaviour)
	}
	return ts
}

// fatal errors end the whole run: the context ended, or the endpoint
// will refuse every call alike.
func fatal(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return true
		}
	}
	return false
}

// GradeAll judges items with at most the configured number of calls in
// flight; verdicts come back in item order. progress, if set, is called
// after each item.
func (j *Judge) GradeAll(ctx context.Context, items []Item, progress func(done, total int)) ([]Verdict, error) {
	out := make([]Verdict, len(items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(j.cfg.Concurrency)
	var mu sync.Mutex
	done := 0
	for i, it := range items {
		g.Go(func() error {
			v, err := j.Grade(gctx, it)
			if err != nil {
				return fmt.Errorf("judge %s: %w", j.cfg.Model, err)
			}
			out[i] = v
			if progress != nil {
				mu.Lock()
				done++
				progress(done, len(items))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// ask sends one judge prompt and returns the reply's content.
func (j *Judge) ask(ctx context.Context, p prompt, u *Usage) (string, error) {
	params := openai.ChatCompletionNewParams{
		Model:       openai.ChatModel(j.cfg.Model),
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(p.system), openai.UserMessage(p.user)},
		Temperature: openai.Float(0),
	}
	if j.cfg.MaxTokens > 0 {
		params.MaxCompletionTokens = openai.Int(int64(j.cfg.MaxTokens))
	}
	params.ResponseFormat = p.format(j.cfg.ResponseFormat)
	resp, err := j.client.Chat.Completions.New(ctx, params)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p.name, err)
	}
	in, outTok := int(resp.Usage.PromptTokens), int(resp.Usage.CompletionTokens)
	u.add(Usage{Calls: 1, PromptTokens: in, CompletionTokens: outTok, CostUSD: j.price.Cost(in, outTok)})
	if len(resp.Choices) == 0 {
		return "", fmt.Errorf("%s: %w: the reply has no choices", p.name, ErrMalformed)
	}
	c := resp.Choices[0]
	if c.FinishReason == "length" {
		return "", fmt.Errorf("%s: %w: the reply was cut off at max_tokens", p.name, ErrMalformed)
	}
	if c.Message.Refusal != "" {
		return "", fmt.Errorf("%s: %w: the model refused: %s", p.name, ErrMalformed, c.Message.Refusal)
	}
	return c.Message.Content, nil
}
