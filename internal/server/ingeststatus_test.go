package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/project"
)

// TestIngestStatus follows a real project's watched folder and an upload
// through GET /v1/ingest/status on a real server: each source's kind,
// state and last round, its error without server paths; a server that
// tracks nothing lists no sources.
func TestIngestStatus(t *testing.T) {
	f := newFixture(t, Options{})
	be := f.backend()
	activity := ingest.NewTracker(f.dir)
	be.Activity = activity
	ts := httptest.NewServer(New(be, Options{}).Handler())
	t.Cleanup(ts.Close)
	get := func(key string) (int, string, []ingest.SourceStatus) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+"/v1/ingest/status", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var body struct {
			Sources []ingest.SourceStatus `json:"sources"`
		}
		json.Unmarshal(b, &body)
		return res.StatusCode, string(b), body.Sources
	}
	source := func(kind ingest.SourceKind, src string, cond func(ingest.SourceStatus) bool) ingest.SourceStatus {
		t.Helper()
		for range 500 {
			_, _, sources := get(f.read)
			for _, s := range sources {
				if s.Kind == kind && s.Source == src && cond(s) {
					return s
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, body, _ := get(f.read)
		t.Fatalf("no %s source %q as wanted in %s", kind, src, body)
		return ingest.SourceStatus{}
	}

	if code, body, _ := get(""); code != 401 {
		t.Errorf("no key: %d %s", code, body)
	}
	if code, body, _ := get(f.read); code != 200 || strings.TrimSpace(body) != `{"sources":[]}` {
		t.Errorf("before any round: %d %s", code, body)
	}

	// A watched folder, as serve --watch follows it.
	docs := filepath.Join(f.dir, "docs")
	os.MkdirAll(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "first.md"), []byte("# First\n\nThe first note.\n"), 0o644)
	ctx, stop := context.WithCancel(t.Context())
	watching := make(chan error, 1)
	activity.Add(ingest.KindWatch, docs)
	go func() {
		watching <- f.p.Watch(ctx, project.WatchRequest{Roots: []string{docs}, Quiet: 100 * time.Millisecond,
			Begin: func() func(*ingest.Report, error) { return activity.Begin(ingest.KindWatch, docs) }})
	}()
	t.Cleanup(func() { stop(); <-watching })
	first := source(ingest.KindWatch, "docs/", func(s ingest.SourceStatus) bool { return s.Rounds == 1 && s.State == ingest.StateIdle })
	if first.Added != 1 || first.StartedAt == nil || first.FinishedAt == nil || first.FinishedAt.Before(*first.StartedAt) || first.Error != "" {
		t.Errorf("first round %+v", first)
	}
	os.WriteFile(filepath.Join(docs, "second.md"), []byte("# Second\n\nThe second note.\n"), 0o644)
	second := source(ingest.KindWatch, "docs/", func(s ingest.SourceStatus) bool { return s.Rounds >= 2 && s.State == ingest.StateIdle && s.Added == 1 })
	if second.FinishedAt.Before(*first.FinishedAt) {
		t.Errorf("second round %+v after %+v", second, first)
	}

	// An upload is a round of the upload folder.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "notes.md")
	fw.Write([]byte("# Notes\n\nUploaded notes."))
	mw.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/v1/ingest", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+f.write)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	if up := source(ingest.KindUpload, "uploads/", func(s ingest.SourceStatus) bool { return s.Rounds == 1 }); up.Added != 1 || up.State != ingest.StateIdle {
		t.Errorf("upload round %+v", up)
	}

	// A failed crawl: the error is shown without the server's folders.
	u := "https://intranet.example/sitemap.xml"
	activity.Schedule(ingest.KindCrawl, u, time.Now().Add(time.Hour))
	activity.Begin(ingest.KindCrawl, u)(nil, fmt.Errorf("writing: %w", &os.PathError{Op: "open", Path: filepath.Join(f.dir, ".ragtune", "db"), Err: os.ErrPermission}))
	crawl := source(ingest.KindCrawl, u, func(s ingest.SourceStatus) bool { return s.State == ingest.StateFailed })
	if crawl.Error != "writing: open .ragtune/db: permission denied" || crawl.NextAt == nil {
		t.Errorf("failed crawl %+v", crawl)
	}
	if _, body, _ := get(f.read); strings.Contains(body, f.dir) {
		t.Errorf("the status names a server path: %s", body)
	}
	if _, body, _ := get(f.read); !strings.Contains(body, `"kind":"watch","source":"docs/","state":"idle"`) {
		t.Errorf("status body %s", body)
	}

	// The session says whether the server tracks ingest activity.
	if _, body := f.do(t, "GET", "/v1/session", f.read, ""); !strings.Contains(body, `"ingest_status":false`) {
		t.Errorf("session of a server without activity: %s", body)
	}
}
