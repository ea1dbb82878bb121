package ingest

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTrackerRounds drives a tracker through rounds of each kind and
// checks every source's status after each step.
func TestTrackerRounds(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2025, 3, 1, 19, 52, 0, 0, time.UTC)
	tr := NewTracker(dir)
	tr.now = func() time.Time { return at }
	docs := filepath.Join(dir, "docs")
	var endWatch, endCrawl, endUpload1, endUpload2 func(*Report, error)
	steps := []struct {
		name string
		do   func()
		kind SourceKind
		src  string
		want SourceStatus // Kind and Source are filled in
		// times: whether StartedAt, FinishedAt and NextAt are set
		started, finished, next bool
	}{
		{"listed before a round", func() { tr.Add(KindWatch, docs) }, KindWatch, "docs/",
			SourceStatus{State: StateIdle}, false, false, false},
		{"a watch round starts", func() { endWatch = tr.Begin(KindWatch, docs) }, KindWatch, "docs/",
			SourceStatus{State: StateRunning}, true, false, false},
		{"it ends", func() { endWatch(&Report{Added: 1, Updated: 2, Unchanged: 3, Deleted: 4, Failed: 0}, nil) }, KindWatch, "docs/",
			SourceStatus{State: StateIdle, Rounds: 1, Added: 1, Updated: 2, Unchanged: 3, Deleted: 4}, true, true, false},
		{"a relative folder is the same source", func() { tr.Begin(KindWatch, docs+"/")(&Report{Updated: 1}, nil) }, KindWatch, "docs/",
			SourceStatus{State: StateIdle, Rounds: 2, Updated: 1}, true, true, false},
		{"a crawl fails with a server path", func() {
			endCrawl = tr.Begin(KindCrawl, "https://example.com/sitemap.xml")
			endCrawl(&Report{Added: 1, Failed: 1}, fmt.Errorf("writing: %w", errors.New("open "+filepath.Join(dir, ".ragtune", "db")+": permission denied")))
		}, KindCrawl, "https://example.com/sitemap.xml",
			SourceStatus{State: StateFailed, Rounds: 1, Added: 1, Failed: 1, Error: "writing: open .ragtune/db: permission denied"}, true, true, false},
		{"and is scheduled", func() { tr.Schedule(KindCrawl, "https://example.com/sitemap.xml", at.Add(time.Hour)) }, KindCrawl, "https://example.com/sitemap.xml",
			SourceStatus{State: StateFailed, Rounds: 1, Added: 1, Failed: 1, Error: "writing: open .ragtune/db: permission denied"}, true, true, true},
		{"two uploads overlap", func() {
			endUpload1, endUpload2 = tr.Begin(KindUpload, filepath.Join(dir, "uploads")), tr.Begin(KindUpload, filepath.Join(dir, "uploads"))
		}, KindUpload, "uploads/",
			SourceStatus{State: StateRunning}, true, false, false},
		{"one ends, the other still runs", func() { endUpload1(&Report{Added: 1}, nil) }, KindUpload, "uploads/",
			SourceStatus{State: StateRunning, Rounds: 1, Added: 1}, true, true, false},
		{"ending twice counts once", func() { endUpload1(&Report{Added: 9}, nil) }, KindUpload, "uploads/",
			SourceStatus{State: StateRunning, Rounds: 1, Added: 1}, true, true, false},
		{"the other ends with no report", func() { endUpload2(nil, errors.New("stat /srv/elsewhere/secret.md: no such file")) }, KindUpload, "uploads/",
			SourceStatus{State: StateFailed, Rounds: 2, Error: "stat secret.md: no such file"}, true, true, false},
		{"a later round clears the error", func() { tr.Begin(KindUpload, filepath.Join(dir, "uploads"))(&Report{Unchanged: 1}, nil) }, KindUpload, "uploads/",
			SourceStatus{State: StateIdle, Rounds: 3, Unchanged: 1}, true, true, false},
	}
	for _, st := range steps {
		st.do()
		var got *SourceStatus
		all := tr.Sources()
		for i := range all {
			if all[i].Kind == st.kind && all[i].Source == st.src {
				got = &all[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: no %s source %q in %+v", st.name, st.kind, st.src, all)
		}
		if (got.StartedAt != nil) != st.started || (got.FinishedAt != nil) != st.finished || (got.NextAt != nil) != st.next {
			t.Errorf("%s: times started %v finished %v next %v", st.name, got.StartedAt, got.FinishedAt, got.NextAt)
		}
		want := st.want
		want.Kind, want.Source = st.kind, st.src
		want.StartedAt, want.FinishedAt, want.NextAt = got.StartedAt, got.FinishedAt, got.NextAt
		if *got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", st.name, *got, want)
		}
	}
	if got := tr.Sources(); len(got) != 3 || got[0].Kind != KindWatch || got[1].Kind != KindCrawl || got[2].Kind != KindUpload {
		t.Errorf("sources out of order: %+v", got)
	}
}

func TestTrackerScrub(t *testing.T) {
	tr := NewTracker("/srv/project")
	for _, tc := range []struct{ in, want string }{
		{"open /srv/project/docs/a.md: permission denied", "open docs/a.md: permission denied"},
		{`path "/srv/other/b.md" is outside`, `path "b.md" is outside`},
		{"fetching https://example.com/a/b: 404", "fetching https://example.com/a/b: 404"},
		{"/etc/passwd, (/var/lib/x)", "passwd, (x)"},
		{"no path here", "no path here"},
	} {
		if got := tr.scrub(tc.in); got != tc.want {
			t.Errorf("scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTrackerConcurrent reads while rounds start and end (run with -race).
func TestTrackerConcurrent(t *testing.T) {
	tr := NewTracker(t.TempDir())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				tr.Begin(KindUpload, "uploads")(&Report{Added: i}, nil)
				tr.Schedule(KindCrawl, "https://example.com/", time.Now())
				tr.Sources()
			}
		}()
	}
	wg.Wait()
	for _, s := range tr.Sources() {
		if s.Kind == KindUpload && (s.Rounds != 800 || s.State != StateIdle) {
			t.Errorf("after 800 rounds: %+v", s)
		}
	}
}

func TestTrackerShowsNoSecretsOrOutsidePaths(t *testing.T) {
	dir := t.TempDir()
	tr := NewTracker(filepath.Join(dir, "project"))
	tr.Begin(KindCrawl, "https://ana:secret@example.com/sitemap.xml?token=abc#top")(nil, nil)
	tr.Begin(KindWatch, filepath.Join(dir, "elsewhere", "handbook"))(nil, nil)
	tr.Begin(KindWatch, filepath.Join(dir, "project", "docs"))(nil, nil)
	var got []string
	for _, s := range tr.Sources() {
		got = append(got, s.Source)
	}
	want := []string{"https://example.com/sitemap.xml", "handbook/", "docs/"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("sources %q, want %q", got, want)
	}
}
