package rerank_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/rerank"
	"github.com/ragtune/ragtune/internal/rerank/reranktest"
)

func TestWireFormats(t *testing.T) {
	texts := []string{"backups run nightly", "signing keys rotate every ninety days", "keys are stored hashed"}
	for _, provider := range []string{rerank.Cohere, rerank.TEI} {
		srv := reranktest.Start(t, provider)
		cfg := rerank.DefaultConfig()
		cfg.Provider, cfg.BaseURL, cfg.Model, cfg.BatchSize = provider, srv.URL+"/v1", "bge-reranker", 2
		r, err := rerank.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := r.Score(t.Context(), "signing keys rotate", texts)
		if err != nil {
			t.Fatalf("%s: %v", provider, err)
		}
		if len(scores) != 3 || !(scores[1] > scores[2] && scores[2] > scores[0]) {
			t.Errorf("%s scores %v: want the keys passage first, backups last", provider, scores)
		}
		if srv.Requests.Load() != 2 {
			t.Errorf("%s: %d requests for 3 texts in batches of 2", provider, srv.Requests.Load())
		}
		// A transient failure is retried; a lasting one is an error.
		srv.Fail.Store(1)
		if _, err := r.Score(t.Context(), "keys", texts[:1]); err != nil {
			t.Errorf("%s after one 503: %v", provider, err)
		}
		srv.Fail.Store(10)
		if _, err := r.Score(t.Context(), "keys", texts[:1]); err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("%s with the server down: %v", provider, err)
		}
	}
}

func TestConfig(t *testing.T) {
	if r, err := rerank.New(rerank.DefaultConfig(), nil); r != nil || err != nil {
		t.Errorf("the default is off: %v %v", r, err)
	}
	for _, cfg := range []rerank.Config{{Provider: "magic", BaseURL: "x", Depth: 5}, {Provider: "tei", Depth: 5}, {Provider: "tei", BaseURL: "x"}} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v was accepted", cfg)
		}
	}
}

// TestChatModelGrades: the llm provider asks a chat model (a fake
// OpenAI-compatible /chat/completions on loopback) to grade each passage.
func TestChatModelGrades(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		grade := "2"
		if strings.Contains(req.Messages[1].Content, "ninety days") {
			grade = "9"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion", "choices": []any{
			map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": grade}}}})
	}))
	defer srv.Close()
	cfg := rerank.DefaultConfig()
	cfg.Provider, cfg.BaseURL, cfg.Model = rerank.LLM, srv.URL+"/v1", "m"
	r, err := rerank.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := r.Score(t.Context(), "how often do keys rotate", []string{"backups nightly", "keys rotate every ninety days"})
	if err != nil || scores[0] != 2 || scores[1] != 9 {
		t.Errorf("grades %v, %v", scores, err)
	}
}
