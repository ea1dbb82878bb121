package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSitemapIndex follows a sitemap index to its sitemaps and their
// pages, skips what robots.txt disallows, and passes other sites by.
func TestSitemapIndex(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: ragtune\nDisallow: /drafts/\n")
		case "/index.xml":
			fmt.Fprintf(w, `<sitemapindex><sitemap><loc>%s/a.xml</loc></sitemap></sitemapindex>`, srv.URL)
		case "/a.xml":
			fmt.Fprintf(w, `<urlset><url><loc>%[1]s/p.html</loc></url><url><loc>%[1]s/drafts/d.html</loc></url><url><loc>https://other.example/</loc></url><url><loc>%[1]s/img.png</loc></url></urlset>`, srv.URL)
		case "/p.html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<p>page</p>")
		case "/img.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte{0x89, 'P', 'N', 'G'})
		default:
			t.Errorf("fetched %s", r.URL.Path)
		}
	}))
	defer srv.Close()
	var fetched, skipped []string
	err := (&Fetcher{}).Fetch(t.Context(), srv.URL+"/index.xml", func(p Page) error {
		if p.Skipped != "" {
			skipped = append(skipped, p.Skipped)
		} else {
			fetched = append(fetched, p.URL+" "+p.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fetched) != 1 || fetched[0] != srv.URL+"/p.html page.html" || len(skipped) != 3 {
		t.Errorf("fetched %v, skipped %v", fetched, skipped)
	}
	if IsURL("docs/x.md") || !IsURL("https://x.example/") {
		t.Error("IsURL")
	}
}
