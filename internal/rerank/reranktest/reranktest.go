// Package reranktest serves the rerank wire formats for tests, as the
// real servers answer them: Cohere's /v1/rerank shape (also Jina's,
// vLLM's and LiteLLM's) and Text Embeddings Inference's /rerank. Scores
// are word overlap with the query, so a test can predict the order.
package reranktest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
)

// Server is a fake rerank server.
type Server struct {
	URL string
	// Fail, while above 0, answers that many requests with 503.
	Fail     atomic.Int64
	Requests atomic.Int64
}

// Start serves the format of provider ("cohere" or "tei") on loopback.
func Start(t testing.TB, provider string) *Server {
	s := &Server{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/rerank") {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		if s.Fail.Load() > 0 {
			s.Fail.Add(-1)
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
			return
		}
		var req struct {
			Query     string   `json:"query"`
			Documents []string `json:"documents"`
			Texts     []string `json:"texts"`
			TopN      int      `json:"top_n"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Query == "" {
			http.Error(w, `{"error":"bad request"}`, http.StatusUnprocessableEntity)
			return
		}
		texts := req.Documents
		if provider == "tei" {
			texts = req.Texts
		}
		type scored struct {
			Index int     `json:"index"`
			Score float64 `json:"score"`
		}
		var out []scored
		for i, t := range texts {
			out = append(out, scored{i, overlap(req.Query, t)})
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].Score > out[b].Score })
		w.Header().Set("Content-Type", "application/json")
		if provider == "tei" {
			json.NewEncoder(w).Encode(out)
			return
		}
		if req.TopN > 0 && req.TopN < len(out) {
			out = out[:req.TopN]
		}
		results := make([]map[string]any, len(out))
		for i, o := range out {
			results[i] = map[string]any{"index": o.Index, "relevance_score": o.Score}
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "rerank-1", "results": results, "meta": map[string]any{"billed_units": map[string]int{"search_units": 1}}})
	}))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// overlap is the share of the query's words found in text.
func overlap(query, text string) float64 {
	words := strings.Fields(strings.ToLower(query))
	have := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		have[strings.Trim(w, ".,;:!?")] = true
	}
	n := 0
	for _, w := range words {
		if have[strings.Trim(w, ".,;:!?")] {
			n++
		}
	}
	return float64(n) / float64(max(len(words), 1))
}
