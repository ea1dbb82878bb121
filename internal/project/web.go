package project

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/web"
)

// IngestURL ingests a web page, or every page of a sitemap, keyed by
// URL: robots.txt obeyed, the starting site only unless anySite, and a
// page fetched before asked for with its validators, so an unchanged
// page costs a 304.
func (p *Project) IngestURL(ctx context.Context, start string, tags []string, anySite bool) (*ingest.Report, error) {
	began := time.Now()
	if err := p.Writable(); err != nil {
		return nil, err
	}
	in, done, err := p.Ingester(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	known := map[string]string{}
	if docs, err := in.Corpus.Documents(ctx, "http"); err == nil {
		for _, d := range docs {
			known[d.Path] = d.Hash
		}
	}
	rep := &ingest.Report{Files: []ingest.Result{}}
	f := &web.Fetcher{Memory: p.store, AnySite: anySite}
	err = f.Fetch(ctx, start, func(pg web.Page) error {
		res := p.ingestPage(ctx, in, pg, known, tags)
		switch res.Status {
		case ingest.StatusAdded:
			rep.Added++
		case ingest.StatusUpdated:
			rep.Updated++
		case ingest.StatusUnchanged:
			rep.Unchanged++
		case ingest.StatusSkipped:
			rep.Skipped++
		case ingest.StatusFailed:
			rep.Failed++
		}
		rep.Chunks += res.Chunks
		rep.Files = append(rep.Files, res)
		return ctx.Err()
	})
	rep.Seconds = time.Since(began).Seconds()
	if err != nil {
		return rep, err
	}
	return rep, p.checkAfterWrite(ctx)
}

// ingestPage loads, chunks, embeds and stores one fetched page.
func (p *Project) ingestPage(ctx context.Context, in *ingest.Ingester, pg web.Page, known map[string]string, tags []string) ingest.Result {
	res := ingest.Result{Path: pg.URL}
	switch {
	case pg.Skipped != "":
		res.Status, res.Reason = ingest.StatusSkipped, pg.Skipped
		return res
	case pg.Unchanged:
		res.Status = ingest.StatusUnchanged
		return res
	}
	sum := sha256.Sum256(pg.Body)
	hash := hex.EncodeToString(sum[:])
	if known[pg.URL] == hash {
		res.Status = ingest.StatusUnchanged
		return res
	}
	doc, err := in.Loader.Load(ctx, pg.Name, pg.Body)
	var skip *document.SkipError
	switch {
	case errors.As(err, &skip):
		res.Status, res.Reason = ingest.StatusSkipped, skip.Reason
		return res
	case err != nil:
		res.Status, res.Reason = ingest.StatusFailed, err.Error()
		return res
	}
	doc.Path, doc.Hash, doc.Size = pg.URL, hash, int64(len(pg.Body))
	if doc.Title == "" {
		doc.Title = pg.URL
	}
	doc.Tags = corpus.NormalizeTags(append(doc.Tags, tags...))
	if err := in.Index(ctx, []*document.Document{doc}, p.cfg.Chunk, nil); err != nil {
		res.Status, res.Reason = ingest.StatusFailed, err.Error()
		return res
	}
	res.Status = ingest.StatusAdded
	if _, ok := known[pg.URL]; ok {
		res.Status = ingest.StatusUpdated
	}
	if d, err := in.Corpus.Document(ctx, pg.URL); err == nil {
		res.Chunks = len(d.Chunks)
	}
	return res
}

// IngestURLs ingests web pages and sitemaps and sums the reports.
func (p *Project) IngestURLs(ctx context.Context, urls, tags []string, anySite bool) (*ingest.Report, error) {
	total := &ingest.Report{Files: []ingest.Result{}}
	for _, u := range urls {
		rep, err := p.IngestURL(ctx, u, tags, anySite)
		if rep != nil {
			total.Merge(rep)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// CrawlRequest ingests web sources on a schedule.
type CrawlRequest struct {
	URLs []string
	// Every is how often the sources are fetched again (at least a
	// minute).
	Every time.Duration
	// Report, when set, is told of each round over all the sources.
	Report func(rep *ingest.Report, err error)
	// Begin, when set, is called as one source's fetch starts; the
	// function it returns is told of its end.
	Begin func(url string) func(rep *ingest.Report, err error)
	// Next, when set, is told when the next round starts.
	Next func(at time.Time)
}

// Crawl ingests web sources now and every interval until ctx ends,
// telling the request's hooks of each round.
func (p *Project) Crawl(ctx context.Context, req CrawlRequest) {
	every := max(req.Every, time.Minute)
	for {
		total := &ingest.Report{Files: []ingest.Result{}}
		var err error
		for _, u := range req.URLs {
			end := func(*ingest.Report, error) {}
			if req.Begin != nil {
				end = req.Begin(u)
			}
			rep, uerr := p.IngestURL(ctx, u, nil, false)
			end(rep, uerr)
			if rep != nil {
				total.Merge(rep)
			}
			if uerr != nil {
				err = errors.Join(err, fmt.Errorf("%s: %w", u, uerr))
			}
			if ctx.Err() != nil {
				break
			}
		}
		if req.Report != nil {
			req.Report(total, err)
		}
		if ctx.Err() != nil {
			return
		}
		if req.Next != nil {
			req.Next(time.Now().Add(every))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
