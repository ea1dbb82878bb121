package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/web"
)

func (a *app) ingestCommand() *cobra.Command {
	var (
		prune, follow bool
		dryRun, watch bool
		anySite       bool
		include       []string
		exclude       []string
		tags          []string
		strategy      string
		size, overlap int
		maxBytes      int64
		workers       int
	)
	cmd := &cobra.Command{
		Use:   "ingest PATH... | URL...",
		Short: "Load, chunk and index documents (only changed files are redone)",
		Long: `ingest reads Markdown, text, HTML, PDF, DOCX and source files under each
PATH (directories recursively), cuts them into chunks and indexes them.
A web address is fetched as a page, or as a sitemap of pages: robots.txt
is obeyed, only the sitemap's own site is followed (--any-site for more),
and a page fetched before is asked for with its ETag and Last-Modified, so
an unchanged page costs a 304.

It is incremental: documents are keyed by path and content hash, so
unchanged files are skipped and changed ones replaced. --prune deletes
stored documents whose files are gone from disk; documents whose files
still exist stay, even when --include or --exclude leave them out of this
run (--prune --dry-run lists what would go). Unsupported, binary and oversized
files are skipped with a reason; unreadable ones are reported as failed
and keep their previous version. Exit code 1 means some file failed.`,
		Example: `  ragtune ingest ./docs
  ragtune ingest https://intranet.example/sitemap.xml --tag intranet
  ragtune ingest ./docs --prune --exclude 'drafts/**'
  ragtune ingest ./handbook --chunk-strategy markdown --chunk-size 400 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("ingest needs at least one file or directory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if f.Changed("include") {
				cfg.Ingest.Include = include
			}
			if f.Changed("exclude") {
				cfg.Ingest.Exclude = append(cfg.Ingest.Exclude, exclude...)
			}
			if f.Changed("follow-symlinks") {
				cfg.Ingest.FollowSymlinks = follow
			}
			if f.Changed("chunk-strategy") {
				cfg.Chunk.Strategy = chunk.Strategy(strategy)
			}
			if f.Changed("chunk-size") {
				cfg.Chunk.Size = size
			}
			if f.Changed("chunk-overlap") {
				cfg.Chunk.Overlap = overlap
			}
			if f.Changed("max-file-bytes") {
				cfg.Ingest.MaxFileBytes = maxBytes
			}
			if f.Changed("workers") {
				cfg.Ingest.Workers = workers
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			var urls, paths []string
			for _, arg := range args {
				if web.IsURL(arg) {
					urls = append(urls, arg)
				} else {
					paths = append(paths, arg)
				}
			}
			if err := mustExist(paths...); err != nil {
				return err
			}
			if len(urls) > 0 {
				if len(paths) > 0 || watch || prune {
					return usagef("ingest takes web addresses or paths, not both (and --watch and --prune are for paths)")
				}
				return a.ingestURLs(cmd, cfg, urls, ingestOpts{tags: corpus.NormalizeTags(tags), anySite: anySite})
			}
			if watch {
				return a.watch(cmd, cfg, args, corpus.NormalizeTags(tags))
			}
			if dryRun && !prune {
				return usagef("--dry-run goes with --prune: it lists what pruning would delete")
			}
			rep, err := a.ingest(cmd, cfg, project.IngestRequest{Roots: args, Prune: prune, DryRun: dryRun, Tags: corpus.NormalizeTags(tags)})
			if errors.Is(err, project.ErrDamaged) && rep != nil {
				if perr := a.printIngest(rep); perr != nil {
					return perr
				}
				return exitError{exitFailure, fmt.Errorf("%w; ragtune store repair rebuilds the indexes", err)}
			}
			if errors.Is(err, ingest.ErrInterrupted) && rep != nil {
				if perr := a.printIngest(rep); perr != nil {
					return perr
				}
				return exitError{exitFailure, fmt.Errorf("ingest interrupted: what was processed is stored; run the same ingest again to finish")}
			}
			if err != nil {
				return err
			}
			if err := a.printIngest(rep); err != nil {
				return err
			}
			if rep.Failed > 0 {
				return exitError{exitFailure, fmt.Errorf("%d file(s) failed to ingest; everything else was stored", rep.Failed)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&prune, "prune", false, "delete stored documents under PATH whose files no longer exist (files left out by --include/--exclude stay)")
	fl.BoolVar(&anySite, "any-site", false, "web addresses: also follow sitemap entries on other sites")
	fl.BoolVar(&watch, "watch", false, "after ingesting, keep following PATH: changed, new, renamed and deleted files are ingested or removed within a second (Ctrl-C stops)")
	fl.BoolVar(&dryRun, "dry-run", false, "with --prune: list what would be deleted, change nothing")
	fl.StringSliceVar(&include, "include", nil, "only files matching these globs (relative to PATH), e.g. '**/*.md'")
	fl.StringSliceVar(&exclude, "exclude", nil, "skip files matching these globs, e.g. 'drafts/**'")
	fl.BoolVar(&follow, "follow-symlinks", false, "follow symlinks that stay inside PATH")
	fl.StringSliceVar(&tags, "tag", nil, "tag every document of this ingest (besides Markdown front-matter tags)")
	fl.StringVar(&strategy, "chunk-strategy", "", "recursive | markdown | sentence | fixed")
	fl.IntVar(&size, "chunk-size", 0, "chunk size in tokens")
	fl.IntVar(&overlap, "chunk-overlap", 0, "tokens shared by neighbouring chunks")
	fl.Int64Var(&maxBytes, "max-file-bytes", 0, "skip files larger than this many bytes")
	fl.IntVar(&workers, "workers", 0, "parallel loaders (0 = one per CPU)")
	return cmd
}

func (a *app) ingest(cmd *cobra.Command, cfg config.Config, req project.IngestRequest) (*ingest.Report, error) {
	p, err := a.openProject(cmd, cfg)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	stage, done := a.progress()
	defer done()
	req.Progress = func(root string) func(done, total int) { return stage("ingesting " + root) }
	rep, err := p.Ingest(cmd.Context(), req)
	return rep, a.noStoreHint(err, cfg)
}

func (a *app) printIngest(rep *ingest.Report) error {
	if a.jsonOut {
		return a.printJSON(rep)
	}
	rep.WriteText(a.stdout, a.verbose)
	return nil
}

// watch ingests roots and follows them until interrupted, printing what
// each batch of changes did.
func (a *app) watch(cmd *cobra.Command, cfg config.Config, roots []string, tags []string) error {
	p, err := a.openProject(cmd, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	if !a.jsonOut {
		fmt.Fprintf(a.stderr, "watching %s (Ctrl-C stops)\n", strings.Join(roots, ", "))
	}
	return a.noStoreHint(p.Watch(cmd.Context(), project.WatchRequest{Roots: roots, Tags: tags,
		Report: func(rep *ingest.Report, err error) {
			if err != nil {
				a.log.Error("ingesting changes", "err", err)
			}
			if rep != nil {
				a.printIngest(rep)
			}
		}}), cfg)
}

// ingestOpts are the settings of a web ingest.
type ingestOpts struct {
	tags    []string
	anySite bool
}

// ingestURLs ingests web pages and sitemaps.
func (a *app) ingestURLs(cmd *cobra.Command, cfg config.Config, urls []string, o ingestOpts) error {
	p, err := a.openProject(cmd, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	rep, err := p.IngestURLs(cmd.Context(), urls, o.tags, o.anySite)
	if err != nil {
		return a.noStoreHint(err, cfg)
	}
	if err := a.printIngest(rep); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return exitError{exitFailure, fmt.Errorf("%d page(s) failed to ingest; everything else was stored", rep.Failed)}
	}
	return nil
}
