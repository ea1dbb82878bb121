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
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/testset"
)

// Collection is what the handlers need of one collection's data and
// machinery; a *project.Project is one.
type Collection interface {
	// Retriever returns the retriever for a mode (it loads an embedder
	// only when the mode needs one).
	Retriever(ctx context.Context, mode retrieve.Mode) (*retrieve.Retriever, error)
	// Generator returns the answer writer; model, when not empty, asks
	// for a specific chat model.
	Generator(ctx context.Context, model string) (answer.Generator, error)
	// Embedder is the document embedder, for /v1/embeddings; nil when
	// embeddings are off.
	Embedder(ctx context.Context) (embed.Embedder, error)
	Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error)
	DeleteDocument(ctx context.Context, id string) (bool, error)
	// IngestPath ingests a file or directory on the server.
	IngestPath(ctx context.Context, path string, tags []string) (*ingest.Report, error)
	// TestSetDir is the folder of the collection's QA test sets, which
	// the review API lists and edits (it may not exist).
	TestSetDir() string
	// Document reads a stored document with its chunks: the passages
	// test-set items were written from are shown beside them.
	Document(ctx context.Context, path string) (corpus.Document, error)
}

// Keys checks a collection's API keys; a *store.Store is one, and so is
// a Weaviate corpus, which keeps them in the cluster.
type Keys interface {
	// CheckAPIKey returns the key's name and scopes.
	CheckAPIKey(ctx context.Context, key string) (string, []string, error)
	// Ping reports whether the key database answers (for /healthz).
	Ping(ctx context.Context) error
	// RevokeAPIKey deletes the key called name; false if there is none.
	RevokeAPIKey(ctx context.Context, name string) (bool, error)
}

// Backend is one served collection.
type Backend struct {
	Collection Collection
	Keys       Keys
	// Ingest turns POST /v1/ingest on.
	Ingest     bool
	IngestRoot string // JSON ingest requests name paths inside this directory
	UploadDir  string // uploaded files are saved here, then ingested
	// DocumentRoot is the folder document paths are relative to, so that
	// deleting an uploaded document removes its file.
	DocumentRoot string
	// MCP, when set, serves the Model Context Protocol (streamable HTTP)
	// at /mcp, behind the same keys (read scope).
	MCP http.Handler
	// Feedback, when set, records every answered question and takes
	// ratings at POST /v1/feedback; nil records nothing.
	Feedback FeedbackStore
	// FeedbackRetention is how long recorded interactions are kept (0:
	// forever).
	FeedbackRetention time.Duration
	// Runs, when set, is the collection's eval history, which GET
	// /v1/eval/runs lists and GET /v1/advise reads as evidence.
	Runs evaluate.RunStore
	// Churn, when set, measures how often documents change, which the
	// decision reads when a team does not say.
	Churn Churner
	// ProjectDir, when set, is the project folder the decision reads the
	// prepared training data's report from (advise.PreparedFile).
	ProjectDir string
	// Activity, when set, records uploads and watch and crawl rounds,
	// which GET /v1/ingest/status reports.
	Activity IngestActivity
	Mode     retrieve.Mode // default retrieval mode
	K        int           // default k

	// reviewer applies review decisions to the collection's test sets,
	// one at a time per test-set directory.
	reviewer *testset.Reviewer
}

// Options set limits and security.
type Options struct {
	// Insecure turns authentication off; the caller must bind to
	// loopback only.
	Insecure    bool
	MaxBody     int64         // JSON request body limit in bytes
	MaxUpload   int64         // file upload (POST /v1/ingest, multipart) limit in bytes
	RateLimit   float64       // requests per second per key; 0 = none
	RateBurst   int           // bucket size
	AnswerLimit time.Duration // longest an answer may take
	SearchLimit time.Duration // longest a search (and its query embedding) may take
	// MaxConns bounds open connections (WebSockets included); more wait
	// in the listen queue. 1024 when zero.
	MaxConns int
	// TLSCert and TLSKey, both set, serve HTTPS.
	TLSCert, TLSKey string
	// AllowHosts are host names, besides loopback ones, that requests to
	// an --insecure-local server may name in their Host header.
	AllowHosts []string
	Log        *slog.Logger
}

// Server holds the handlers' shared state.
type Server struct {
	collections map[string]*Backend
	def         string // the collection a request gets when it names none
	opts        Options
	metrics     *metrics
	limits      *limiter
	mux         *http.ServeMux
	wg          sync.WaitGroup // in-flight streams, for graceful shutdown
	sockets     sockets        // open WebSockets per key
	guesses     *guessLimiter  // invalid keys per client address
	// stopping ends when the server begins to shut down: long work (an
	// ingest) stops then instead of holding the shutdown.
	stopping context.Context
	stop     context.CancelFunc
}

// DefaultCollection names the collection of a single-store server.
const DefaultCollection = "default"

// New builds a server over one store.
func New(b Backend, opts Options) *Server {
	return NewMulti(map[string]Backend{DefaultCollection: b}, DefaultCollection, opts)
}

// NewMulti builds a server over several collections, each its own store
// with its own API keys: a key opens only the collections whose store
// holds it. Requests pick a collection with ?collection=NAME (or the
// X-Ragtune-Collection header); without one they get the only collection
// the key opens, or def.
func NewMulti(backends map[string]Backend, def string, opts Options) *Server {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = 64 << 20
	}
	if opts.AnswerLimit <= 0 {
		opts.AnswerLimit = 2 * time.Minute
	}
	if opts.SearchLimit <= 0 {
		opts.SearchLimit = 30 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 1024
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{collections: map[string]*Backend{}, def: def, opts: opts, metrics: newMetrics(),
		limits: newLimiter(opts.RateLimit, opts.RateBurst), mux: http.NewServeMux(), guesses: newGuessLimiter()}
	s.stopping, s.stop = context.WithCancel(context.Background())
	reviewers := map[string]*testset.Reviewer{}
	for name, b := range backends {
		if b.K <= 0 {
			b.K = retrieve.DefaultK
		}
		b.reviewer = reviewerFor(reviewers, b.Collection)
		if b.Runs != nil {
			// Every run leaves the server through here: no paths of the
			// machine that made it (publicruns.go).
			b.Runs = publicRuns{b.Runs}
		}
		s.collections[name] = &b
	}
	s.mux.HandleFunc("/", s.notFound)
	ui := uiHandler()
	for _, file := range uiRoutes() {
		s.route("GET "+file, "", ui.ServeHTTP)
	}
	s.route("GET /healthz", "", s.health)
	s.route("GET /metrics", "", s.metrics.serve)
	s.route("POST /v1/search", "read", s.search)
	s.route("POST /v1/ask", "read", s.ask)
	s.route("GET /v1/ask/ws", "read", s.askWS)
	s.route("GET /v1/documents", "read", s.documents)
	s.route("POST /v1/ingest", "write", s.ingest)
	s.route("GET /v1/ingest/status", "read", s.ingestStatus)
	s.route("DELETE /v1/documents/{id}", "write", s.deleteDocument)
	s.route("DELETE /v1/keys/{name}", "admin", s.revokeKey)
	s.route("POST /v1/feedback", "read", s.rate)
	s.route("GET /v1/feedback", "admin", s.feedbackList)
	s.route("GET /v1/testsets", "read", s.testSets)
	s.route("GET /v1/testsets/{name}", "read", s.testSetItems)
	s.route("POST /v1/testsets/{name}/items/{id}/review", "write", s.reviewTestSetItem)
	s.route("GET /v1/session", "read", s.session)
	s.route("GET /v1/eval/runs", "read", s.evalRuns)
	s.route("GET /v1/eval/runs/{id}", "read", s.evalRun)
	s.route("GET /v1/eval/runs/{id}/report", "read", s.evalRunReport)
	s.route("GET /v1/eval/diff", "read", s.evalDiff)
	s.route("GET /v1/advise", "read", s.adviseHandler)
	s.route("POST /v1/chat/completions", "read", s.chatCompletions)
	s.route("POST /v1/embeddings", "read", s.embeddings)
	s.route("GET /v1/models", "read", s.models)
	for _, m := range []string{"POST", "GET", "DELETE"} {
		s.route(m+" /mcp", "read", s.mcp)
	}
	s.route("GET /v1/models/{id}", "read", s.model)
	return s
}

// Handler is the HTTP handler of the server.
func (s *Server) Handler() http.Handler { return s.mux }

// Wait blocks until in-flight streamed answers have finished.
func (s *Server) Wait() { s.wg.Wait() }

// route registers h behind metrics, collection choice, authentication
// (scope "" is public), rate limits and the body limit.
func (s *Server) route(pattern, scope string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.observe(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scope == "" {
			h(w, r)
			return
		}
		key, b, ok := s.admit(w, r, scope)
		if !ok {
			return
		}
		if !s.limits.allow(key) {
			w.Header().Set("Retry-After", "1")
			refuse(w, http.StatusTooManyRequests, "rate limit exceeded; slow down")
			return
		}
		if code, msg := s.crossSite(r); code != 0 {
			refuse(w, code, msg)
			return
		}
		limit := s.opts.MaxBody
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") && pattern == "POST /v1/ingest" {
			limit = s.opts.MaxUpload
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ctx := context.WithValue(context.WithValue(r.Context(), backendKey{}, b), apiKeyKey{}, key)
		h(w, r.WithContext(ctx))
	})))
}

type backendKey struct{}

type apiKeyKey struct{}

// apiKeyOf is the key a request was admitted with ("" with keys off).
func apiKeyOf(ctx context.Context) string { k, _ := ctx.Value(apiKeyKey{}).(string); return k }

// backendOf returns the collection a request was admitted to.
func backendOf(ctx context.Context) *Backend { return ctx.Value(backendKey{}).(*Backend) }

// admit picks the request's collection and checks its key there.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, scope string) (string, *Backend, bool) {
	name := r.URL.Query().Get("collection")
	if name == "" {
		name = r.Header.Get("X-Ragtune-Collection")
	}
	key, hasKey := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !hasKey && r.URL.Query().Get("access_token") != "" && websocketHandshake(r) {
		// Browsers cannot set headers on a WebSocket handshake; anywhere
		// else a key in the URL would end up in logs and histories.
		key, hasKey = r.URL.Query().Get("access_token"), true
	}
	if s.opts.Insecure {
		if name == "" {
			name = s.def
		}
		b, ok := s.collections[name]
		if !ok {
			refuse(w, http.StatusNotFound, fmt.Sprintf("no collection %q", name))
		}
		return "", b, ok
	}
	if !hasKey || key == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ragtune"`)
		refuse(w, http.StatusUnauthorized, "missing API key: send Authorization: Bearer <key>")
		return "", nil, false
	}
	if !s.guesses.allow(clientIP(r)) {
		w.Header().Set("Retry-After", "1")
		refuse(w, http.StatusTooManyRequests, "too many invalid API keys from this address; slow down")
		return "", nil, false
	}
	granted, names := map[string][]string{}, map[string]string{}
	for n, b := range s.collections {
		if keyName, scopes, err := b.Keys.CheckAPIKey(r.Context(), key); err == nil {
			granted[n], names[n] = scopes, keyName
			infoOf(r.Context()).keyName = keyName
		}
	}
	if len(granted) == 0 {
		s.guesses.failed(clientIP(r))
		s.opts.Log.Warn("invalid API key", "remote", r.RemoteAddr, "route", r.URL.Path)
		refuse(w, http.StatusUnauthorized, "invalid API key")
		return "", nil, false
	}
	if name == "" {
		name = s.def
		if len(granted) == 1 {
			for n := range granted {
				name = n
			}
		}
	}
	b, ok := s.collections[name]
	scopes, opened := granted[name]
	if opened {
		// Keys are per store: the name is the one this collection knows.
		info := infoOf(r.Context())
		info.keyName, info.scopes, info.collection = names[name], scopes, name
	}
	switch {
	case !ok:
		refuse(w, http.StatusNotFound, fmt.Sprintf("no collection %q", name))
		return "", nil, false
	case !opened:
		refuse(w, http.StatusForbidden, fmt.Sprintf("this key does not open collection %q", name))
		return "", nil, false
	}
	for _, sc := range scopes {
		if sc == scope {
			return key, b, true
		}
	}
	refuse(w, http.StatusForbidden, fmt.Sprintf("this key lacks the %q scope on collection %q", scope, name))
	return "", nil, false
}

// refuse answers a request that will not be served without reading its
// body: the connection closes after the answer, so a client that declares
// a body and never sends it cannot hold the connection.
func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Connection", "close")
	writeError(w, code, msg)
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

// decode reads a JSON body strictly (no unknown fields, one value),
// answering 400/413 itself on error.
func decode(w http.ResponseWriter, r *http.Request, v any) bool { return decodeBody(w, r, v, true) }

// decodeLoose is decode for OpenAI's endpoints, whose clients send fields
// ragtune has no use for.
func decodeLoose(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeBody(w, r, v, false)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any, strict bool) bool {
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("the body holds more than one JSON value")
		}
	}
	if err != nil {
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
	for name, b := range s.collections {
		if err := b.Keys.Ping(r.Context()); err != nil {
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("collection %s unavailable: %v", name, err))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "collections": len(s.collections)})
}

// mcp hands a Model Context Protocol request to the collection's server.
func (s *Server) mcp(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	if b.MCP == nil {
		writeError(w, http.StatusNotFound, "MCP is off for this collection")
		return
	}
	b.MCP.ServeHTTP(w, r)
}
