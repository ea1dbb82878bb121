package answer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// LLMConfig reaches an OpenAI-compatible chat endpoint: OpenAI, vLLM,
// llama.cpp server, Ollama's /v1, LM Studio.
type LLMConfig struct {
	BaseURL string `toml:"base_url"`
	Model   string `toml:"model"`
	// APIKeyEnv names the environment variable that holds the key; the
	// key is never written to a file or a log.
	APIKeyEnv    string  `toml:"api_key_env"`
	Temperature  float64 `toml:"temperature"`
	MaxTokens    int     `toml:"max_tokens"`
	TimeoutSec   int     `toml:"timeout_seconds"`
	MaxRetries   int     `toml:"max_retries"`
	SystemPrompt string  `toml:"system_prompt"`
	// Examples are few-shot demonstrations of the wanted behaviour, sent
	// as earlier turns of the conversation.
	Examples      []Example `toml:"examples"`
	ContextTokens int       `toml:"context_tokens"` // budget for the numbered passages
	// MinCitationSupport is the share of a sentence's content words its
	// cited passage must contain for the citation to stand.
	MinCitationSupport float64 `toml:"min_citation_support"`
}

// Example is one few-shot question and the answer to model.
type Example struct {
	Question string `toml:"question"`
	Answer   string `toml:"answer"`
}

// DefaultLLMConfig fills what a user usually leaves out.
func DefaultLLMConfig() LLMConfig {
	return LLMConfig{APIKeyEnv: "OPENAI_API_KEY", Temperature: 0, MaxTokens: 512, TimeoutSec: 120, MaxRetries: 3,
		ContextTokens: 3000, MinCitationSupport: 0.5}
}

// LLM generates answers with a chat model, streaming tokens and
// verifying each citation against the passage it names.
type LLM struct {
	cfg    LLMConfig
	client openai.Client
	tok    TokenCounter
	price  Price
}

// NewLLM configures the client; no request is made.
func NewLLM(cfg LLMConfig, getenv func(string) string, tok TokenCounter, prices map[string]Price) (*LLM, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("the openai generator needs base_url and model")
	}
	d := DefaultLLMConfig()
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = d.APIKeyEnv
	}
	if cfg.ContextTokens <= 0 {
		cfg.ContextTokens = d.ContextTokens
	}
	if cfg.MinCitationSupport <= 0 {
		cfg.MinCitationSupport = d.MinCitationSupport
	}
	return &LLM{cfg: cfg, client: NewClient(ClientConfig{BaseURL: cfg.BaseURL, APIKeyEnv: cfg.APIKeyEnv, TimeoutSec: cfg.TimeoutSec, MaxRetries: cfg.MaxRetries}, getenv),
		tok: tok, price: prices[cfg.Model]}, nil
}

// ClientConfig is what an OpenAI-compatible client needs: where, the
// variable holding the key, a per-call timeout and retries (with the
// SDK's backoff on 429 and 5xx).
type ClientConfig struct {
	BaseURL    string
	APIKeyEnv  string
	TimeoutSec int
	MaxRetries int
}

// NewClient makes the client every chat-model caller shares (answers,
// the judge, the question writer); the key is read from the variable
// APIKeyEnv names, and a local server without one gets a placeholder.
func NewClient(cfg ClientConfig, getenv func(string) string) openai.Client {
	key := ""
	if getenv != nil && cfg.APIKeyEnv != "" {
		key = getenv(cfg.APIKeyEnv)
	}
	if key == "" {
		key = "unused" // local servers take no key
	}
	opts := []option.RequestOption{option.WithBaseURL(cfg.BaseURL), option.WithAPIKey(key),
		option.WithMaxRetries(max(cfg.MaxRetries, 0))}
	if cfg.TimeoutSec > 0 {
		opts = append(opts, option.WithRequestTimeout(time.Duration(cfg.TimeoutSec)*time.Second))
	}
	return openai.NewClient(opts...)
}

// ID names the generator.
func (g *LLM) ID() string { return "openai:" + g.cfg.Model }

// Generate streams an answer for req.
func (g *LLM) Generate(ctx context.Context, req Request) (<-chan Event, error) {
	if req.ClosedBook {
		system := g.cfg.SystemPrompt
		if system == "" {
			system = DefaultClosedBookPrompt
		}
		return g.stream(ctx, g.messages(system, req.History, req.Question), nil), nil
	}
	out := make(chan Event, 64)
	if len(req.Hits) == 0 {
		go func() {
			defer close(out)
			out <- Event{Type: EventAbstain, Reason: ReasonNoResults}
			out <- Event{Type: EventToken, Text: Declined}
			out <- Event{Type: EventUsage, Usage: &Usage{}}
			out <- Event{Type: EventDone}
		}()
		return out, nil
	}
	p := BuildPrompt(g.cfg.SystemPrompt, req.Question, req.Hits, g.cfg.ContextTokens, g.tok)
	return g.stream(ctx, g.messages(p.System, req.History, p.User), req.Hits[:p.Used]), nil
}

// DefaultClosedBookPrompt is the system prompt when the model answers
// without passages.
const DefaultClosedBookPrompt = "Answer the question briefly. If you do not know the answer, say \"" + Declined + "\""

// historyTokens bounds the earlier turns of a conversation sent along.
const historyTokens = 1024

// messages is the conversation: system prompt, few-shot turns, the most
// recent earlier turns that fit historyTokens, then the question.
func (g *LLM) messages(system string, history []conversation.Turn, user string) []openai.ChatCompletionMessageParamUnion {
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system)}
	for _, ex := range g.cfg.Examples {
		msgs = append(msgs, openai.UserMessage(ex.Question), openai.AssistantMessage(ex.Answer))
	}
	from, spent := len(history), 0
	for from > 0 {
		n := g.tok.Count(history[from-1].Text)
		if spent+n > historyTokens {
			break
		}
		from, spent = from-1, spent+n
	}
	for _, t := range history[from:] {
		if t.Role == "assistant" {
			msgs = append(msgs, openai.AssistantMessage(t.Text))
		} else {
			msgs = append(msgs, openai.UserMessage(t.Text))
		}
	}
	return append(msgs, openai.UserMessage(user))
}

// stream sends the conversation and relays the answer as events, each
// citation checked against hits (none for a closed-book question, so any
// citation it writes is dropped).
func (g *LLM) stream(ctx context.Context, msgs []openai.ChatCompletionMessageParamUnion, hits []retrieve.Hit) <-chan Event {
	out := make(chan Event, 64)
	params := openai.ChatCompletionNewParams{
		Model:         openai.ChatModel(g.cfg.Model),
		Messages:      msgs,
		Temperature:   openai.Float(g.cfg.Temperature),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if g.cfg.MaxTokens > 0 {
		params.MaxCompletionTokens = openai.Int(int64(g.cfg.MaxTokens))
	}
	stream := g.client.Chat.Completions.NewStreaming(ctx, params)
	go func() {
		defer close(out)
		defer stream.Close()
		v := newVerifier(hits, g.cfg.MinCitationSupport, out)
		finished := false
		var usage *Usage
		for stream.Next() {
			c := stream.Current()
			for _, ch := range c.Choices {
				v.feed(ch.Delta.Content)
				if ch.FinishReason != "" {
					finished = true
				}
			}
			if c.Usage.TotalTokens > 0 {
				in, outTok := int(c.Usage.PromptTokens), int(c.Usage.CompletionTokens)
				usage = &Usage{PromptTokens: in, CompletionTokens: outTok, CostUSD: g.price.Cost(in, outTok)}
			}
		}
		if err := stream.Err(); err != nil {
			out <- Event{Type: EventError, Error: fmt.Sprintf("model %s: %v", g.cfg.Model, err)}
			return
		}
		if !finished {
			out <- Event{Type: EventError, Error: fmt.Sprintf("model %s: the stream ended before the answer finished", g.cfg.Model)}
			return
		}
		v.flush()
		if isRefusal(v.text.String()) && v.cited == 0 {
			out <- Event{Type: EventAbstain, Reason: ReasonModelDeclined}
		}
		if usage == nil {
			usage = &Usage{}
		}
		usage.CitationsDropped = v.dropped
		out <- Event{Type: EventUsage, Usage: usage}
		out <- Event{Type: EventDone}
	}()
	return out
}

var refusals = []string{"do not have information", "don't have information", "not contain the answer",
	"cannot answer", "can't answer", "no information about"}

func isRefusal(text string) bool {
	t := strings.ToLower(text)
	for _, r := range refusals {
		if strings.Contains(t, r) {
			return true
		}
	}
	return false
}

// verifier passes model text through as it streams, holding back only a
// citation marker until it is complete; then the marker is kept (and its
// citation announced) if the passage supports the sentence it ends, or
// dropped and counted.
type verifier struct {
	hits      []retrieve.Hit
	minSup    float64
	out       chan<- Event
	text      strings.Builder // what has been emitted
	sentence  strings.Builder // current sentence, markers excluded
	last      string          // previous sentence, for markers after the full stop
	marker    strings.Builder // "[12" while a marker is open
	inMarker  bool
	announced map[int]bool
	cited     int
	dropped   int
	pending   strings.Builder // text to emit at the end of this delta
	// space is whitespace held back until the next character shows
	// whether it stays: after a dropped citation, "days [1]." must read
	// "days.", not "days .".
	space     strings.Builder
	afterDrop bool
}

func newVerifier(hits []retrieve.Hit, minSup float64, out chan<- Event) *verifier {
	return &verifier{hits: hits, minSup: minSup, out: out, announced: map[int]bool{}}
}

func (v *verifier) feed(delta string) {
	for _, r := range delta {
		switch {
		case v.inMarker && r >= '0' && r <= '9' && v.marker.Len() < 4:
			v.marker.WriteRune(r)
		case v.inMarker && r == ']' && v.marker.Len() > 1:
			v.closeMarker()
		case v.inMarker:
			v.inMarker = false // not a citation after all
			v.write(v.marker.String())
			v.marker.Reset()
			v.feed(string(r))
		case r == '[':
			v.inMarker = true
			v.marker.WriteRune(r)
		default:
			v.write(string(r))
			if r == '.' || r == '!' || r == '?' || r == '\n' {
				if s := strings.TrimSpace(v.sentence.String()); len(lexical.Terms(s)) > 0 {
					v.last = s
				}
				v.sentence.Reset()
			}
		}
	}
	v.emit()
}

func (v *verifier) write(s string) {
	v.sentence.WriteString(s)
	if strings.TrimSpace(s) == "" {
		v.space.WriteString(s)
		return
	}
	if !(v.afterDrop && strings.ContainsAny(s[:1], ".,;:!?")) {
		v.pending.WriteString(v.space.String())
	}
	v.space.Reset()
	v.afterDrop = false
	v.pending.WriteString(s)
}

func (v *verifier) closeMarker() {
	n, _ := strconv.Atoi(v.marker.String()[1:])
	v.marker.Reset()
	v.inMarker = false
	claim := strings.TrimSpace(v.sentence.String())
	if len(lexical.Terms(claim)) < 2 {
		claim = v.last // "… ninety days. [1]": the marker belongs to the sentence before
	}
	if n < 1 || n > len(v.hits) || lexical.Support(v.hits[n-1].Title+" "+v.hits[n-1].Text, claim) < v.minSup {
		v.dropped++
		v.afterDrop = true
		return
	}
	v.pending.WriteString(v.space.String())
	v.space.Reset()
	v.afterDrop = false
	v.pending.WriteString("[" + strconv.Itoa(n) + "]")
	v.cited++
	if !v.announced[n] {
		v.announced[n] = true
		v.emit()
		c := CitationFor(n, v.hits[n-1])
		v.out <- Event{Type: EventCitation, Citation: &c}
	}
}

func (v *verifier) emit() {
	if v.pending.Len() == 0 {
		return
	}
	s := v.pending.String()
	v.pending.Reset()
	v.text.WriteString(s)
	v.out <- Event{Type: EventToken, Text: s}
}

// flush releases a marker left open at the end of the stream as text.
func (v *verifier) flush() {
	if v.inMarker {
		v.write(v.marker.String())
		v.inMarker = false
	}
	v.emit()
}
