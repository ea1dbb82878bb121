package embed

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeEmbeddings speaks the OpenAI /v1/embeddings wire format. Each text
// becomes a 3-d vector derived from its length; responses list the data
// in reverse order (the API does not promise order, the index field does).
type fakeEmbeddings struct {
	mu       sync.Mutex
	requests []map[string]any
	failures []int // status codes to answer before succeeding
	auth     string
}

func (f *fakeEmbeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	f.auth = r.Header.Get("Authorization")
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	f.requests = append(f.requests, body)
	if len(f.failures) > 0 {
		code := f.failures[0]
		f.failures = f.failures[1:]
		w.Header().Set("Retry-After-Ms", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"message":"simulated %d","type":"server_error","code":null}}`, code)
		return
	}
	inputs, _ := body["input"].([]any)
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	}
	var data []item
	for i := len(inputs) - 1; i >= 0; i-- {
		n := float64(len(inputs[i].(string)))
		data = append(data, item{"embedding", i, []float64{n, 1, 0}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": body["model"],
		"usage": map[string]int{"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})
}

func newFake(t *testing.T) (*fakeEmbeddings, string) {
	f := &fakeEmbeddings{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/v1"
}

func TestOpenAIEmbeddings(t *testing.T) {
	f, url := newFake(t)
	env := func(k string) string { return map[string]string{"MY_KEY": "sk-test"}[k] }
	e, err := New(t.Context(), Config{Provider: OpenAI, BatchSize: 2, OpenAI: OpenAIConfig{BaseURL: url, Model: "nomic-embed-text", APIKeyEnv: "MY_KEY"}}, env)
	if err != nil {
		t.Fatal(err)
	}
	if e.Dim() != 3 || e.ID() != "openai:nomic-embed-text/3" || f.auth != "Bearer sk-test" {
		t.Fatalf("dim %d, id %s, auth %q", e.Dim(), e.ID(), f.auth)
	}
	vecs, err := e.Embed(t.Context(), []string{"a", "", "abc", "abcd", "ab"})
	if err != nil {
		t.Fatal(err)
	}
	// One probe, then the five texts in batches of two.
	if len(f.requests) != 4 {
		t.Errorf("%d requests, want 4 (probe + 3 batches)", len(f.requests))
	}
	want := map[int]float64{0: 1, 2: 3, 3: 4, 4: 2}
	for i, n := range want {
		norm := math.Sqrt(n*n + 1)
		if math.Abs(float64(vecs[i][0])-n/norm) > 1e-6 {
			t.Errorf("text %d: vector %v not in input order or not unit length", i, vecs[i])
		}
	}
	if vecs[1][0] != 0 || vecs[1][1] != 0 {
		t.Errorf("empty text: %v, want a zero vector", vecs[1])
	}
}

func TestOpenAIRetriesAndErrors(t *testing.T) {
	f, url := newFake(t)
	cfg := OpenAIConfig{BaseURL: url, Model: "m", Dimensions: 3, MaxRetries: 2}
	e, err := NewOpenAI(t.Context(), cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f.failures = []int{429, 500}
	if _, err := e.Embed(t.Context(), []string{"x"}); err != nil {
		t.Fatalf("after a 429 and a 500 the third try should succeed: %v", err)
	}
	if len(f.requests) != 3 || f.requests[0]["dimensions"] != float64(3) {
		t.Errorf("requests = %v", f.requests)
	}
	f.failures = []int{401}
	_, err = e.Embed(t.Context(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("unauthorised: %v", err)
	}
	if _, err := NewOpenAI(t.Context(), OpenAIConfig{Model: "m"}, func(string) string { return "" }); err == nil {
		t.Error("missing base_url accepted")
	}
}
