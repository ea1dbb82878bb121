package project

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// site serves a small intranet on loopback: a sitemap, two pages (one
// behind ETag), a page robots.txt disallows, and one on another site.
type site struct {
	*httptest.Server
	fetches, notModified atomic.Int64
	body                 atomic.Value // the tea page's text
}

func newSite(t *testing.T) *site {
	s := &site{}
	s.body.Store("Green tea is steamed soon after picking.")
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>%[1]s/tea.html</loc></url><url><loc>%[1]s/raft.html</loc></url>
<url><loc>%[1]s/private/secret.html</loc></url><url><loc>http://elsewhere.example/x.html</loc></url></urlset>`, s.URL)
		case "/tea.html":
			s.fetches.Add(1)
			text := s.body.Load().(string)
			etag := fmt.Sprintf(`"%x"`, len(text))
			if r.Header.Get("If-None-Match") == etag {
				s.notModified.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><head><title>Tea</title></head><body><main><h1>Tea</h1><p>%s</p></main></body></html>", text)
		case "/raft.html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><head><title>Raft</title></head><body><p>Raft elects a leader by majority vote.</p></body></html>")
		case "/private/secret.html":
			t.Error("a page robots.txt disallows was fetched")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestIngestURL(t *testing.T) {
	s := newSite(t)
	cfg, env := newConfig(t.TempDir())
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rep, err := p.IngestURL(t.Context(), s.URL+"/sitemap.xml", []string{"intranet"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || rep.Skipped != 2 {
		t.Fatalf("first crawl: %+v", rep)
	}
	reasons := ""
	for _, f := range rep.Files {
		reasons += f.Reason + ";"
	}
	if !strings.Contains(reasons, "robots.txt") || !strings.Contains(reasons, "another site") {
		t.Errorf("skip reasons: %s", reasons)
	}
	hits, err := p.Search(t.Context(), retrieve.Query{Text: "how is a leader elected", K: 1, Mode: retrieve.Lexical, Tags: []string{"intranet"}})
	if err != nil || len(hits) != 1 || hits[0].DocPath != s.URL+"/raft.html" {
		t.Fatalf("search: %+v %v", hits, err)
	}
	// Again: the ETag page costs a 304, the other is unchanged by hash.
	rep, err = p.IngestURL(t.Context(), s.URL+"/sitemap.xml", nil, false)
	if err != nil || rep.Unchanged != 2 || s.notModified.Load() != 1 {
		t.Fatalf("second crawl: %+v, %v; %d not-modified answers", rep, err, s.notModified.Load())
	}
	s.body.Store("Black tea is fully oxidised before drying.")
	rep, err = p.IngestURL(t.Context(), s.URL+"/tea.html", nil, false)
	if err != nil || rep.Updated != 1 {
		t.Fatalf("a changed page: %+v, %v", rep, err)
	}
	if hits, _ := p.Search(t.Context(), retrieve.Query{Text: "oxidised black tea", K: 1, Mode: retrieve.Lexical}); len(hits) != 1 {
		t.Errorf("the changed page is not searchable")
	}
}

// TestCrawlRounds follows one crawl round through its hooks: each
// source's start and end, the round's total, and the next round's time.
func TestCrawlRounds(t *testing.T) {
	s := newSite(t)
	cfg, env := newConfig(t.TempDir())
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var events []string
	next := make(chan time.Time, 1)
	began := time.Now()
	p.Crawl(ctx, CrawlRequest{URLs: []string{s.URL + "/sitemap.xml", s.URL + "/missing.html"}, Every: time.Hour,
		Begin: func(url string) func(*ingest.Report, error) {
			events = append(events, "begin "+strings.TrimPrefix(url, s.URL))
			return func(rep *ingest.Report, err error) {
				events = append(events, fmt.Sprintf("end %s added %d err %v", strings.TrimPrefix(url, s.URL), rep.Added, err != nil))
			}
		},
		Report: func(rep *ingest.Report, err error) {
			events = append(events, fmt.Sprintf("round added %d err %v", rep.Added, err != nil))
		},
		Next: func(at time.Time) { next <- at; stop() },
	})
	want := "begin /sitemap.xml; end /sitemap.xml added 2 err false; begin /missing.html; end /missing.html added 0 err true; round added 2 err true"
	if got := strings.Join(events, "; "); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if at := <-next; at.Sub(began) < time.Hour || at.Sub(began) > time.Hour+time.Minute {
		t.Errorf("next round at %s, %s after the start", at, at.Sub(began))
	}
}
