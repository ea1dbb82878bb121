// Package ingest runs the pipeline from files to the store: walk, read,
// load, chunk, write. It is incremental (documents are keyed by path and
// content hash, unchanged ones are skipped), parallel (loading and
// chunking use every core, one writer), and crash-safe (each document is
// replaced in a single transaction).
package ingest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/store"
)

// Status of one file after an ingest.
type Status string

const (
	StatusAdded     Status = "added"
	StatusUpdated   Status = "updated"
	StatusUnchanged Status = "unchanged"
	StatusSkipped   Status = "skipped"
	StatusFailed    Status = "failed"
	StatusDeleted   Status = "deleted"
)

// loaderVersion is part of every document's signature: bump it when a
// loader's output changes so stored documents are re-read.
const loaderVersion = "1"

// DefaultExclude keeps version control, dependency trees and ragtune's
// own store out of an ingest.
var DefaultExclude = []string{"**/.git", "**/.hg", "**/.svn", "**/node_modules", "**/.ragtune", "**/.DS_Store"}

// Options configure a run.
type Options struct {
	Root           string   // a directory or a single file
	Include        []string // doublestar globs relative to Root; empty = everything
	Exclude        []string
	FollowSymlinks bool
	Prune          bool // delete stored documents under Root whose files are gone
	// DryRun, with Prune, only lists what pruning would delete
	// (Report.WouldDelete): nothing is read, written or recorded.
	DryRun  bool
	KeyBase string   // document keys are paths relative to this directory
	Tags    []string // added to every document's own tags
	Workers int
	Chunk   chunk.Options
	// Progress, if set, is called after each file with the files done and
	// the total.
	Progress func(done, total int)
}

// Result is what happened to one file.
type Result struct {
	Path   string `json:"path"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
	Chunks int    `json:"chunks,omitempty"`
}

// Report sums up a run; its JSON form is part of the CLI contract.
type Report struct {
	Added     int      `json:"added"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Deleted   int      `json:"deleted"`
	Skipped   int      `json:"skipped"`
	Failed    int      `json:"failed"`
	Chunks    int      `json:"chunks"` // chunks written in this run
	Bytes     int64    `json:"bytes"`  // bytes of files read in this run
	Seconds   float64  `json:"seconds"`
	Files     []Result `json:"files"`
	// Set by a dry run: the documents pruning would delete.
	DryRun      bool     `json:"dry_run,omitempty"`
	WouldDelete []string `json:"would_delete,omitempty"`
}

// Ingester writes documents into a corpus.
type Ingester struct {
	Corpus corpus.Corpus
	// History, when set, records every run (the project's ingest history,
	// which advise reads to measure how often documents change).
	History History
	Loader  *document.Loader
	Tokens  chunk.Counter
	// Embedder, if set, embeds every chunk; the store is bound to it.
	Embedder embed.Embedder
	Log      *slog.Logger
}

// History keeps a record of ingest runs.
type History interface {
	RecordIngest(ctx context.Context, r store.IngestRun) error
}

// Run ingests everything under opts.Root. Per-file problems are reported
// in the Report, never returned as errors; an error means the run itself
// could not proceed (bad options, store failure). A run stopped by ctx,
// wherever it was, fails with ErrInterrupted and a Report of what it did.
func (in *Ingester) Run(ctx context.Context, opts Options) (*Report, error) {
	rep, err := in.run(ctx, opts)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
		err = fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	}
	if err != nil && errors.Is(err, ErrInterrupted) && rep == nil {
		rep = &Report{Files: []Result{}}
	}
	return rep, err
}

func (in *Ingester) run(ctx context.Context, opts Options) (*Report, error) {
	began := time.Now()
	if err := opts.Chunk.Validate(); err != nil {
		return nil, err
	}
	if in.Embedder != nil {
		if err := in.Corpus.Bind(ctx, corpus.Identity{Embedder: in.Embedder.ID(), Dim: in.Embedder.Dim()}); err != nil {
			return nil, err
		}
	}
	files, skipped, prefix, err := in.discover(opts)
	if err != nil {
		return nil, err
	}
	existing, err := in.Corpus.Documents(ctx, prefix)
	if err != nil {
		return nil, err
	}
	known := make(map[string]corpus.DocumentInfo, len(existing))
	for _, d := range existing {
		known[d.Path] = d
	}
	rep := &Report{Files: []Result{}}
	gone := goneDocuments(opts.KeyBase, files, skipped, existing)
	if opts.DryRun {
		rep.DryRun, rep.WouldDelete = true, append([]string{}, gone...)
		rep.Seconds = time.Since(began).Seconds()
		return rep, nil
	}
	for _, r := range skipped {
		rep.add(r)
	}
	if err := in.process(ctx, opts, files, known, rep); err != nil {
		sort.SliceStable(rep.Files, func(i, j int) bool { return rep.Files[i].Path < rep.Files[j].Path })
		rep.Seconds = time.Since(began).Seconds()
		return rep, err
	}
	if opts.Prune {
		if err := in.prune(ctx, gone, rep); err != nil {
			return rep, err
		}
	}
	if err := corpus.Refresh(ctx, in.Corpus); err != nil {
		return rep, fmt.Errorf("updating the search indexes: %w", err)
	}
	sort.SliceStable(rep.Files, func(i, j int) bool { return rep.Files[i].Path < rep.Files[j].Path })
	rep.Seconds = time.Since(began).Seconds()
	return rep, in.record(ctx, opts.Root, rep)
}

// record appends the run to the store's ingest history.
func (in *Ingester) record(ctx context.Context, root string, rep *Report) error {
	if in.History == nil {
		return nil
	}
	stats, err := in.Corpus.Stats(ctx)
	if err != nil {
		return err
	}
	return in.History.RecordIngest(ctx, store.IngestRun{FinishedAt: time.Now(), Root: root, Added: rep.Added, Updated: rep.Updated,
		Deleted: rep.Deleted, Unchanged: rep.Unchanged, Failed: rep.Failed, Documents: stats.Documents})
}

// Merge adds another run's figures to r.
func (r *Report) Merge(o *Report) {
	r.Added += o.Added
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	r.Deleted += o.Deleted
	r.Skipped += o.Skipped
	r.Failed += o.Failed
	r.Chunks += o.Chunks
	r.Bytes += o.Bytes
	r.Seconds += o.Seconds
	r.Files = append(r.Files, o.Files...)
}

func (r *Report) add(res Result) {
	switch res.Status {
	case StatusAdded:
		r.Added++
	case StatusUpdated:
		r.Updated++
	case StatusUnchanged:
		r.Unchanged++
	case StatusSkipped:
		r.Skipped++
	case StatusFailed:
		r.Failed++
	case StatusDeleted:
		r.Deleted++
	}
	if res.Status == StatusAdded || res.Status == StatusUpdated {
		r.Chunks += res.Chunks
	}
	r.Files = append(r.Files, res)
}

// discover lists candidate files and returns the key prefix that --prune
// may delete under.
func (in *Ingester) discover(opts Options) ([]file, []Result, string, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, nil, "", fmt.Errorf("resolving %s: %w", opts.Root, err)
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot ingest %s: %w", opts.Root, err)
	}
	base := opts.KeyBase
	if base == "" {
		base = "."
	}
	base, err = filepath.Abs(base)
	if err != nil {
		return nil, nil, "", err
	}
	keyOf := func(abs string) string { return docKey(base, abs) }
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, []Result{{Path: keyOf(root), Status: StatusSkipped, Reason: "not a regular file"}}, keyOf(root), nil
		}
		return []file{{path: root, key: keyOf(root)}}, nil, keyOf(root), nil
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, "", err
	}
	// The walk runs on the resolved root; keys keep the path the user named.
	walkKey := func(p string) string { return keyOf(filepath.Join(root, mustRel(realRoot, p))) }
	w := &walker{root: realRoot, include: opts.Include, exclude: append(append([]string{}, DefaultExclude...), opts.Exclude...),
		follow: opts.FollowSymlinks, keyOf: walkKey, visited: map[string]bool{}}
	if err := w.walk(realRoot); err != nil {
		return nil, nil, "", fmt.Errorf("walking %s: %w", opts.Root, err)
	}
	prefix := keyOf(root)
	if prefix == "." {
		prefix = ""
	} else {
		prefix += "/"
	}
	return w.files, w.skipped, prefix, nil
}

func mustRel(base, path string) string {
	r, err := filepath.Rel(base, path)
	if err != nil {
		return path
	}
	return r
}

// docKey is abs relative to base with forward slashes, or abs itself
// when it lies outside base.
func docKey(base, abs string) string {
	if Within(base, abs) {
		rel, _ := filepath.Rel(base, abs)
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(abs)
}

// Signature identifies how a document was turned into chunks and
// vectors; a document stored under another signature is redone.
func Signature(opts chunk.Options, e embed.Embedder) string {
	s := "loader=" + loaderVersion + ";chunk=" + opts.Signature()
	if e != nil {
		s += ";embed=" + e.ID()
	}
	return s
}

// EmbedChunks fills in the vectors of the documents' chunks, in as few
// model calls as the embedder's batching allows. The text embedded is the
// chunk's title and heading path followed by its text, so a chunk is found
// by what its section is about as well as by its words.
func EmbedChunks(ctx context.Context, e embed.Embedder, docs ...*corpus.Document) error {
	if e == nil {
		return nil
	}
	var texts []string
	for _, d := range docs {
		for _, c := range d.Chunks {
			texts = append(texts, strings.TrimSpace(c.Title+"\n"+c.Text))
		}
	}
	if len(texts) == 0 {
		return nil
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return fmt.Errorf("embedding: %w", err)
	}
	k := 0
	for _, d := range docs {
		for i := range d.Chunks {
			d.Chunks[i].Vector = vecs[k]
			k++
		}
	}
	return nil
}

type outcome struct {
	res Result
	doc *corpus.Document
}

// process loads and chunks files in parallel and writes them in batches
// from a single goroutine.
func (in *Ingester) process(ctx context.Context, opts Options, files []file, known map[string]corpus.DocumentInfo, rep *Report) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan file)
	results := make(chan outcome, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				o := in.one(ctx, opts, f, known)
				select {
				case results <- o:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, f := range files {
			select {
			case jobs <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	return in.write(ctx, opts, len(files), results, rep)
}

// Batches amortise commit cost; each document is still atomic.
const (
	batchDocs  = 64
	batchDelay = 250 * time.Millisecond
)

func (in *Ingester) write(ctx context.Context, opts Options, total int, results <-chan outcome, rep *Report) error {
	var batch []corpus.Document
	var pending []Result
	flushed := time.Now()
	flush := func() error {
		if err := in.Corpus.Upsert(ctx, batch); err != nil {
			return fmt.Errorf("writing to the store: %w", err)
		}
		for _, r := range pending {
			rep.add(r)
		}
		batch, pending, flushed = batch[:0], pending[:0], time.Now()
		return nil
	}
	done := 0
	for o := range results {
		done++
		if ctx.Err() != nil && o.res.Status == StatusFailed {
			continue // cut short by the interruption, not a bad file
		}
		if o.doc != nil {
			batch = append(batch, *o.doc)
			pending = append(pending, o.res)
			rep.Bytes += o.doc.Size
		} else {
			rep.add(o.res)
		}
		if len(batch) >= batchDocs || (len(batch) > 0 && time.Since(flushed) > batchDelay) {
			if err := flush(); err != nil {
				return err
			}
		}
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	if err := ctx.Err(); err != nil {
		// The documents already read are written whole, then the run
		// stops: what was processed is kept, the rest waits for a rerun.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		ctx = wctx
		if ferr := flush(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return flush()
}

// ErrInterrupted means a run was stopped (Ctrl-C, SIGTERM, a client that
// left) before it finished; its Report says what was done, and running
// the same ingest again finishes it.
var ErrInterrupted = errors.New("ingest interrupted")

// one decides what to do with a single file. It never returns an error:
// problems become a skipped or failed Result.
func (in *Ingester) one(ctx context.Context, opts Options, f file, known map[string]corpus.DocumentInfo) outcome {
	data, err := in.Loader.ReadFile(f.path)
	if err != nil {
		return outcome{res: failure(f.key, err)}
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	sig := Signature(opts.Chunk, in.Embedder)
	if len(opts.Tags) > 0 {
		sig += ";tags=" + strings.Join(opts.Tags, ",")
	}
	prev, seen := known[f.key]
	if seen && prev.Hash == hash && prev.Signature == sig {
		return outcome{res: Result{Path: f.key, Status: StatusUnchanged, Chunks: prev.Chunks}}
	}
	doc, err := in.Loader.Load(ctx, f.key, data)
	if err != nil {
		return outcome{res: failure(f.key, err)}
	}
	chunks, err := chunk.Split(doc, opts.Chunk, in.Tokens)
	if err != nil {
		return outcome{res: failure(f.key, err)}
	}
	status := StatusAdded
	if seen {
		status = StatusUpdated
	}
	for _, w := range doc.Warnings {
		in.logger().Warn("loaded with a warning", "path", f.key, "warning", w)
	}
	doc.Tags = corpus.NormalizeTags(append(doc.Tags, opts.Tags...))
	sd := ToStore(doc, chunks, sig)
	if err := EmbedChunks(ctx, in.Embedder, &sd); err != nil {
		return outcome{res: failure(f.key, err)}
	}
	return outcome{res: Result{Path: f.key, Status: status, Chunks: len(chunks), Reason: strings.Join(doc.Warnings, "; ")}, doc: &sd}
}

func (in *Ingester) logger() *slog.Logger {
	if in.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Log
}

func failure(key string, err error) Result {
	var skip *document.SkipError
	if errors.As(err, &skip) {
		return Result{Path: key, Status: StatusSkipped, Reason: skip.Reason}
	}
	return Result{Path: key, Status: StatusFailed, Reason: err.Error()}
}

// ToStore turns a loaded, chunked document into the store's form.
func ToStore(doc *document.Document, chunks []chunk.Chunk, sig string) corpus.Document {
	sd := corpus.Document{Path: doc.Path, Title: doc.Title, Format: string(doc.Format), Hash: doc.Hash, Size: doc.Size, Signature: sig, Tags: doc.Tags}
	for _, c := range chunks {
		heading := chunk.HeadingString(c.Heading)
		title := doc.Title
		if heading != "" && heading != doc.Title {
			title += " > " + heading
		}
		sd.Chunks = append(sd.Chunks, corpus.Chunk{
			ID: corpus.ChunkID(doc.Path, c.Index, c.Text), Ord: c.Index, Title: title, Heading: heading, Text: c.Text,
			Start: c.Start, End: c.End, LineStart: c.LineStart, LineEnd: c.LineEnd, Tokens: c.Tokens,
		})
	}
	return sd
}

// goneDocuments lists the stored documents under the root whose files
// no longer exist. A file this run did not take (left out by --include or
// --exclude, skipped, failed) still exists, so its document stays.
func goneDocuments(keyBase string, files []file, skipped []Result, existing []corpus.DocumentInfo) []string {
	present := map[string]bool{}
	for _, f := range files {
		present[f.key] = true
	}
	for _, s := range skipped {
		present[s.Path] = true
	}
	base, _ := filepath.Abs(cmp.Or(keyBase, "."))
	var gone []string
	for _, d := range existing {
		if present[d.Path] {
			continue
		}
		path := filepath.FromSlash(d.Path)
		if !filepath.IsAbs(path) {
			path = filepath.Join(base, path)
		}
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, d.Path)
		}
	}
	return gone
}

// prune deletes the documents whose files are gone.
func (in *Ingester) prune(ctx context.Context, gone []string, rep *Report) error {
	if err := in.Corpus.Delete(ctx, gone); err != nil {
		return err
	}
	for _, p := range gone {
		rep.add(Result{Path: p, Status: StatusDeleted})
	}
	return nil
}

// WriteText writes the report for a person: the problems, every file
// when verbose, and the totals; a dry run lists what would be deleted.
func (r *Report) WriteText(w io.Writer, verbose bool) {
	if r.DryRun {
		for _, p := range r.WouldDelete {
			fmt.Fprintf(w, "would delete  %s\n", p)
		}
		fmt.Fprintf(w, "%d document(s) would be deleted; nothing was changed (dry run)\n", len(r.WouldDelete))
		return
	}
	for _, f := range r.Files {
		switch {
		case f.Status == StatusFailed:
			fmt.Fprintf(w, "failed   %s: %s\n", f.Path, f.Reason)
		case f.Status == StatusSkipped && (verbose || !strings.HasPrefix(f.Reason, "unsupported file type")):
			fmt.Fprintf(w, "skipped  %s: %s\n", f.Path, f.Reason)
		case verbose && f.Status != StatusSkipped:
			fmt.Fprintf(w, "%-8s %s (%d chunks)\n", f.Status, f.Path, f.Chunks)
		}
	}
	fmt.Fprintf(w, "%d added, %d updated, %d unchanged, %d deleted, %d skipped, %d failed; %d chunks written in %.2fs\n",
		r.Added, r.Updated, r.Unchanged, r.Deleted, r.Skipped, r.Failed, r.Chunks, r.Seconds)
}
