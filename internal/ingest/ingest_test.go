package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/document"
)

type fixture struct {
	t    *testing.T
	dir  string // project dir; documents under dir/docs
	in   *Ingester
	opts Options
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Create(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tok, err := chunk.NewTiktokenCounter("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	loader := document.NewLoader(document.Options{MaxFileBytes: 1 << 20, MaxExtractedBytes: 8 << 20,
		CacheDir: filepath.Join(os.TempDir(), "ragtune-test-wazero")})
	t.Cleanup(func() { loader.Close() })
	f := &fixture{t: t, dir: dir, in: &Ingester{Corpus: st, Loader: loader, Tokens: tok}}
	f.opts = Options{Root: filepath.Join(dir, "docs"), KeyBase: dir, Chunk: chunk.DefaultOptions()}
	os.MkdirAll(f.opts.Root, 0o755)
	return f
}

func (f *fixture) write(name string, data []byte) {
	f.t.Helper()
	p := filepath.Join(f.opts.Root, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) run() *Report {
	f.t.Helper()
	rep, err := f.in.Run(f.t.Context(), f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

func counts(r *Report) [6]int {
	return [6]int{r.Added, r.Updated, r.Unchanged, r.Deleted, r.Skipped, r.Failed}
}

func statusOf(r *Report, path string) Result {
	for _, f := range r.Files {
		if f.Path == path {
			return f
		}
	}
	return Result{}
}

func TestIncremental(t *testing.T) {
	f := newFixture(t)
	f.write("a.md", []byte("# A\n\nAlpha text about keys."))
	f.write("sub/b.txt", []byte("Beta text about backups."))
	f.write("c.html", []byte("<p>Gamma text.</p>"))
	if got := counts(f.run()); got != [6]int{3, 0, 0, 0, 0, 0} {
		t.Fatalf("first run added/updated/unchanged/deleted/skipped/failed = %v", got)
	}
	if got := counts(f.run()); got != [6]int{0, 0, 3, 0, 0, 0} {
		t.Fatalf("second run = %v, want all unchanged", got)
	}
	f.write("a.md", []byte("# A\n\nAlpha text, edited."))
	os.Remove(filepath.Join(f.opts.Root, "c.html"))
	if got := counts(f.run()); got != [6]int{0, 1, 1, 0, 0, 0} {
		t.Fatalf("after edit = %v, want 1 updated, 1 unchanged, no prune yet", got)
	}
	f.opts.Prune = true
	rep := f.run()
	if got := counts(rep); got != [6]int{0, 0, 2, 1, 0, 0} {
		t.Fatalf("with prune = %v, want 1 deleted", got)
	}
	if s := statusOf(rep, "docs/c.html"); s.Status != StatusDeleted {
		t.Fatalf("c.html: %+v", s)
	}
	// New chunking settings re-chunk everything.
	f.opts.Chunk.Size = 128
	if got := counts(f.run()); got != [6]int{0, 2, 0, 0, 0, 0} {
		t.Fatalf("after changing chunk size = %v, want 2 updated", got)
	}
	docs, _ := f.in.Corpus.Documents(t.Context(), "")
	if len(docs) != 2 || docs[0].Path != "docs/a.md" || docs[1].Path != "docs/sub/b.txt" {
		t.Fatalf("stored documents = %+v", docs)
	}
}

// TestHostileInputs puts every kind of bad file beside good ones: each bad
// one gets its own clear reason, and every good one is stored.
func TestHostileInputs(t *testing.T) {
	f := newFixture(t)
	pdf, err := os.ReadFile("../document/testdata/sample.pdf")
	if err != nil {
		t.Fatal(err)
	}
	f.write("good.md", []byte("# Good\n\nThis document is fine."))
	f.write("good.pdf", pdf)
	f.write("truncated.pdf", pdf[:len(pdf)/3])
	f.write("latin1.txt", []byte("caf\xe9 cr\xe8me br\xfbl\xe9e na\xefve fa\xe7ade"))
	f.write("deep.html", []byte(strings.Repeat("<div>", 20000)+"deep text"+strings.Repeat("</div>", 20000)))
	f.write("bomb.docx", zipBomb(t, 16<<20))
	f.write("image.png", []byte("\x89PNG\r\n\x1a\n\x00\x00"))
	big, _ := os.Create(filepath.Join(f.opts.Root, "huge.txt"))
	big.Truncate(200 << 20) // sparse: 200 MB on paper, nothing on disk
	big.Close()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside the root"), 0o644)
	os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(f.opts.Root, "escape.txt"))
	os.Symlink(f.opts.Root, filepath.Join(f.opts.Root, "loop"))

	check := func(rep *Report, want map[string]string) {
		t.Helper()
		for path, part := range want {
			r := statusOf(rep, "docs/"+path)
			if !strings.Contains(string(r.Status)+": "+r.Reason, part) {
				t.Errorf("%s: got %q %q, want %q", path, r.Status, r.Reason, part)
			}
		}
	}
	rep := f.run()
	check(rep, map[string]string{
		"good.md":       "added",
		"good.pdf":      "added",
		"deep.html":     "added",
		"truncated.pdf": "failed: ",
		"latin1.txt":    "failed: not valid UTF-8",
		"bomb.docx":     "failed: decompressed content exceeds",
		"image.png":     "skipped: unsupported file type .png",
		"huge.txt":      "skipped: file is 200 MiB, over the 1.0 MiB limit",
		"escape.txt":    "skipped: symlink not followed",
		"loop":          "skipped: symlink not followed",
	})
	f.opts.FollowSymlinks = true
	rep = f.run()
	check(rep, map[string]string{
		"escape.txt": "skipped: symlink points outside the ingest root",
		"loop":       "skipped: symlink loop",
		"good.md":    "unchanged",
	})
	if s, _ := f.in.Corpus.Stats(t.Context()); s.Documents != 3 {
		t.Errorf("stored %d documents, want the 3 good ones", s.Documents)
	}
}

func zipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>`))
	for i := 0; i < n>>20; i++ {
		w.Write(bytes.Repeat([]byte("A"), 1<<20))
	}
	w.Write([]byte(`</w:t></w:r></w:p></w:body></w:document>`))
	zw.Close()
	return buf.Bytes()
}

func TestIncludeExclude(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"a.md", "notes/b.md", "notes/drafts/c.md", "d.txt", ".git/config.txt", "node_modules/x/readme.md"} {
		f.write(name, []byte("Some words in "+name))
	}
	f.opts.Include = []string{"**/*.md"}
	f.opts.Exclude = []string{"notes/drafts"}
	rep := f.run()
	var got []string
	for _, r := range rep.Files {
		got = append(got, r.Path)
	}
	if want := "docs/a.md docs/notes/b.md"; strings.Join(got, " ") != want {
		t.Errorf("ingested %q, want %s", got, want)
	}
}

// TestPruneKeepsFilteredFiles is the reported case: with mixed files,
// `--include '*.md' --prune` deleted every non-Markdown document although
// its file was still there. Only a file gone from disk may be pruned, and
// a dry run lists it without deleting.
func TestPruneKeepsFilteredFiles(t *testing.T) {
	f := newFixture(t)
	f.write("a.md", []byte("# A\n\nAlpha text about keys."))
	f.write("b.md", []byte("# B\n\nBeta text about backups."))
	f.write("c.html", []byte("<html><body><p>Gamma page about restores.</p></body></html>"))
	f.write("d.txt", []byte("Delta notes about rotation."))
	f.write("drafts/e.md", []byte("# E\n\nA draft about tea."))
	if got := counts(f.run()); got[0] != 5 {
		t.Fatalf("first run = %v, want 5 added", got)
	}
	f.opts.Include, f.opts.Exclude, f.opts.Prune = []string{"**/*.md"}, []string{"drafts/**"}, true
	if got := counts(f.run()); got[3] != 0 {
		t.Fatalf("prune with --include *.md and --exclude drafts/** deleted %d documents whose files exist", got[3])
	}
	os.Remove(filepath.Join(f.opts.Root, "b.md"))
	os.Remove(filepath.Join(f.opts.Root, "d.txt"))
	f.opts.DryRun = true
	dry := f.run()
	if !dry.DryRun || strings.Join(dry.WouldDelete, ",") != "docs/b.md,docs/d.txt" || dry.Deleted != 0 {
		t.Fatalf("dry run = %+v", dry)
	}
	if docs, _ := f.in.Corpus.Documents(t.Context(), ""); len(docs) != 5 {
		t.Fatalf("the dry run deleted something: %d documents left", len(docs))
	}
	f.opts.DryRun = false
	rep := f.run()
	if rep.Deleted != 2 || statusOf(rep, "docs/b.md").Status != StatusDeleted || statusOf(rep, "docs/d.txt").Status != StatusDeleted {
		t.Fatalf("prune after removing b.md and d.txt = %+v", rep)
	}
	docs, _ := f.in.Corpus.Documents(t.Context(), "")
	var paths []string
	for _, d := range docs {
		paths = append(paths, d.Path)
	}
	if strings.Join(paths, ",") != "docs/a.md,docs/c.html,docs/drafts/e.md" {
		t.Fatalf("left: %v", paths)
	}
}

// TestNamedPipesAreNeverOpened: a FIFO given as the root, met in the walk
// or behind a followed link is skipped at once; opening one would block
// the ingest until something writes to it.
func TestNamedPipesAreNeverOpened(t *testing.T) {
	f := newFixture(t)
	f.write("a.md", []byte("# A\n\nAlpha text."))
	fifo := filepath.Join(f.opts.Root, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	os.Symlink(fifo, filepath.Join(f.opts.Root, "link-to-pipe"))
	f.opts.FollowSymlinks = true
	done := make(chan *Report, 2)
	go func() {
		done <- f.run()
		o := f.opts
		o.Root = fifo
		rep, err := f.in.Run(t.Context(), o)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	for i := range 2 {
		select {
		case rep := <-done:
			if i == 0 && (rep.Added != 1 || rep.Skipped != 2) {
				t.Errorf("walk with a pipe and a link to it: %+v", rep)
			}
			if i == 1 && (rep.Skipped != 1 || rep.Failed != 0) {
				t.Errorf("a pipe as the root: %+v", rep)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the ingest blocked on a named pipe")
		}
	}
}

// TestInterrupted: a run stopped part way keeps what it processed,
// reports the stop as an interruption (no file counted as failed), and
// running it again finishes the job.
func TestInterrupted(t *testing.T) {
	f := newFixture(t)
	for i := range 300 {
		f.write(fmt.Sprintf("doc%03d.md", i), []byte(fmt.Sprintf("# Doc %d\n\nText of document %d about topic %d.", i, i, i%7)))
	}
	ctx, cancel := context.WithCancel(t.Context())
	o := f.opts
	o.Workers = 1
	o.Progress = func(done, total int) {
		if done == 40 {
			cancel()
		}
	}
	rep, err := f.in.Run(ctx, o)
	if !errors.Is(err, ErrInterrupted) || rep == nil {
		t.Fatalf("interrupted run: %v, %+v", err, rep)
	}
	if rep.Failed != 0 || rep.Added == 0 || rep.Added >= 300 {
		t.Fatalf("interrupted run report: %+v", counts(rep))
	}
	stored, _ := f.in.Corpus.Documents(t.Context(), "")
	if len(stored) != rep.Added {
		t.Errorf("%d documents stored, the report says %d added", len(stored), rep.Added)
	}
	again := f.run()
	if again.Added != 300-rep.Added || again.Unchanged != rep.Added {
		t.Errorf("rerun: %+v after %d added", counts(again), rep.Added)
	}
	// Stopped before any file: an interruption too, not a store error.
	done, stop := context.WithCancel(t.Context())
	stop()
	if _, err := f.in.Run(done, f.opts); !errors.Is(err, ErrInterrupted) {
		t.Errorf("a run stopped before it began: %v", err)
	}
}

func TestSelects(t *testing.T) {
	root := t.TempDir()
	o := Options{Root: root, Include: []string{"**/*.md"}, Exclude: []string{"drafts/**"}}
	for rel, want := range map[string]bool{
		"a.md": true, "sub/b.md": true, "c.txt": false, "drafts/d.md": false,
		".git/e.md": false, "x/node_modules/f.md": false, "../outside.md": false,
	} {
		if got := o.Selects(filepath.Join(root, rel)); got != want {
			t.Errorf("Selects(%s) = %v, want %v", rel, got, want)
		}
	}
	if k := Key(filepath.Dir(root), filepath.Join(root, "a.md")); k != filepath.Base(root)+"/a.md" {
		t.Errorf("Key = %q", k)
	}
}
