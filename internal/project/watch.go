package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ragtune/ragtune/internal/ingest"
)

// WatchRequest keeps the corpus in step with folders.
type WatchRequest struct {
	Roots []string
	Tags  []string
	// Quiet is how long changes must pause before they are ingested, so
	// an editor's save (write, rename) or a checkout of 1,000 files is
	// processed once; 300 ms when zero.
	Quiet time.Duration
	// Report, when set, is told of each batch of changes ingested.
	Report func(rep *ingest.Report, err error)
	// Begin, when set, is called as each round starts (the first ingest,
	// then every batch of changes, also one that changes nothing); the
	// function it returns is told of the round's end.
	Begin func() func(rep *ingest.Report, err error)
}

// round starts a round: it calls Begin and returns what ends the round.
func (req WatchRequest) round() func(*ingest.Report, error) {
	if req.Begin == nil {
		return func(*ingest.Report, error) {}
	}
	return req.Begin()
}

// Watch ingests the roots, then follows them: every file created,
// changed, renamed or deleted under them is ingested or removed after
// the changes pause, until ctx ends. Files the roots' include and exclude
// settings leave out are ignored, as an ingest would ignore them.
func (p *Project) Watch(ctx context.Context, req WatchRequest) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching: %w", err)
	}
	defer w.Close()
	var opts []ingest.Options
	for _, root := range req.Roots {
		opts = append(opts, rootOptions(p.cfg, root, req.Tags))
		if err := watchTree(w, root); err != nil {
			return err
		}
	}
	end := req.round()
	rep, err := p.Ingest(ctx, IngestRequest{Roots: req.Roots, Prune: true, Tags: req.Tags})
	end(rep, err)
	if req.Report != nil {
		req.Report(rep, err)
	}
	if err != nil && !errors.Is(err, ErrDamaged) {
		return err
	}
	quiet := req.Quiet
	if quiet <= 0 {
		quiet = 300 * time.Millisecond
	}
	changed := map[string]bool{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			p.env.log().Warn("watching", "err", err)
		case ev := <-w.Events:
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					watchTree(w, ev.Name) // a new folder, maybe with files already
				}
			}
			changed[ev.Name] = true
			timer.Reset(quiet)
		case <-timer.C:
			end := req.round()
			rep, err := p.applyChanges(ctx, changed, opts)
			end(rep, err)
			changed = map[string]bool{}
			if req.Report != nil && (rep.Added+rep.Updated+rep.Deleted+rep.Failed > 0 || err != nil) {
				req.Report(rep, err)
			}
		}
	}
}

// watchTree watches dir and every folder below it (fsnotify watches one
// folder at a time).
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".ragtune" {
			return fs.SkipDir
		}
		if err := w.Add(path); err != nil {
			return fmt.Errorf("watching %s: %w", path, err)
		}
		return nil
	})
}

// applyChanges ingests the changed paths that still exist (a folder: its
// files) and removes the documents of those that are gone.
func (p *Project) applyChanges(ctx context.Context, changed map[string]bool, opts []ingest.Options) (*ingest.Report, error) {
	total := &ingest.Report{Files: []ingest.Result{}}
	in, done, err := p.Ingester(ctx)
	if err != nil {
		return total, err
	}
	defer done()
	var gone []string
	for path := range changed {
		fi, statErr := os.Stat(path)
		for _, o := range opts {
			under := ingest.Within(absPath(o.Root), absPath(path))
			if statErr != nil {
				if under {
					gone = append(gone, ingest.Key(o.KeyBase, path)) // a file, or a folder moved away
				}
				continue
			}
			// A new or moved-in folder: ingest what it holds; a file: when
			// the root's settings select it.
			if (fi.IsDir() && under) || (!fi.IsDir() && o.Selects(path)) {
				o.Root = path
				rep, err := in.Run(ctx, o)
				if rep != nil {
					total.Merge(rep)
				}
				if err != nil {
					return total, err
				}
			}
		}
	}
	if len(gone) > 0 {
		c, err := p.Corpus(ctx)
		if err != nil {
			return total, err
		}
		stored, err := c.Documents(ctx, "")
		if err != nil {
			return total, err
		}
		var del []string
		for _, d := range stored {
			for _, k := range gone {
				if d.Path == k || strings.HasPrefix(d.Path, k+"/") {
					del = append(del, d.Path)
					break
				}
			}
		}
		if err := c.Delete(ctx, del); err != nil {
			return total, err
		}
		total.Deleted += len(del)
	}
	return total, nil
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
