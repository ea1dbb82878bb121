package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// maxK bounds the chunks one HTTP query may ask for.
const maxK = 100

// queryRequest is the body of /v1/search and /v1/ask.
type queryRequest struct {
	Query      string   `json:"query"`
	Question   string   `json:"question"`
	K          int      `json:"k"`
	Mode       string   `json:"mode"`
	PathPrefix string   `json:"path_prefix"`
	Tags       []string `json:"tags"`
	Model      string   `json:"model"`
	// ConversationID, optional, is recorded with the interaction when
	// feedback is on, so a client can group its questions.
	ConversationID string `json:"conversation_id"`
	// History is the conversation before this question, oldest first:
	// retrieval runs on the question made standalone from it, and a chat
	// model sees it.
	History []conversation.Turn `json:"history"`
}

// maxHistoryTurns bounds the conversation a request may carry.
const maxHistoryTurns = 50

// maxQueryBytes bounds a query or question.
const maxQueryBytes = 16 << 10

func (s *Server) retrieve(ctx context.Context, b *Backend, q queryRequest, text string) ([]retrieve.Hit, int, error) {
	if len(text) > maxQueryBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the query is %d bytes; the limit is %d", len(text), maxQueryBytes)
	}
	if len(q.History) > maxHistoryTurns {
		return nil, http.StatusBadRequest, fmt.Errorf("the history has %d turns; the limit is %d", len(q.History), maxHistoryTurns)
	}
	if len(q.ConversationID) > maxConversationIDBytes {
		return nil, http.StatusBadRequest, fmt.Errorf("the conversation_id is %d bytes; the limit is %d", len(q.ConversationID), maxConversationIDBytes)
	}
	if strings.TrimSpace(text) != "" {
		text = conversation.Standalone(text, q.History)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.SearchLimit)
	defer cancel()
	query, err := retrieve.Request{Text: text, K: q.K, Mode: q.Mode, PathPrefix: q.PathPrefix, Tags: q.Tags}.Query(retrieve.Defaults{Mode: b.Mode, K: b.K, MaxK: maxK})
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	r, err := b.Collection.Retriever(ctx, query.Mode)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	hits, err := r.Search(ctx, query)
	if err != nil {
		return nil, searchFailure(ctx, err), err
	}
	if hits == nil {
		hits = []retrieve.Hit{}
	}
	return hits, 0, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	var q queryRequest
	if !decode(w, r, &q) {
		return
	}
	hits, code, err := s.retrieve(r.Context(), backendOf(r.Context()), q, q.Query)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits})
}

// ask answers as JSON, or with ?stream=true as Server-Sent Events
// carrying token, citation, abstain, usage, done and error events.
func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var q queryRequest
	if !decode(w, r, &q) {
		return
	}
	text := q.Question
	if text == "" {
		text = q.Query
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.AnswerLimit)
	defer cancel()
	b := backendOf(r.Context())
	hits, code, err := s.retrieve(ctx, b, q, text)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	gen, err := b.Collection.Generator(r.Context(), q.Model)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a := asked{question: text, history: q.History, conversationID: q.ConversationID}
	if r.URL.Query().Get("stream") != "true" {
		res, err := answer.Answer(ctx, gen, answer.Request{Question: text, Hits: hits, History: q.History})
		if err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, askResponse{Result: res, InteractionID: s.record(ctx, b, a, res)})
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	events, err := gen.Generate(ctx, answer.Request{Question: text, Hits: hits, History: q.History})
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	sse := newSSE(w)
	sse.send("retrieved", map[string]any{"hits": hits, "paths": b.displayPaths(hits)})
	t := s.transcript(b, a, hits, gen)
	for ev := range events {
		// A client that went away cancels ctx; the generator stops and
		// closes events, which ends this loop.
		if err := sse.send(string(ev.Type), t.event(ctx, ev)); err != nil {
			cancel()
		}
	}
}

// documents lists a page of the collection's documents: ?limit= (100 by
// default, at most 1000), ?offset=, ?prefix=; the answer says the total
// and the next offset (absent on the last page).
func (s *Server) documents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset := 100, 0
	for name, v := range map[string]*int{"limit": &limit, "offset": &offset} {
		if raw := q.Get(name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s must be a whole number, not %q", name, raw))
				return
			}
			*v = n
		}
	}
	if limit == 0 || limit > 1000 {
		writeError(w, http.StatusBadRequest, "limit must be 1 to 1000")
		return
	}
	b := backendOf(r.Context())
	docs, err := b.Collection.Documents(r.Context(), q.Get("prefix"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if name := strings.ToLower(q.Get("name")); name != "" {
		// A search by name: documents whose path holds the text.
		kept := docs[:0:0]
		for _, d := range docs {
			if strings.Contains(strings.ToLower(d.Path), name) || strings.Contains(strings.ToLower(d.Title), name) {
				kept = append(kept, d)
			}
		}
		docs = kept
	}
	page := docs[min(offset, len(docs)):min(offset+limit, len(docs))]
	shown := make([]listedDocument, 0, len(page))
	for _, d := range page {
		shown = append(shown, listedDocument{DocumentInfo: d, DisplayPath: b.displayPath(d.Path)})
	}
	out := map[string]any{"documents": shown, "total": len(docs), "offset": offset, "limit": limit}
	if offset+limit < len(docs) {
		out["next_offset"] = offset + limit
	}
	writeJSON(w, http.StatusOK, out)
}

// listedDocument is a document of GET /v1/documents with the path people
// read (see displayPath).
type listedDocument struct {
	corpus.DocumentInfo
	DisplayPath string `json:"display_path"`
}

// displayPath is a document's path as people read it: relative to the
// ingest root (an uploaded file as uploads/NAME), never the server's
// absolute path; a web page keeps its URL.
func (b *Backend) displayPath(doc string) string {
	if strings.Contains(doc, "://") {
		return doc
	}
	p := filepath.FromSlash(doc)
	abs := filepath.IsAbs(p)
	if !abs {
		if b.DocumentRoot == "" {
			return doc
		}
		p = filepath.Join(b.DocumentRoot, p)
	}
	inside := func(root string) (string, bool) {
		if root == "" || !ingest.Within(root, p) {
			return "", false
		}
		rel, _ := filepath.Rel(root, p)
		return filepath.ToSlash(rel), rel != "."
	}
	if rel, ok := inside(b.UploadDir); ok {
		return "uploads/" + rel
	}
	for _, root := range []string{b.IngestRoot, b.DocumentRoot} {
		if rel, ok := inside(root); ok {
			return rel
		}
	}
	if abs {
		return filepath.Base(p)
	}
	return doc
}

// displayPaths maps the hits' documents to their display paths.
func (b *Backend) displayPaths(hits []retrieve.Hit) map[string]string {
	out := map[string]string{}
	for _, h := range hits {
		out[h.DocPath] = b.displayPath(h.DocPath)
	}
	return out
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	upload := b.uploadOf(r.Context(), r.PathValue("id"))
	found, err := b.Collection.DeleteDocument(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	case !found:
		writeError(w, http.StatusNotFound, "no document with that id")
	default:
		if upload != "" {
			os.Remove(upload) // the server saved it; nobody else will clean it up
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// uploadOf is the file the server saved for the document with that ID
// when it came as an upload, or "".
func (b *Backend) uploadOf(ctx context.Context, id string) string {
	if b.UploadDir == "" || b.DocumentRoot == "" {
		return ""
	}
	// Only documents under the upload folder can be uploads.
	prefix := ""
	if rel, err := filepath.Rel(b.DocumentRoot, b.UploadDir); err == nil && !strings.HasPrefix(rel, "..") {
		prefix = filepath.ToSlash(rel) + "/"
	}
	docs, err := b.Collection.Documents(ctx, prefix)
	if err != nil {
		return ""
	}
	for _, d := range docs {
		if d.ID != id {
			continue
		}
		path := filepath.Join(b.DocumentRoot, filepath.FromSlash(d.Path))
		if filepath.IsAbs(filepath.FromSlash(d.Path)) {
			path = filepath.FromSlash(d.Path)
		}
		if rel, err := filepath.Rel(b.UploadDir, path); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
			return path
		}
	}
	return ""
}

// revokeKey deletes an API key of the request's collection (admin scope).
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	found, err := backendOf(r.Context()).Keys.RevokeAPIKey(r.Context(), r.PathValue("name"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	case !found:
		writeError(w, http.StatusNotFound, "no key with that name")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// statusClientClosed is nginx's code for a client that left before the
// answer: the metrics count it apart from server errors.
const statusClientClosed = 499

// searchFailure is the status of a failed search: 504 past the time
// budget, 499 when the client left, 500 otherwise.
func searchFailure(ctx context.Context, err error) int {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return statusClientClosed
	}
	return http.StatusInternalServerError
}
