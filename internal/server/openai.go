package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// OpenAI-compatible endpoints. A chat "model" names a RAG pipeline:
// "ragtune" uses the configured retrieval mode and answerer,
// "ragtune/lexical", "ragtune/dense" and "ragtune/hybrid" pick the mode.
// The last user message is the question; the answer's sources come back
// in a "sources" field beside the usual ones.

const pipeline = "ragtune"

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// text reads a message's content: a string, or text parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func pipelineMode(b *Backend, model string) (retrieve.Mode, bool) {
	if model == pipeline || model == "" {
		return b.Mode, true
	}
	m, ok := strings.CutPrefix(model, pipeline+"/")
	if !ok {
		return "", false
	}
	mode, err := retrieve.ParseMode(m)
	return mode, err == nil
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	b := backendOf(r.Context())
	mode, ok := pipelineMode(b, req.Model)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found; use %q or %q/{lexical,dense,hybrid}", req.Model, pipeline, pipeline))
		return
	}
	question := ""
	for _, m := range req.Messages {
		if m.Role == "user" {
			question = m.text()
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.AnswerLimit)
	defer cancel()
	hits, code, err := s.retrieve(ctx, b, queryRequest{Mode: string(mode)}, question)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	gen, err := b.Collection.Generator(r.Context(), "")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	id := fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano())
	model := req.Model
	if model == "" {
		model = pipeline
	}
	if !req.Stream {
		res, err := answer.Answer(ctx, gen, answer.Request{Question: question, Hits: hits})
		if err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": res.Answer}}},
			"usage":     usageOf(res.Usage),
			"sources":   res.Citations,
			"abstained": res.Abstained,
		})
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	events, err := gen.Generate(ctx, answer.Request{Question: question, Hits: hits})
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	sse := newSSE(w)
	chunk := func(delta map[string]any, finish any, extra map[string]any) error {
		c := map[string]any{"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		for k, v := range extra {
			c[k] = v
		}
		return sse.send("", c)
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
	var sources []answer.Citation
	var usage *answer.Usage
	for ev := range events {
		var err error
		switch ev.Type {
		case answer.EventToken:
			err = chunk(map[string]any{"content": ev.Text}, nil, nil)
		case answer.EventCitation:
			sources = append(sources, *ev.Citation)
		case answer.EventUsage:
			usage = ev.Usage
		case answer.EventError:
			sse.send("", apiErrorOf(ev.Error))
			return
		}
		if err != nil {
			cancel()
		}
	}
	chunk(map[string]any{}, "stop", map[string]any{"sources": sources})
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		sse.send("", map[string]any{"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": model,
			"choices": []any{}, "usage": usageOf(usage)})
	}
	sse.raw("", "[DONE]")
}

func apiErrorOf(msg string) apiError {
	var e apiError
	e.Error.Message, e.Error.Type, e.Error.Code = msg, "server_error", http.StatusBadGateway
	return e
}

func usageOf(u *answer.Usage) map[string]int {
	if u == nil {
		u = &answer.Usage{}
	}
	return map[string]int{"prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens,
		"total_tokens": u.PromptTokens + u.CompletionTokens}
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	e, err := backendOf(r.Context()).Collection.Embedder(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if e == nil {
		writeError(w, http.StatusNotFound, "embeddings are off on this server (set [embed] provider)")
		return
	}
	var req struct {
		Input json.RawMessage `json:"input"`
		Model string          `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	var texts []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		texts = []string{one}
	} else if err := json.Unmarshal(req.Input, &texts); err != nil {
		writeError(w, http.StatusBadRequest, "input must be a string or an array of strings")
		return
	}
	if len(texts) == 0 || len(texts) > 2048 {
		writeError(w, http.StatusBadRequest, "input must hold 1 to 2048 texts")
		return
	}
	vecs, err := e.Embed(r.Context(), texts)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	data := make([]map[string]any, len(vecs))
	for i, v := range vecs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": e.ID(),
		"usage": map[string]int{"prompt_tokens": 0, "total_tokens": 0}})
}
