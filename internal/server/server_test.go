package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/project"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragtune/ragtune/internal/retrieve"
)

type fixture struct {
	url   string
	dir   string // the project directory, also the ingest root
	p     *project.Project
	read  string // key with read scope
	write string // key with read and write scopes
}

// openProject creates a real project (config defaults, embedded store)
// in dir.
func openProject(t testing.TB, dir string) *project.Project {
	t.Helper()
	cfg := config.Default()
	cfg.Dir, cfg.Store.Path = dir, filepath.Join(dir, ".ragtune")
	p, err := project.Init(t.Context(), cfg, project.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func upsert(t testing.TB, p *project.Project, docs ...corpus.Document) {
	t.Helper()
	c, err := p.Corpus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	dir := t.TempDir()
	p := openProject(t, dir)
	var docs []corpus.Document
	for path, text := range map[string]string{
		"ops/keys.md":    "Signing keys rotate every ninety days. To rotate a key by hand, run the rotate command.",
		"ops/backups.md": "Backups run every night at two in the morning and are kept for thirty days.",
	} {
		docs = append(docs, corpus.Document{Path: path, Title: path, Chunks: []corpus.Chunk{{ID: corpus.ChunkID(path, 0, text), Text: text, LineStart: 1, LineEnd: 1}}})
	}
	upsert(t, p, docs...)
	f := &fixture{dir: dir, p: p}
	f.read, _ = p.Store().CreateAPIKey(t.Context(), "reader", []string{"read"})
	f.write, _ = p.Store().CreateAPIKey(t.Context(), "admin", []string{"read", "write"})
	ts := httptest.NewServer(New(f.backend(), opts).Handler()) // a real server on 127.0.0.1
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// backend serves the fixture's project as the cmd package does.
func (f *fixture) backend() Backend {
	return Backend{Collection: f.p, Keys: f.p.Store(), Mode: retrieve.Lexical, K: 4,
		Ingest: true, IngestRoot: f.dir, UploadDir: filepath.Join(f.dir, "uploads"), DocumentRoot: f.dir,
		Runs: f.p.Store(), Churn: f.p, ProjectDir: f.dir}
}

func (f *fixture) do(t *testing.T, method, path, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestRESTAndErrors(t *testing.T) {
	f := newFixture(t, Options{MaxBody: 256, RateLimit: 0})
	tests := []struct {
		name, method, path, key, body string
		code                          int
		contains                      string
	}{
		{"health is public", "GET", "/healthz", "", "", 200, `"ok"`},
		{"no key", "POST", "/v1/search", "", `{"query":"keys"}`, 401, "missing API key"},
		{"bad key", "POST", "/v1/search", "rt_nope", `{"query":"keys"}`, 401, "invalid API key"},
		{"search", "POST", "/v1/search", f.read, `{"query":"rotate signing keys"}`, 200, `"doc":"ops/keys.md"`},
		{"malformed JSON", "POST", "/v1/search", f.read, `{"query":`, 400, "malformed JSON"},
		{"unknown field", "POST", "/v1/search", f.read, `{"qery":"x"}`, 400, "unknown field"},
		{"empty query", "POST", "/v1/search", f.read, `{"query":"  "}`, 400, "empty"},
		{"bad mode", "POST", "/v1/search", f.read, `{"query":"x","mode":"psychic"}`, 400, "unknown retrieval mode"},
		{"oversized body", "POST", "/v1/search", f.read, `{"query":"` + strings.Repeat("a", 400) + `"}`, 413, "over 256 bytes"},
		{"ask", "POST", "/v1/ask", f.read, `{"question":"How often do signing keys rotate?"}`, 200, `"abstained":false`},
		{"ask declines", "POST", "/v1/ask", f.read, `{"question":"What is the capital of France?"}`, 200, "I do not have information about that."},
		{"documents", "GET", "/v1/documents", f.read, "", 200, "ops/backups.md"},
		{"delete needs write", "DELETE", "/v1/documents/" + corpus.DocID("ops/backups.md"), f.read, "", 403, `lacks the`},
		{"delete", "DELETE", "/v1/documents/" + corpus.DocID("ops/backups.md"), f.write, "", 204, ""},
		{"delete again", "DELETE", "/v1/documents/" + corpus.DocID("ops/backups.md"), f.write, "", 404, "no document"},
		{"unknown model", "POST", "/v1/chat/completions", f.read, `{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}`, 404, "not found"},
		{"embeddings off", "POST", "/v1/embeddings", f.read, `{"input":"x","model":"m"}`, 404, "embeddings are off"},
		{"metrics", "GET", "/metrics", "", "", 200, `ragtune_http_requests_total{route="POST /v1/search",status="401"} 2`},
	}
	for _, tc := range tests {
		res, body := f.do(t, tc.method, tc.path, tc.key, tc.body)
		if res.StatusCode != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d containing %q", tc.name, res.StatusCode, body, tc.code, tc.contains)
		}
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, Options{RateLimit: 1, RateBurst: 2})
	codes := map[int]int{}
	for range 5 {
		res, _ := f.do(t, "POST", "/v1/search", f.read, `{"query":"keys"}`)
		codes[res.StatusCode]++
	}
	if codes[200] != 2 || codes[429] != 3 {
		t.Errorf("status counts %v, want 2 ok then 429s", codes)
	}
	if res, _ := f.do(t, "POST", "/v1/search", f.write, `{"query":"keys"}`); res.StatusCode != 200 {
		t.Errorf("another key has its own bucket: %d", res.StatusCode)
	}
}

// TestAskStreamsSSE reads the event stream as a browser's EventSource
// would: the retrieved hits, tokens, the citation, usage, done.
func TestAskStreamsSSE(t *testing.T) {
	f := newFixture(t, Options{})
	req, _ := http.NewRequest("POST", f.url+"/v1/ask?stream=true", strings.NewReader(`{"question":"How often do signing keys rotate?"}`))
	req.Header.Set("Authorization", "Bearer "+f.read)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var events []string
	var citation map[string]any
	sc := bufio.NewScanner(res.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: ") && event == "citation":
			var ev map[string]any
			json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev)
			citation = ev["citation"].(map[string]any)
		}
	}
	if got := strings.Join(events, ","); got != "retrieved,assessment,token,citation,usage,done" {
		t.Errorf("events %s", got)
	}
	if citation["doc"] != "ops/keys.md" {
		t.Errorf("citation %v", citation)
	}
}

// TestOfficialOpenAIClient points the official openai-go SDK at ragtune.
func TestOfficialOpenAIClient(t *testing.T) {
	f := newFixture(t, Options{})
	client := openai.NewClient(option.WithBaseURL(f.url+"/v1"), option.WithAPIKey(f.read), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{Model: "ragtune",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("How often do signing keys rotate?")}}
	res, err := client.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Choices) != 1 || !strings.Contains(res.Choices[0].Message.Content, "ninety days") || !strings.Contains(res.RawJSON(), `"sources"`) ||
		!strings.Contains(res.RawJSON(), `"answerability"`) || !strings.Contains(res.RawJSON(), `"short_answer":"ninety days"`) {
		t.Errorf("completion %s", res.RawJSON())
	}
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(t.Context(), params)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; !strings.Contains(got, "[1]") || got != res.Choices[0].Message.Content {
		t.Errorf("streamed %q, non-streamed %q", got, res.Choices[0].Message.Content)
	}
	if res.Usage.PromptTokens == 0 || res.Usage.CompletionTokens == 0 || acc.Usage.CompletionTokens != res.Usage.CompletionTokens {
		t.Errorf("usage: %+v, streamed %+v; want real token counts", res.Usage, acc.Usage)
	}
	stream = client.Chat.Completions.NewStreaming(t.Context(), params)
	pieces := 0
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			pieces++
		}
	}
	if words := len(strings.Fields(res.Choices[0].Message.Content)); pieces != words {
		t.Errorf("%d streamed pieces for a %d-word answer; want one a word", pieces, words)
	}
	// A follow-up names its subject only through the conversation.
	followUp := openai.ChatCompletionNewParams{Model: "ragtune", Messages: []openai.ChatCompletionMessageParamUnion{
		openai.UserMessage("How often do signing keys rotate?"), openai.AssistantMessage(res.Choices[0].Message.Content),
		openai.UserMessage("And by hand?")}}
	next, err := client.Chat.Completions.New(t.Context(), followUp)
	if err != nil {
		t.Fatal(err)
	}
	if got := next.Choices[0].Message.Content; !strings.Contains(got, "rotate command") {
		t.Errorf("follow-up answered %q; want the rotate command from ops/keys.md", got)
	}
	models, err := client.Models.List(t.Context())
	if err != nil || len(models.Data) != 4 || models.Data[0].ID != "ragtune" {
		t.Fatalf("models: %+v, %v", models, err)
	}
	if m, err := client.Models.Get(t.Context(), "ragtune/hybrid"); err != nil || m.ID != "ragtune/hybrid" {
		t.Errorf("model: %+v, %v", m, err)
	}
	if _, err := client.Models.Get(t.Context(), "gpt-4"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown model: %v", err)
	}
	wrong := openai.NewClient(option.WithBaseURL(f.url+"/v1"), option.WithAPIKey("wrong"), option.WithMaxRetries(0))
	if _, err := wrong.Chat.Completions.New(t.Context(), params); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong key: %v", err)
	}
}

func TestEmptyRequestBodyIsABadRequest(t *testing.T) {
	f := newFixture(t, Options{})
	res, body := f.do(t, "POST", "/v1/ask", f.read, "")
	if res.StatusCode != 400 || !bytes.Contains([]byte(body), []byte("malformed JSON")) {
		t.Errorf("%d %s", res.StatusCode, body)
	}
}

func TestAskOverWebSocket(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := t.Context()
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/v1/ask/ws", nil); err == nil {
		t.Fatal("handshake without a key succeeded")
	}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/v1/ask/ws?access_token="+f.read, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, q := range []string{"How often do signing keys rotate?", "What is the capital of France?"} {
		if err := wsjson.Write(ctx, c, map[string]string{"question": q}); err != nil {
			t.Fatal(err)
		}
		var types []string
		for {
			var ev map[string]any
			if err := wsjson.Read(ctx, c, &ev); err != nil {
				t.Fatal(err)
			}
			types = append(types, ev["type"].(string))
			if ev["type"] == "done" || ev["type"] == "error" {
				break
			}
		}
		got := strings.Join(types, ",")
		if q[0] == 'H' && got != "retrieved,assessment,token,citation,usage,done" || q[0] == 'W' && !strings.Contains(got, "abstain") {
			t.Errorf("%q: events %s", q, got)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestIngestEndpoint(t *testing.T) {
	f := newFixture(t, Options{MaxBody: 1 << 16, MaxUpload: 1 << 16})
	root := f.dir
	os.MkdirAll(filepath.Join(root, "docs"), 0o755)
	os.WriteFile(filepath.Join(root, "docs", "a.md"), []byte("# A\n\nAlpha document about rotation."), 0o644)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.md"), []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(root, "escape"))
	srv := New(f.backend(), Options{MaxBody: 1 << 16, MaxUpload: 1 << 16})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	f.url = ts.URL

	for _, tc := range []struct {
		key, body string
		code      int
		contains  string
	}{
		{f.read, `{"path":"docs"}`, 403, "lacks the"},
		{f.write, `{"path":"../../etc"}`, 400, "outside the ingest root"},
		{f.write, `{"path":"/etc"}`, 400, "must be relative"},
		{f.write, `{"path":"escape"}`, 400, "outside the ingest root"},
		{f.write, `{"path":"missing"}`, 400, "no such file"},
		{f.write, `{"path":"docs","tags":["team"]}`, 200, `"added":1`},
	} {
		res, body := f.do(t, "POST", "/v1/ingest", tc.key, tc.body)
		if res.StatusCode != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d with %q", tc.body, res.StatusCode, body, tc.code, tc.contains)
		}
	}
	upload := func(name, content string) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
		mw.Close()
		req, _ := http.NewRequest("POST", f.url+"/v1/ingest", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+f.write)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, body := upload("notes.md", "# Notes\n\nUploaded notes about backups."); res.StatusCode != 200 || !strings.Contains(body, `"added":1`) {
		t.Errorf("upload: %d %s", res.StatusCode, body)
	}
	// Go's multipart reader reduces a file name to its base; whatever a
	// client sends, the file lands in the upload directory.
	if res, body := upload("../../evil.md", "x"); res.StatusCode != 200 || !strings.Contains(body, "uploads/evil.md") {
		t.Errorf("traversal upload: %d %s", res.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(root, "..", "evil.md")); err == nil {
		t.Error("an upload escaped the upload directory")
	}
	if res, body := upload(".hidden.md", "x"); res.StatusCode != 400 || !strings.Contains(body, "start with a dot") {
		t.Errorf("dot-file upload: %d %s", res.StatusCode, body)
	}
	if res, body := upload("big.md", strings.Repeat("x", 1<<17)); res.StatusCode != 413 {
		t.Errorf("oversized upload: %d %s", res.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(root, "uploads", "big.md")); err == nil {
		t.Error("a refused upload left a file behind")
	}
	if res, body := upload("image.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"); res.StatusCode != 200 || !strings.Contains(body, `"skipped":1`) {
		t.Errorf("unsupported upload: %d %s", res.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(root, "uploads", "image.png")); err == nil {
		t.Error("a skipped upload was kept on disk")
	}
	res, body := f.do(t, "POST", "/v1/search", f.read, `{"query":"uploaded notes backups","tags":[]}`)
	if res.StatusCode != 200 || !strings.Contains(body, "uploads/notes.md") {
		t.Errorf("uploaded document not searchable: %s", body)
	}
	// Deleting an uploaded document removes the file the server saved.
	if res, body := f.do(t, "DELETE", "/v1/documents/"+corpus.DocID("uploads/notes.md"), f.write, ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(root, "uploads", "notes.md")); err == nil {
		t.Error("the deleted document's upload is still on disk")
	}
}

// TestCollections serves two stores; each store's keys open only it.
func TestCollections(t *testing.T) {
	a, b := newFixture(t, Options{}), newFixture(t, Options{})
	// Give collection b different content so answers show which was used.
	upsert(t, b.p, corpus.Document{Path: "hr/leave.md", Chunks: []corpus.Chunk{{ID: "hr1", Text: "Annual leave is thirty days for every employee."}}})
	srv := NewMulti(map[string]Backend{"eng": a.backend(), "hr": b.backend()}, "eng", Options{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	f := &fixture{url: ts.URL}
	for _, tc := range []struct {
		path, key string
		code      int
		contains  string
	}{
		{"/v1/search", a.read, 200, "ops/keys.md"},
		{"/v1/search?collection=eng", a.read, 200, "ops/keys.md"},
		{"/v1/search?collection=hr", a.read, 403, `does not open collection`},
		{"/v1/search", b.read, 200, "hr/leave.md"}, // the only collection b's key opens
		{"/v1/search?collection=nope", b.read, 404, `no collection`},
	} {
		res, body := f.do(t, "POST", tc.path, tc.key, `{"query":"keys leave days"}`)
		if res.StatusCode != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d with %q", tc.path, res.StatusCode, body, tc.code, tc.contains)
		}
	}
}

// TestRevokeKeyOverHTTP: only an admin key may revoke, and a revoked key
// is refused on its next request.
func TestRevokeKeyOverHTTP(t *testing.T) {
	f := newFixture(t, Options{})
	admin, err := f.p.Store().CreateAPIKey(t.Context(), "ops", []string{"admin"})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := f.do(t, "DELETE", "/v1/keys/reader", f.write, ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a write key revoked a key: %d", res.StatusCode)
	}
	if res, _ := f.do(t, "POST", "/v1/search", f.read, `{"query":"keys"}`); res.StatusCode != 200 {
		t.Fatalf("search before revoking: %d", res.StatusCode)
	}
	if res, body := f.do(t, "DELETE", "/v1/keys/reader", admin, ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("admin revoke: %d %s", res.StatusCode, body)
	}
	if res, _ := f.do(t, "POST", "/v1/search", f.read, `{"query":"keys"}`); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked key still searches: %d", res.StatusCode)
	}
	if res, _ := f.do(t, "DELETE", "/v1/keys/reader", admin, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoking an unknown key: %d", res.StatusCode)
	}
}

// TestRefusedBeforeTheBody: a request without a key that declares a body
// and never sends it is answered 401 at once and the connection closed,
// not held while the server waits for the body.
func TestRefusedBeforeTheBody(t *testing.T) {
	f := newFixture(t, Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/search HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", strings.TrimPrefix(f.url, "http://"))
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a request without a key that sends no body: %v", err)
	}
	if res.StatusCode != http.StatusUnauthorized || !res.Close {
		t.Errorf("status %d, close %v; want 401 and Connection: close", res.StatusCode, res.Close)
	}
}

// TestWebSocketLimits: every question on a socket counts against the
// key's rate limit, and one key holds at most maxSocketsPerKey sockets.
func TestWebSocketLimits(t *testing.T) {
	f := newFixture(t, Options{RateLimit: 1, RateBurst: 3})
	ctx := t.Context()
	url := "ws" + strings.TrimPrefix(f.url, "http") + "/v1/ask/ws?access_token=" + f.read
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	limited := 0
	for range 8 {
		if err := wsjson.Write(ctx, c, map[string]string{"question": "How often do signing keys rotate?"}); err != nil {
			t.Fatal(err)
		}
		for {
			var ev map[string]any
			if err := wsjson.Read(ctx, c, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["type"] == "error" && strings.Contains(fmt.Sprint(ev["error"]), "rate limit") {
				limited++
				break
			}
			if ev["type"] == "done" || ev["type"] == "error" {
				break
			}
		}
	}
	// The handshake took one token, so at most 2 of the 8 questions fit the burst.
	if limited < 5 {
		t.Errorf("%d of 8 questions refused at 1/s with burst 3; want at least 5", limited)
	}

	g := newFixture(t, Options{})
	url = "ws" + strings.TrimPrefix(g.url, "http") + "/v1/ask/ws?access_token=" + g.read
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			c.CloseNow()
		}
	}()
	for range maxSocketsPerKey {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatalf("socket %d: %v", len(open)+1, err)
		}
		open = append(open, c)
	}
	if _, res, err := websocket.Dial(ctx, url, nil); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("socket %d: %v; want 429", maxSocketsPerKey+1, err)
	}
}

// TestInsecureLocalAgainstBrowsers: a keyless server answers only
// requests that name localhost, and takes writes only as JSON from its
// own pages; unknown routes and methods get OpenAI's error object.
func TestInsecureLocalAgainstBrowsers(t *testing.T) {
	f := newFixture(t, Options{Insecure: true})
	host := strings.TrimPrefix(f.url, "http://")
	for _, tc := range []struct {
		name, method, path, ctype, body string
		headers                         map[string]string
		code                            int
	}{
		{"curl-like JSON", "POST", "/v1/search", "application/json", `{"query":"keys"}`, nil, 200},
		{"rebinding Host", "POST", "/v1/search", "application/json", `{"query":"keys"}`, map[string]string{"Host": "evil.example:8080"}, 421},
		{"rebinding Host on GET", "GET", "/v1/documents", "", "", map[string]string{"Host": "evil.example"}, 421},
		{"text/plain form", "POST", "/v1/search", "text/plain", `{"query":"keys"}`, nil, 415},
		{"cross-site fetch", "POST", "/v1/search", "application/json", `{"query":"keys"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"other origin", "POST", "/v1/ingest", "multipart/form-data; boundary=x", "--x--", map[string]string{"Origin": "http://evil.example"}, 403},
		{"own page", "POST", "/v1/search", "application/json", `{"query":"keys"}`, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + host}, 200},
		{"unknown route", "GET", "/v1/nothing", "", "", nil, 404},
		{"wrong method", "GET", "/v1/search", "", "", nil, 405},
	} {
		req, _ := http.NewRequest(tc.method, f.url+tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		for k, v := range tc.headers {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code {
			t.Errorf("%s: %d %s; want %d", tc.name, res.StatusCode, body, tc.code)
		}
		if res.StatusCode >= 400 && !strings.Contains(string(body), `"error":{"message"`) {
			t.Errorf("%s: not OpenAI's error object: %s", tc.name, body)
		}
		if tc.code == 405 && res.Header.Get("Allow") != "POST" {
			t.Errorf("405 without Allow: POST (%q)", res.Header.Get("Allow"))
		}
	}
}

// TestAccessTokenOnlyOnTheHandshake: a key in the URL opens a WebSocket,
// never a REST call (it would end up in logs and browser histories).
func TestAccessTokenOnlyOnTheHandshake(t *testing.T) {
	f := newFixture(t, Options{})
	res, err := http.Post(f.url+"/v1/search?access_token="+f.read, "application/json", strings.NewReader(`{"query":"keys"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("REST with access_token: %d, want 401", res.StatusCode)
	}
}

// TestEmbeddingsWireFormat: encoding_format base64 (the official SDKs'
// default) carries the same float32s as the float form, and a dimensions
// other than the model's is refused, not ignored.
func TestEmbeddingsWireFormat(t *testing.T) {
	p, _ := embeddingProject(t)
	key, _ := p.Store().CreateAPIKey(t.Context(), "r", []string{"read"})
	ts := httptest.NewServer(New(Backend{Collection: p, Keys: p.Store(), Mode: retrieve.Lexical}, Options{}).Handler())
	defer ts.Close()
	post := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/embeddings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		json.NewDecoder(res.Body).Decode(&v)
		return res.StatusCode, v
	}
	code, asFloats := post(`{"input":"signing keys rotate","model":"x"}`)
	if code != 200 {
		t.Fatalf("float embeddings: %d %v", code, asFloats)
	}
	floats := asFloats["data"].([]any)[0].(map[string]any)["embedding"].([]any)
	code, asB64 := post(`{"input":"signing keys rotate","model":"x","encoding_format":"base64"}`)
	if code != 200 {
		t.Fatalf("base64 embeddings: %d %v", code, asB64)
	}
	raw, err := base64.StdEncoding.DecodeString(asB64["data"].([]any)[0].(map[string]any)["embedding"].(string))
	if err != nil || len(raw) != 4*len(floats) {
		t.Fatalf("base64 payload: %d bytes for %d floats, %v", len(raw), len(floats), err)
	}
	for i := range floats {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); math.Abs(float64(got)-floats[i].(float64)) > 1e-6 {
			t.Fatalf("component %d: base64 %v, float %v", i, got, floats[i])
		}
	}
	if code, _ := post(`{"input":"x","model":"x","dimensions":256}`); code != 400 {
		t.Errorf("dimensions other than the model's: %d, want 400", code)
	}
	if code, _ := post(`{"input":"x","model":"x"} {"input":"y"}`); code != 400 {
		t.Errorf("two JSON values in one body: %d, want 400", code)
	}
}

func TestDocumentsArePaged(t *testing.T) {
	f := newFixture(t, Options{})
	var docs []corpus.Document
	for i := range 5 {
		p := fmt.Sprintf("more/%d.md", i)
		docs = append(docs, corpus.Document{Path: p, Chunks: []corpus.Chunk{{ID: corpus.ChunkID(p, 0, p), Text: "text " + p}}})
	}
	upsert(t, f.p, docs...)
	var seen []string
	for offset := 0; ; {
		res, body := f.do(t, "GET", fmt.Sprintf("/v1/documents?limit=3&offset=%d", offset), f.read, "")
		if res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		var page struct {
			Documents []corpus.DocumentInfo `json:"documents"`
			Total     int                   `json:"total"`
			Next      *int                  `json:"next_offset"`
		}
		json.Unmarshal([]byte(body), &page)
		if page.Total != 7 {
			t.Fatalf("total %d, want 7", page.Total)
		}
		for _, d := range page.Documents {
			seen = append(seen, d.Path)
		}
		if page.Next == nil {
			break
		}
		offset = *page.Next
	}
	if len(seen) != 7 {
		t.Errorf("pages gave %d documents: %v", len(seen), seen)
	}
	if res, _ := f.do(t, "GET", "/v1/documents?limit=0", f.read, ""); res.StatusCode != 400 {
		t.Errorf("limit=0: %d", res.StatusCode)
	}
}

// TestShutdownStopsLongWork: a real server on 127.0.0.1 is stopped while
// it ingests 3,000 files and holds an idle WebSocket. The ingest stops at
// once with 503 (what was ingested is kept), the socket is closed with
// 1001 (going away), and the server returns well before its 30 s grace.
func TestShutdownStopsLongWork(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 3,000 files")
	}
	f := newFixture(t, Options{})
	docs := filepath.Join(f.dir, "many")
	os.MkdirAll(docs, 0o755)
	for i := range 3000 {
		os.WriteFile(filepath.Join(docs, fmt.Sprintf("%04d.md", i)), []byte(fmt.Sprintf("# Doc %d\n\nText about topic %d and more words.", i, i%13)), 0o644)
	}
	srv := New(f.backend(), Options{})
	ctx, stop := context.WithCancel(t.Context())
	bound := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(ctx, "127.0.0.1:0", func(addr string) { bound <- addr }) }()
	url := "http://" + <-bound
	ws, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(url, "http")+"/v1/ask/ws?access_token="+f.read, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	answered := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", url+"/v1/ingest", strings.NewReader(`{"path":"many"}`))
		req.Header.Set("Authorization", "Bearer "+f.write)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		answered <- res
	}()
	// Stop as soon as the ingest has stored something: it is under way.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if stored, _ := f.p.Documents(t.Context(), "many/"); len(stored) > 0 {
			break
		}
	}
	began := time.Now()
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop within 20 s")
	}
	t.Logf("served returned %s after the stop", time.Since(began))
	res := <-answered
	if stored, _ := f.p.Documents(t.Context(), "many/"); len(stored) == 3000 && res != nil && res.StatusCode == http.StatusOK {
		t.Skip("the ingest finished before the stop; the machine is too fast for this test")
	}
	if res == nil || res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("the interrupted ingest: %+v; want 503 with Retry-After", res)
	}
	var ev map[string]any
	if err := wsjson.Read(t.Context(), ws, &ev); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("idle socket at shutdown: %v; want close 1001", err)
	}
	stored, _ := f.p.Documents(t.Context(), "many/")
	if len(stored) == 0 || len(stored) == 3000 {
		t.Logf("%d of 3000 stored before the stop", len(stored))
	}
}

// embeddingProject is a real project in a new folder with the built-in
// embedder (its weights installed by make model).
func embeddingProject(t *testing.T) (*project.Project, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Dir, cfg.Store.Path, cfg.Embed.Provider = dir, filepath.Join(dir, ".ragtune"), "builtin"
	p, err := project.Init(t.Context(), cfg, project.Env{Getenv: func(k string) string {
		if k == "RAGTUNE_MODEL_DIR" {
			return embed.DefaultModelDir(os.Getenv)
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, dir
}

// TestKeyGuessesAreSlowed: ten invalid keys from one address, then one a
// second; past that the address is refused (429) before any key is
// checked.
func TestKeyGuessesAreSlowed(t *testing.T) {
	f := newFixture(t, Options{})
	codes := map[int]int{}
	for i := range 14 {
		res, _ := f.do(t, "POST", "/v1/search", fmt.Sprintf("rt_guess%d", i), `{"query":"keys"}`)
		codes[res.StatusCode]++
	}
	if codes[http.StatusUnauthorized] < 10 || codes[http.StatusTooManyRequests] < 3 {
		t.Errorf("14 guesses: %v; want 10 refused as invalid, then 429", codes)
	}
}
