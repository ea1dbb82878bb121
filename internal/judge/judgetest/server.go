// Package judgetest is a test double of a judge model: an
// OpenAI-compatible /v1/chat/completions server (the non-streaming wire
// format, errors in OpenAI's shape) on 127.0.0.1 that answers the judge
// prompts deterministically from their content, the way a careful but
// literal grader would:
//
//   - correctness: "correct" when a gold answer appears in the answer,
//     unless the answer negates it ("not", "n't"); "partially_correct"
//     when only some of a gold answer's words appear; else "incorrect";
//   - faithfulness: each sentence is a claim, supported by the first
//     passage holding all of its words of four letters or more (and a
//     negation, if the claim has one);
//   - rubric: a criterion quoting a phrase it bans ("never", "avoid",
//     "no", "not") fails when the answer holds the phrase, "at most N
//     words" fails a longer answer; every other criterion passes.
//
// An answer or question holding MALFORMED gets a reply that parses as
// JSON but is not a valid verdict; the model "missing-model" gets a 404.
package judgetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is the fake judge endpoint; its URL + "/v1" is a base_url.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	fail     []int
	requests []Request
}

// Request is what one call asked.
type Request struct {
	Model          string
	Temperature    *float64
	ResponseFormat string // json_schema, json_object or ""
	SchemaName     string
	System, User   string
	Authorization  string
}

// New starts a server, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the server's OpenAI base URL.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// FailNext makes the next calls answer these HTTP statuses, in order,
// before any verdict (429 and 5xx are what a client retries).
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, codes...)
}

// Requests are the calls so far, failed ones included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

type chatRequest struct {
	Model       string   `json:"model"`
	Temperature *float64 `json:"temperature"`
	Messages    []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name string `json:"name"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		apiError(w, http.StatusNotFound, "invalid_request_error", "unknown path "+r.URL.Path)
		return
	}
	var body chatRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Messages) < 2 {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "want a JSON body with system and user messages")
		return
	}
	req := Request{Model: body.Model, Temperature: body.Temperature, ResponseFormat: body.ResponseFormat.Type,
		SchemaName: body.ResponseFormat.JSONSchema.Name, System: body.Messages[0].Content,
		User: body.Messages[len(body.Messages)-1].Content, Authorization: r.Header.Get("Authorization")}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	code := 0
	if len(s.fail) > 0 {
		code, s.fail = s.fail[0], s.fail[1:]
	}
	s.mu.Unlock()
	switch {
	case code != 0:
		w.Header().Set("Retry-After-Ms", "1")
		apiError(w, code, "rate_limit_error", fmt.Sprintf("simulated %d", code))
		return
	case body.Model == "missing-model":
		apiError(w, http.StatusNotFound, "invalid_request_error", "The model `missing-model` does not exist")
		return
	}
	content := verdict(req)
	w.Header().Set("Content-Type", "application/json")
	in, out := (len(req.System)+len(req.User))/4, len(content)/4
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-judge", "object": "chat.completion", "created": 1765000000, "model": body.Model,
		"system_fingerprint": "fp_judgetest",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": content, "refusal": nil}}},
		"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	})
}

func apiError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": kind, "param": nil, "code": nil}})
}

// task is which judge prompt a request is: the schema's name, or in
// JSON mode the system prompt's wording.
func task(r Request) string {
	if n, ok := strings.CutPrefix(r.SchemaName, "ragtune_judge_"); ok {
		return n
	}
	switch sys := strings.ToLower(r.System); {
	case strings.Contains(sys, "gold"):
		return "correctness"
	case strings.Contains(sys, "rubric"):
		return "rubric"
	case strings.Contains(sys, "passages"):
		return "faithfulness"
	}
	return ""
}

func verdict(r Request) string {
	ans := section(r.User, "<answer>\n", "\n</answer>")
	malformed := strings.Contains(r.User, "MALFORMED")
	var v any
	switch task(r) {
	case "correctness":
		v = grade(ans, bullets(section(r.User, "Gold answers:\n", "\n\n")))
		if malformed {
			v = map[string]any{"verdict": "probably", "reason": "unsure"}
		}
	case "faithfulness":
		v = claims(ans, passages(section(r.User, "Passages:\n", "Answer:\n")))
		if malformed {
			v = map[string]any{"claims": []any{map[string]any{"claim": "x", "supported": true, "passage": 99}}}
		}
	case "rubric":
		v = rubric(ans, criteria(section(r.User, "Rubric:\n", "\n\n")))
		if malformed {
			v = map[string]any{"criteria": []any{}}
		}
	default:
		return "I am not sure what you want."
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func section(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	before, _, _ := strings.Cut(after, to)
	return before
}

func bullets(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if b, ok := strings.CutPrefix(l, "- "); ok {
			out = append(out, b)
		}
	}
	return out
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func words(s string) []string {
	return strings.Fields(nonWord.ReplaceAllString(strings.ToLower(s), " "))
}

func norm(s string) string { return " " + strings.Join(words(s), " ") + " " }

var negation = regexp.MustCompile(`(?i)\bnot\b|n't\b`)

func grade(ans string, gold []string) map[string]any {
	a := norm(ans)
	for _, g := range gold {
		if strings.Contains(a, norm(g)) {
			if negation.MatchString(ans) {
				return map[string]any{"verdict": "incorrect", "reason": "the answer negates the gold answer"}
			}
			return map[string]any{"verdict": "correct", "reason": "the answer states the gold answer"}
		}
	}
	for _, g := range gold {
		for _, w := range words(g) {
			if len(w) > 3 && strings.Contains(a, " "+w+" ") {
				return map[string]any{"verdict": "partially_correct", "reason": "the answer states part of the gold answer"}
			}
		}
	}
	return map[string]any{"verdict": "incorrect", "reason": "the answer does not state the gold answer"}
}

var passageStart = regexp.MustCompile(`(?m)^\[(\d+)\] `)

// passages splits "[1] text…\n\n[2] text…" into numbered passages, each
// running to the next "[n] " at the start of a line.
func passages(s string) map[int]string {
	out := map[int]string{}
	at := passageStart.FindAllStringSubmatchIndex(s, -1)
	for i, m := range at {
		end := len(s)
		if i+1 < len(at) {
			end = at[i+1][0]
		}
		n, _ := strconv.Atoi(s[m[2]:m[3]])
		out[n] = norm(s[m[1]:end])
	}
	return out
}

var marker = regexp.MustCompile(`\[\d+\]`)

func claims(ans string, ps map[int]string) map[string]any {
	out := []any{}
	for _, sent := range regexp.MustCompile(`[.!?]+`).Split(marker.ReplaceAllString(ans, ""), -1) {
		sent = strings.TrimSpace(sent)
		if len(words(sent)) == 0 {
			continue
		}
		n := 0
		for i := 1; i <= len(ps)+10 && n == 0; i++ {
			if p, ok := ps[i]; ok && holdsAll(p, sent) {
				n = i
			}
		}
		out = append(out, map[string]any{"claim": sent, "supported": n > 0, "passage": n})
	}
	return map[string]any{"claims": out}
}

func holdsAll(passage, sent string) bool {
	if negation.MatchString(sent) && !negation.MatchString(passage) {
		return false
	}
	for _, w := range words(sent) {
		if len(w) >= 4 && !strings.Contains(passage, " "+w+" ") {
			return false
		}
	}
	return true
}

var criterionLine = regexp.MustCompile(`(?m)^(R\d+): (.*)$`)

func criteria(s string) [][2]string {
	var out [][2]string
	for _, m := range criterionLine.FindAllStringSubmatch(s, -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

var (
	quoted   = regexp.MustCompile(`"([^"]+)"`)
	banning  = regexp.MustCompile(`(?i)\b(never|avoid|no|not)\b`)
	maxWords = regexp.MustCompile(`(?i)at most (\d+) words`)
)

func rubric(ans string, crit [][2]string) map[string]any {
	out := []any{}
	for _, c := range crit {
		pass, reason := true, "the answer meets the criterion"
		if q := quoted.FindStringSubmatch(c[1]); q != nil && banning.MatchString(c[1]) && strings.Contains(strings.ToLower(ans), strings.ToLower(q[1])) {
			pass, reason = false, fmt.Sprintf("the answer says %q", q[1])
		}
		if m := maxWords.FindStringSubmatch(c[1]); m != nil {
			if n, _ := strconv.Atoi(m[1]); len(strings.Fields(ans)) > n {
				pass, reason = false, "the answer is too long"
			}
		}
		out = append(out, map[string]any{"id": c[0], "pass": pass, "reason": reason})
	}
	return map[string]any{"criteria": out}
}
