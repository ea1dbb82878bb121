// Package server exposes ragtune over HTTP: REST for search, ask and
// documents, Server-Sent Events for streamed answers, and an
// OpenAI-compatible API (chat completions backed by retrieval, and
// embeddings) so existing OpenAI clients can point at ragtune.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// Backend is what the handlers need from the rest of ragtune.
type Backend struct {
	Store *store.Store
	// Retriever returns the retriever for a mode (it loads an embedder
	// only when the mode needs one).
	Retriever func(ctx context.Context, mode retrieve.Mode) (*retrieve.Retriever, error)
	// Generator returns the answer writer; model, when not empty, asks
	// for a specific chat model.
	Generator func(model string) (answer.Generator, error)
	Embedder  embed.Embedder // for /v1/embeddings; nil when embeddings are off
	// Ingest ingests a file or directory on the server; nil turns
	// POST /v1/ingest off.
	Ingest     func(ctx context.Context, path string, tags []string) (any, error)
	IngestRoot string        // JSON ingest requests name paths inside this directory
	UploadDir  string        // uploaded files are saved here, then ingested
	Mode       retrieve.Mode // default retrieval mode
	K          int           // default k
}

// Options set limits and security.
type Options struct {
	// Insecure turns authentication off; the caller must bind to
	// loopback only.
	Insecure    bool
	MaxBody     int64         // request body limit in bytes
	RateLimit   float64       // requests per second per key; 0 = none
	RateBurst   int           // bucket size
	AnswerLimit time.Duration // longest an answer may take
	Log         *slog.Logger
}

// Server holds the handlers' shared state.
type Server struct {
	b       Backend
	opts    Options
	metrics *metrics
	limits  *limiter
	mux     *http.ServeMux
	wg      sync.WaitGroup // in-flight streams, for graceful shutdown
}

// New builds a server.
func New(b Backend, opts Options) *Server {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.AnswerLimit <= 0 {
		opts.AnswerLimit = 2 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if b.K <= 0 {
		b.K = retrieve.DefaultK
	}
	s := &Server{b: b, opts: opts, metrics: newMetrics(), limits: newLimiter(opts.RateLimit, opts.RateBurst), mux: http.NewServeMux()}
	s.route("GET /{$}", "", uiHandler().ServeHTTP)
	s.route("GET /app.js", "", uiHandler().ServeHTTP)
	s.route("GET /healthz", "", s.health)
	s.route("GET /metrics", "", s.metrics.serve)
	s.route("POST /v1/search", "read", s.search)
	s.route("POST /v1/ask", "read", s.ask)
	s.route("GET /v1/ask/ws", "read", s.askWS)
	s.route("GET /v1/documents", "read", s.documents)
	s.route("POST /v1/ingest", "write", s.ingest)
	s.route("DELETE /v1/documents/{id}", "write", s.deleteDocument)
	s.route("POST /v1/chat/completions", "read", s.chatCompletions)
	s.route("POST /v1/embeddings", "read", s.embeddings)
	return s
}

// Handler is the HTTP handler of the server.
func (s *Server) Handler() http.Handler { return s.mux }

// Wait blocks until in-flight streamed answers have finished.
func (s *Server) Wait() { s.wg.Wait() }

// route registers h behind metrics, authentication (scope "" is public),
// rate limits and the body limit.
func (s *Server) route(pattern, scope string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.metrics.wrap(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := ""
		if scope != "" && !s.opts.Insecure {
			var ok bool
			if key, ok = s.authorize(w, r, scope); !ok {
				return
			}
		}
		if scope != "" && !s.limits.allow(key) {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "rate limit exceeded; slow down")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		h(w, r)
	})))
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope string) (string, bool) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && r.URL.Query().Get("access_token") != "" {
		// Browsers cannot set headers on a WebSocket handshake.
		key, ok = r.URL.Query().Get("access_token"), true
	}
	if !ok || key == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ragtune"`)
		writeError(w, http.StatusUnauthorized, "missing API key: send Authorization: Bearer <key>")
		return "", false
	}
	scopes, err := s.b.Store.CheckAPIKey(r.Context(), key)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "invalid API key")
		return "", false
	}
	for _, sc := range scopes {
		if sc == scope {
			return key, true
		}
	}
	writeError(w, http.StatusForbidden, fmt.Sprintf("this key lacks the %q scope", scope))
	return "", false
}

// apiError is the error body, shaped like OpenAI's so its clients show
// the message.
type apiError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	var e apiError
	e.Error.Message, e.Error.Type, e.Error.Code = msg, http.StatusText(code), code
	writeJSON(w, code, e)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// decode reads a JSON body strictly, answering 400/413 itself on error.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", tooBig.Limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	return true
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if _, err := s.b.Store.Meta(r.Context(), "schema_version"); err != nil {
		writeError(w, http.StatusServiceUnavailable, "store unavailable: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
