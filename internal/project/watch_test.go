package project

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// TestWatchKeepsTheIndexInStep saves, atomically replaces, renames and
// deletes files under a watched folder (100 edits) and measures how long
// each change takes to be searchable (or gone), without a manual ingest;
// then writes 1,000 files at once, which must be ingested in one batch.
func TestWatchKeepsTheIndexInStep(t *testing.T) {
	if testing.Short() {
		t.Skip("watches a folder")
	}
	dir := t.TempDir()
	cfg, env := newConfig(dir)
	cfg.Ingest.Include = []string{"**/*.md"}
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "first.md"), []byte("# First\n\nThe first document about apples.\n"), 0o644)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	watching := make(chan error, 1)
	var batches atomic.Int64
	ready := make(chan struct{}, 1)
	go func() {
		watching <- p.Watch(ctx, WatchRequest{Roots: []string{docs}, Quiet: 100 * time.Millisecond,
			Report: func(rep *ingest.Report, err error) {
				batches.Add(1)
				select {
				case ready <- struct{}{}:
				default:
				}
			}})
	}()
	<-ready // the first ingest is done
	found := func(word string) bool {
		hits, err := p.Search(t.Context(), retrieve.Query{Text: word, K: 5, Mode: retrieve.Lexical})
		if err != nil {
			t.Fatal(err)
		}
		return len(hits) > 0
	}
	until := func(what string, cond func() bool) time.Duration {
		began := time.Now()
		for time.Since(began) < 10*time.Second {
			if cond() {
				return time.Since(began)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: not within 10 s", what)
		return 0
	}
	if !found("apples") {
		t.Fatal("the first ingest did not run")
	}
	var lat []time.Duration
	for i := range 100 {
		word := fmt.Sprintf("zebra%03d", i)
		path := filepath.Join(docs, fmt.Sprintf("note%02d.md", i%5))
		switch i % 4 {
		case 0, 1: // a plain save
			os.WriteFile(path, []byte("# Note\n\nAbout "+word+".\n"), 0o644)
		case 2: // an editor's atomic save: write a temporary file, rename it over
			tmp := filepath.Join(docs, ".note.tmp")
			os.WriteFile(tmp, []byte("# Note\n\nAbout "+word+".\n"), 0o644)
			os.Rename(tmp, path)
		case 3: // a new folder with a file in it
			sub := filepath.Join(docs, fmt.Sprintf("sub%03d", i))
			os.MkdirAll(sub, 0o755)
			os.WriteFile(filepath.Join(sub, "n.md"), []byte("# Sub\n\nAbout "+word+".\n"), 0o644)
		}
		lat = append(lat, until(word+" searchable", func() bool { return found(word) }))
	}
	os.WriteFile(filepath.Join(docs, "ignored.txt"), []byte("pears everywhere"), 0o644)
	os.Remove(filepath.Join(docs, "first.md"))
	until("a deleted file gone", func() bool { return !found("apples") })
	os.Rename(filepath.Join(docs, "sub003"), filepath.Join(dir, "moved-out"))
	until("a folder moved away gone", func() bool { return !found("zebra003") })
	if found("pears") {
		t.Error("a file --include leaves out was ingested")
	}
	batches.Store(0)
	for i := range 1000 {
		os.WriteFile(filepath.Join(docs, fmt.Sprintf("burst%04d.md", i)), []byte(fmt.Sprintf("# Burst\n\nBurst note %d about kiwis.\n", i)), 0o644)
	}
	until("1,000 files written at once", func() bool {
		docs, _ := p.Documents(t.Context(), "docs/burst")
		return len(docs) == 1000
	})
	t.Logf("1,000 files written at once were ingested in %d batch(es)", batches.Load())
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("save to searchable over %d changes: p50 %s, p95 %s", len(lat), lat[len(lat)/2], lat[len(lat)*95/100])
	stop()
	if err := <-watching; err != nil {
		t.Error(err)
	}
}

// TestWatchRounds sees each round of a watch begin and end: the first
// ingest, then a batch with a new file.
func TestWatchRounds(t *testing.T) {
	dir := t.TempDir()
	cfg, env := newConfig(dir)
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "a.md"), []byte("# A\n\nApples.\n"), 0o644)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	ends := make(chan *ingest.Report, 10)
	var begun atomic.Int64
	watching := make(chan error, 1)
	go func() {
		watching <- p.Watch(ctx, WatchRequest{Roots: []string{docs}, Quiet: 100 * time.Millisecond,
			Begin: func() func(*ingest.Report, error) {
				begun.Add(1)
				return func(rep *ingest.Report, err error) {
					if err != nil {
						t.Error(err)
					}
					ends <- rep
				}
			}})
	}()
	if rep := <-ends; rep.Added != 1 {
		t.Errorf("first round %+v", rep)
	}
	os.WriteFile(filepath.Join(docs, "b.md"), []byte("# B\n\nBananas.\n"), 0o644)
	select {
	case rep := <-ends:
		if rep.Added != 1 {
			t.Errorf("second round %+v", rep)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no round after a new file")
	}
	stop()
	if err := <-watching; err != nil {
		t.Error(err)
	}
	if n := begun.Load(); n < 2 {
		t.Errorf("%d rounds begun", n)
	}
}
