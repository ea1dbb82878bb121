package project

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ragtune/ragtune/internal/advise"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// IngestRequest is one ingest of files or directories.
type IngestRequest struct {
	Roots  []string
	Prune  bool
	DryRun bool // with Prune: list what would be deleted, change nothing
	Tags   []string
	// Progress, when set, is given each root and returns the function
	// told of the files done and the total (or nil for none).
	Progress func(root string) func(done, total int)
	// Settings replaces the project's [ingest] and [chunk] settings when set.
	Settings *config.Config
}

// Ingester builds the ingest pipeline over the project's corpus; the
// caller calls the returned close when done with it (it holds the PDF
// engine).
func (p *Project) Ingester(ctx context.Context) (*ingest.Ingester, func(), error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, nil, err
	}
	tok, err := p.Tokenizer()
	if err != nil {
		return nil, nil, err
	}
	e, err := p.Embedder(ctx)
	if err != nil {
		return nil, nil, err
	}
	loader := document.NewLoader(document.Options{
		MaxFileBytes: p.cfg.Ingest.MaxFileBytes, MaxExtractedBytes: p.cfg.Ingest.MaxExtractedBytes, CacheDir: p.cacheDir("wazero"),
	})
	in := &ingest.Ingester{Corpus: c, History: p.store, Loader: loader, Tokens: tok, Log: p.env.log()}
	if e != nil {
		in.Embedder = embed.Cached(e, p.store)
	}
	return in, func() { loader.Close() }, nil
}

// Writable fails with sqlitedb.ErrReadOnly when this user may read the
// store but not write it.
func (p *Project) Writable() error {
	if file, _ := sqlitedb.Writable(p.store.Dir()); !file {
		return fmt.Errorf("%w (%s)", sqlitedb.ErrReadOnly, p.store.Dir())
	}
	return nil
}

// Ingest runs the ingest pipeline over every root and sums the reports.
func (p *Project) Ingest(ctx context.Context, req IngestRequest) (*ingest.Report, error) {
	if err := p.Writable(); err != nil && !req.DryRun {
		return nil, err
	}
	cfg := p.cfg
	if req.Settings != nil {
		cfg = *req.Settings
	}
	in, done, err := p.Ingester(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	total := &ingest.Report{Files: []ingest.Result{}}
	for _, root := range req.Roots {
		opts := rootOptions(cfg, root, req.Tags)
		opts.Prune, opts.DryRun = req.Prune, req.DryRun
		if req.Progress != nil {
			opts.Progress = req.Progress(root)
		}
		rep, err := in.Run(ctx, opts)
		if rep != nil {
			total.Merge(rep)
		}
		if err != nil {
			return total, err
		}
		total.DryRun = rep.DryRun
		total.WouldDelete = append(total.WouldDelete, rep.WouldDelete...)
	}
	if req.DryRun {
		return total, nil
	}
	return total, p.checkAfterWrite(ctx)
}

// rootOptions are the ingest settings of one root under cfg.
func rootOptions(cfg config.Config, root string, tags []string) ingest.Options {
	return ingest.Options{Root: root, Include: cfg.Ingest.Include, Exclude: cfg.Ingest.Exclude, FollowSymlinks: cfg.Ingest.FollowSymlinks,
		KeyBase: cfg.Dir, Workers: cfg.Ingest.Workers, Chunk: cfg.Chunk, Tags: tags}
}

// ErrDamaged means a check found the store's indexes inconsistent.
var ErrDamaged = errors.New("the store is damaged")

// checkAfterWrite checks a small store after an ingest wrote to it, so a
// damaged index is reported now rather than by wrong results later. A
// signal during the check is not damage: the writes are stored, and the
// error says the ingest was interrupted.
func (p *Project) checkAfterWrite(ctx context.Context) error {
	err := p.checkWrites(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("%w: the store check after the writes was cut short: %w", ingest.ErrInterrupted, ctx.Err())
	}
	return err
}

func (p *Project) checkWrites(ctx context.Context) error {
	c, err := p.Corpus(ctx)
	if err != nil {
		return err
	}
	stats, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	if _, problems := p.QuickCheck(ctx, stats.Chunks); len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// IngestPath ingests one file or directory with the project's settings
// (the server's POST /v1/ingest).
func (p *Project) IngestPath(ctx context.Context, path string, tags []string) (*ingest.Report, error) {
	return p.Ingest(ctx, IngestRequest{Roots: []string{path}, Tags: tags})
}

// Churn measures how often the project's documents change from its
// ingest history; nil when the history is too short to tell.
func (p *Project) Churn(ctx context.Context) (*advise.Churn, error) {
	runs, err := p.store.IngestRuns(ctx)
	if err != nil {
		return nil, err
	}
	hist := make([]advise.Ingest, len(runs))
	for i, r := range runs {
		hist[i] = advise.Ingest{Root: r.Root, At: r.FinishedAt, Changed: r.Added + r.Updated + r.Deleted, Documents: r.Documents}
	}
	return advise.MeasureChurn(hist), nil
}
