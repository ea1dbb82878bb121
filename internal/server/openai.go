package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// OpenAI-compatible endpoints. A chat "model" names a RAG pipeline:
// "ragtune" uses the configured retrieval mode and answerer,
// "ragtune/lexical", "ragtune/dense" and "ragtune/hybrid" pick the mode.
// The last user message is the question; the answer's sources come back
// in a "sources" field beside the usual ones (with the built-in answerer,
// "answerability" and "short_answer" too, when not streaming).

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
	if !decodeLoose(w, r, &req) {
		return
	}
	b := backendOf(r.Context())
	mode, ok := pipelineMode(b, req.Model)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found; use %q or %q/{lexical,dense,hybrid}", req.Model, pipeline, pipeline))
		return
	}
	// The last user message is the question; the user and assistant
	// messages before it are the conversation.
	question, last := "", -1
	for i, m := range req.Messages {
		if m.Role == "user" {
			question, last = m.text(), i
		}
	}
	var history []conversation.Turn
	for _, m := range req.Messages[:max(last, 0)] {
		if m.Role == "user" || m.Role == "assistant" {
			history = append(history, conversation.Turn{Role: m.Role, Text: m.text()})
		}
	}
	if len(history) > maxHistoryTurns {
		history = history[len(history)-maxHistoryTurns:]
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.AnswerLimit)
	defer cancel()
	hits, code, err := s.retrieve(ctx, b, queryRequest{Mode: string(mode), History: history}, question)
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
		res, err := answer.Answer(ctx, gen, answer.Request{Question: question, Hits: hits, History: history})
		if err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		body := map[string]any{
			"id": id, "object": "chat.completion", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": res.Answer}}},
			"usage":     usageOf(counted(b, res.Usage, question, hits, res.Answer)),
			"sources":   res.Citations,
			"abstained": res.Abstained,
		}
		if res.Answerability != nil {
			body["answerability"], body["short_answer"] = *res.Answerability, res.ShortAnswer
		}
		if id := s.record(ctx, b, asked{question: question, history: history}, res); id != "" {
			body["interaction_id"] = id
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	events, err := gen.Generate(ctx, answer.Request{Question: question, Hits: hits, History: history})
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
	var text strings.Builder
	t := s.transcript(b, asked{question: question, history: history}, hits, gen)
	for ev := range events {
		var err error
		t.add(ev)
		switch ev.Type {
		case answer.EventToken:
			text.WriteString(ev.Text)
			// Word-sized pieces, as a model streams, even when the
			// answerer hands over a whole sentence at once.
			for _, piece := range words(ev.Text) {
				if err = chunk(map[string]any{"content": piece}, nil, nil); err != nil {
					break
				}
			}
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
	final := map[string]any{"sources": sources}
	if id := t.record(ctx); id != "" {
		final["interaction_id"] = id
	}
	chunk(map[string]any{}, "stop", final)
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		sse.send("", map[string]any{"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": model,
			"choices": []any{}, "usage": usageOf(counted(b, usage, question, hits, text.String()))})
	}
	sse.raw("", "[DONE]")
}

// words cuts text into pieces of one word each, with the space before it.
func words(text string) []string {
	var out []string
	start := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' && text[i-1] != ' ' {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// TokenCounter is a collection that counts tokens as its models do; with
// it, answers whose generator reports no usage (the built-in answerer)
// still report real token counts.
type TokenCounter interface {
	CountTokens(text string) int
}

// counted is u, or, when the generator reported none, the tokens of the
// question and passages (prompt) and of the answer (completion).
func counted(b *Backend, u *answer.Usage, question string, hits []retrieve.Hit, ans string) *answer.Usage {
	if u != nil && u.PromptTokens+u.CompletionTokens > 0 {
		return u
	}
	tc, ok := b.Collection.(TokenCounter)
	if !ok {
		return u
	}
	out := &answer.Usage{PromptTokens: tc.CountTokens(question), CompletionTokens: tc.CountTokens(ans)}
	if u != nil {
		out.CostUSD, out.CitationsDropped = u.CostUSD, u.CitationsDropped
	}
	for _, h := range hits {
		out.PromptTokens += h.Tokens
	}
	return out
}

// models lists the pipelines a chat request may name.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	var data []map[string]any
	for _, id := range pipelineIDs() {
		data = append(data, modelObject(id))
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !slices.Contains(pipelineIDs(), id) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found", id))
		return
	}
	writeJSON(w, http.StatusOK, modelObject(id))
}

func pipelineIDs() []string {
	return []string{pipeline, pipeline + "/" + string(retrieve.Lexical), pipeline + "/" + string(retrieve.Dense), pipeline + "/" + string(retrieve.Hybrid)}
}

func modelObject(id string) map[string]any {
	return map[string]any{"id": id, "object": "model", "created": 0, "owned_by": "ragtune"}
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
		Input          json.RawMessage `json:"input"`
		Model          string          `json:"model"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	if !decodeLoose(w, r, &req) {
		return
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("encoding_format %q: want float or base64", req.EncodingFormat))
		return
	}
	if req.Dimensions != 0 && req.Dimensions != e.Dim() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("dimensions %d: the embedder %s makes %d-dimensional vectors", req.Dimensions, e.ID(), e.Dim()))
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
		var emb any = v
		if req.EncodingFormat == "base64" {
			emb = base64Floats(v)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": e.ID(),
		"usage": map[string]int{"prompt_tokens": 0, "total_tokens": 0}})
}

// base64Floats is OpenAI's base64 encoding of a vector: its float32s,
// little-endian, as base64 (what the official SDKs ask for by default).
func base64Floats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}
