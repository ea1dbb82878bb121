package answer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"

	"github.com/ragtune/ragtune/internal/retrieve"
)

// chatServer speaks the OpenAI chat-completions streaming wire format:
// one "data:" line per chunk, a usage chunk, then "data: [DONE]".
type chatServer struct {
	mu       sync.Mutex
	pieces   []string // content deltas of the answer
	fail     []int    // status codes to answer first
	truncate bool     // stop mid-stream, as a dropped connection would
	requests []map[string]any
	auth     string
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	s.auth = r.Header.Get("Authorization")
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	s.requests = append(s.requests, body)
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After-Ms", "1")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"message":"simulated %d","type":"rate_limit_error"}}`, code)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	for i, p := range s.pieces {
		if s.truncate && i == len(s.pieces)/2 {
			return
		}
		chunk(map[string]any{"content": p}, nil)
	}
	chunk(map[string]any{}, "stop")
	fmt.Fprintf(w, "data: %s\n\n", `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050}}`)
	fmt.Fprint(w, "data: [DONE]\n\n")
}

type wordCounter struct{}

func (wordCounter) Count(s string) int { return len(strings.Fields(s)) }

func llmFor(t *testing.T, srv *chatServer) *LLM {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	g, err := NewLLM(LLMConfig{BaseURL: ts.URL + "/v1", Model: "gpt-4o-mini", APIKeyEnv: "TEST_KEY", MaxRetries: 2,
		Examples: []Example{{Question: "Example question?", Answer: "Example answer [1]."}}},
		func(k string) string { return map[string]string{"TEST_KEY": "sk-secret"}[k] }, wordCounter{}, DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var llmHits = []retrieve.Hit{
	{Rank: 1, Hit: corpus.Hit{DocPath: "ops.md", Chunk: corpus.Chunk{ID: "c1", Heading: "Keys", Text: "Signing keys rotate every ninety days. Rotation is automatic.", LineStart: 3, LineEnd: 4}}},
	{Rank: 2, Hit: corpus.Hit{DocPath: "backup.md", Chunk: corpus.Chunk{ID: "c2", Text: "Backups run nightly at two in the morning.", LineStart: 1, LineEnd: 1}}},
}

func TestLLMStreamsVerifiedCitations(t *testing.T) {
	srv := &chatServer{pieces: []string{"Signing keys", " rotate every", " ninety days [", "1]. Backups", " run nightly [1][2", "]. Rotation is automatic.[", "2]"}}
	g := llmFor(t, srv)
	events, err := g.Generate(t.Context(), Request{Question: "How often do keys rotate?", Hits: llmHits})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	var res Result
	var toks strings.Builder
	for ev := range events {
		order = append(order, string(ev.Type))
		switch ev.Type {
		case EventToken:
			toks.WriteString(ev.Text)
		case EventCitation:
			res.Citations = append(res.Citations, *ev.Citation)
		case EventUsage:
			res.Usage = ev.Usage
		case EventError:
			t.Fatal(ev.Error)
		}
	}
	// "[1]" on the backups sentence is unsupported by passage 1, and "[2]"
	// after the rotation sentence by passage 2: both are dropped.
	want := "Signing keys rotate every ninety days [1]. Backups run nightly [2]. Rotation is automatic."
	if toks.String() != want {
		t.Errorf("answer\n%q\nwant\n%q", toks.String(), want)
	}
	if len(res.Citations) != 2 || res.Citations[0].N != 1 || res.Citations[1].Doc != "backup.md" {
		t.Errorf("citations %+v", res.Citations)
	}
	if res.Usage == nil || res.Usage.PromptTokens != 1000 || res.Usage.CitationsDropped != 2 || res.Usage.CostUSD != (1000*0.15+50*0.60)/1e6 {
		t.Errorf("usage %+v", res.Usage)
	}
	// The first citation is announced before the stream ends.
	if strings.Join(order, ",")[:5] != "token" || order[len(order)-1] != "done" {
		t.Errorf("event order %v", order)
	}
	if srv.auth != "Bearer sk-secret" {
		t.Errorf("authorization %q", srv.auth)
	}
	msgs := srv.requests[0]["messages"].([]any)
	if len(msgs) != 4 || msgs[2].(map[string]any)["role"] != "assistant" {
		t.Fatalf("want system, few-shot user and assistant, then the question: %v", msgs)
	}
	user := msgs[3].(map[string]any)["content"].(string)
	if !strings.Contains(user, "[1] (ops.md > Keys)") || !strings.Contains(user, "Question: How often do keys rotate?") ||
		!strings.Contains(msgs[0].(map[string]any)["content"].(string), Declined) || srv.requests[0]["stream"] != true {
		t.Errorf("request %v", srv.requests[0])
	}
}

func TestLLMRefusalRetriesAndFailures(t *testing.T) {
	srv := &chatServer{pieces: []string{"I do not have ", "information about that."}, fail: []int{429, 503}}
	res, err := Answer(t.Context(), llmFor(t, srv), Request{Question: "What is the capital of France?", Hits: llmHits})
	if err != nil {
		t.Fatalf("after a 429 and a 503 the third try should stream: %v", err)
	}
	if !res.Abstained || *res.AbstainReason != ReasonModelDeclined || res.Answer != Declined || len(srv.requests) != 3 {
		t.Errorf("refusal: %+v after %d requests", res, len(srv.requests))
	}

	trunc := &chatServer{pieces: []string{"Signing", " keys", " rotate", " often"}, truncate: true}
	if _, err := Answer(t.Context(), llmFor(t, trunc), Request{Question: "q", Hits: llmHits}); err == nil || !strings.Contains(err.Error(), "ended before") {
		t.Errorf("truncated stream: %v", err)
	}
	down := &chatServer{fail: []int{500, 500, 500}}
	if _, err := Answer(t.Context(), llmFor(t, down), Request{Question: "q", Hits: llmHits}); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("server errors: %v", err)
	}
	none, err := Answer(t.Context(), llmFor(t, &chatServer{}), Request{Question: "q"})
	if err != nil || !none.Abstained || *none.AbstainReason != ReasonNoResults {
		t.Errorf("no hits: %+v %v", none, err)
	}
}

func TestBuildPromptBudget(t *testing.T) {
	p := BuildPrompt("", "q?", llmHits, 12, wordCounter{})
	if p.Used != 1 || strings.Contains(p.User, "[2]") {
		t.Errorf("budget of 12 words should keep one passage: %+v", p)
	}
	if p = BuildPrompt("Be brief.", "q?", llmHits, 1, wordCounter{}); p.Used != 1 || !strings.HasPrefix(p.System, "Be brief.") {
		t.Errorf("at least one passage, custom system prompt kept: %+v", p)
	}
}

// A closed-book question goes to the model without passages; a citation
// it invents cannot be checked and is dropped.
func TestLLMClosedBook(t *testing.T) {
	srv := &chatServer{pieces: []string{"Every ninety", " days [1]."}}
	g := llmFor(t, srv)
	res, err := Answer(t.Context(), g, Request{Question: "How often do keys rotate?", Hits: llmHits, ClosedBook: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != "Every ninety days." || len(res.Citations) != 0 || res.Usage.CitationsDropped != 1 {
		t.Errorf("closed-book answer %q, citations %v, usage %+v", res.Answer, res.Citations, res.Usage)
	}
	msgs := srv.requests[0]["messages"].([]any)
	user := msgs[len(msgs)-1].(map[string]any)["content"].(string)
	if user != "How often do keys rotate?" || strings.Contains(msgs[0].(map[string]any)["content"].(string), "Context passages") {
		t.Errorf("closed-book request carried passages: %v", msgs)
	}
	ex, err := Answer(t.Context(), NewExtractive(nil, DefaultThresholds()), Request{Question: "How often do keys rotate?", Hits: llmHits, ClosedBook: true})
	if err != nil || ex.Answer != Declined {
		t.Errorf("the extractive answerer must decline without passages: %q %v", ex.Answer, err)
	}
}
