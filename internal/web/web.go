// Package web fetches pages for ingest: a page, or every page a sitemap
// lists, politely: robots.txt is obeyed, only the starting site is
// followed unless asked, and a page fetched before is asked for with its
// ETag and Last-Modified, so an unchanged page costs a 304 and no work.
package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/temoto/robotstxt"
)

// UserAgent is how ragtune names itself to sites (and to robots.txt).
const UserAgent = "ragtune"

// Validators are what a site said about a page, to ask again cheaply.
type Validators struct {
	ETag         string
	LastModified string
}

// Memory keeps the validators of fetched pages between runs.
type Memory interface {
	Validators(ctx context.Context, url string) (Validators, error)
	Remember(ctx context.Context, url string, v Validators) error
}

// Page is one fetched page.
type Page struct {
	URL       string
	Name      string // a file name whose extension says the format (page.html, page.pdf)
	Body      []byte
	Unchanged bool   // the site answered 304: Body is empty
	Skipped   string // why the page was not fetched (robots.txt, another site, a type ragtune does not read)
}

// Fetcher fetches pages.
type Fetcher struct {
	Client   *http.Client
	Memory   Memory // nil: every fetch is a full one
	AnySite  bool   // follow sitemap entries on other sites too
	MaxPages int    // pages one sitemap may list; 1000 when zero
	MaxBytes int64  // the largest page; 50 MB when zero
	robots   map[string]*robotstxt.RobotsData
}

// IsURL reports whether s names a web page to ingest.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// Fetch fetches start and, when it is a sitemap, every page it lists;
// each page is passed to page as it arrives.
func (f *Fetcher) Fetch(ctx context.Context, start string, page func(Page) error) error {
	u, err := url.Parse(start)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a web address", start)
	}
	p, err := f.get(ctx, u)
	if err != nil {
		return err
	}
	urls, isSitemap := sitemapURLs(p.Body)
	if !isSitemap {
		return page(p)
	}
	limit := f.MaxPages
	if limit <= 0 {
		limit = 1000
	}
	for i := 0; i < len(urls) && i < limit; i++ {
		loc := urls[i]
		lu, err := url.Parse(loc)
		if err != nil || (lu.Scheme != "http" && lu.Scheme != "https") {
			continue
		}
		if !f.AnySite && lu.Host != u.Host {
			if err := page(Page{URL: loc, Skipped: "on another site than " + u.Host}); err != nil {
				return err
			}
			continue
		}
		p, err := f.get(ctx, lu)
		if err != nil {
			p = Page{URL: loc, Skipped: err.Error()}
		}
		if sub, nested := sitemapURLs(p.Body); nested { // a sitemap index lists sitemaps
			urls = append(urls, sub...)
			continue
		}
		if err := page(p); err != nil {
			return err
		}
	}
	return nil
}

// get fetches one page, with its validators when it was fetched before.
func (f *Fetcher) get(ctx context.Context, u *url.URL) (Page, error) {
	page := Page{URL: u.String()}
	if ok, err := f.allowed(ctx, u); err != nil {
		return page, err
	} else if !ok {
		page.Skipped = "robots.txt disallows it"
		return page, nil
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return page, err
	}
	req.Header.Set("User-Agent", UserAgent)
	var known Validators
	if f.Memory != nil {
		if known, err = f.Memory.Validators(ctx, page.URL); err != nil {
			return page, err
		}
		if known.ETag != "" {
			req.Header.Set("If-None-Match", known.ETag)
		}
		if known.LastModified != "" {
			req.Header.Set("If-Modified-Since", known.LastModified)
		}
	}
	res, err := f.client().Do(req)
	if err != nil {
		return page, fmt.Errorf("fetching %s: %w", page.URL, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotModified:
		page.Unchanged = true
		return page, nil
	case res.StatusCode != http.StatusOK:
		return page, fmt.Errorf("fetching %s: HTTP %d", page.URL, res.StatusCode)
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 50 << 20
	}
	if page.Body, err = io.ReadAll(io.LimitReader(res.Body, limit+1)); err != nil {
		return page, fmt.Errorf("fetching %s: %w", page.URL, err)
	}
	if int64(len(page.Body)) > limit {
		return Page{URL: page.URL, Skipped: fmt.Sprintf("larger than %d bytes", limit)}, nil
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	page.Name = nameFor(ct)
	if page.Name == "" {
		if _, isSitemap := sitemapURLs(page.Body); !isSitemap {
			return Page{URL: page.URL, Skipped: "content type " + ct + " is not one ragtune reads"}, nil
		}
	}
	if f.Memory != nil {
		v := Validators{ETag: res.Header.Get("ETag"), LastModified: res.Header.Get("Last-Modified")}
		if err := f.Memory.Remember(ctx, page.URL, v); err != nil {
			return page, err
		}
	}
	return page, nil
}

func nameFor(contentType string) string {
	switch contentType {
	case "text/html", "application/xhtml+xml":
		return "page.html"
	case "application/pdf":
		return "page.pdf"
	case "text/markdown":
		return "page.md"
	case "text/plain":
		return "page.txt"
	}
	return ""
}

// allowed checks the site's robots.txt (fetched once per site; a site
// without one allows everything).
func (f *Fetcher) allowed(ctx context.Context, u *url.URL) (bool, error) {
	if f.robots == nil {
		f.robots = map[string]*robotstxt.RobotsData{}
	}
	site := u.Scheme + "://" + u.Host
	rd, ok := f.robots[site]
	if !ok {
		req, err := http.NewRequestWithContext(ctx, "GET", site+"/robots.txt", nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("User-Agent", UserAgent)
		res, err := f.client().Do(req)
		if err != nil {
			return false, fmt.Errorf("fetching %s/robots.txt: %w", site, err)
		}
		rd, err = robotstxt.FromResponse(res)
		res.Body.Close()
		if err != nil {
			return false, fmt.Errorf("reading %s/robots.txt: %w", site, err)
		}
		f.robots[site] = rd
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return rd.TestAgent(path, UserAgent), nil
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return &http.Client{Timeout: time.Minute}
}

// sitemapURLs reads a sitemap (<urlset>) or a sitemap index; it reports
// whether body is one.
func sitemapURLs(body []byte) ([]string, bool) {
	var doc struct {
		XMLName xml.Name
		URLs    []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
		Sitemaps []struct {
			Loc string `xml:"loc"`
		} `xml:"sitemap"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || (doc.XMLName.Local != "urlset" && doc.XMLName.Local != "sitemapindex") {
		return nil, false
	}
	var out []string
	for _, u := range doc.URLs {
		out = append(out, strings.TrimSpace(u.Loc))
	}
	for _, s := range doc.Sitemaps {
		out = append(out, strings.TrimSpace(s.Loc))
	}
	return out, true
}
