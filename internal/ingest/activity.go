package ingest

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SourceKind is how a source's documents arrive.
type SourceKind string

const (
	KindWatch  SourceKind = "watch"  // a folder followed while serving
	KindCrawl  SourceKind = "crawl"  // a web page or sitemap fetched on a schedule
	KindUpload SourceKind = "upload" // files uploaded over HTTP
)

// SourceState is what a source is doing.
type SourceState string

const (
	StateIdle    SourceState = "idle"    // waiting for changes or the next crawl
	StateRunning SourceState = "running" // a round is ingesting
	StateFailed  SourceState = "failed"  // the last round ended in an error
)

// SourceStatus is the ingest activity of one source: what it is doing and
// what its last finished round did.
type SourceStatus struct {
	Kind SourceKind `json:"kind"`
	// Source is a folder relative to the project folder, or a URL.
	Source string      `json:"source"`
	State  SourceState `json:"state"`
	// StartedAt and FinishedAt are the last round's; FinishedAt is nil
	// until a round has finished.
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Rounds counts finished rounds.
	Rounds    int `json:"rounds"`
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Deleted   int `json:"deleted"`
	Failed    int `json:"failed"`
	// Error is the last round's error, with no server path in it.
	Error string `json:"error,omitempty"`
	// NextAt is when a crawl runs again.
	NextAt *time.Time `json:"next_at,omitempty"`
}

// Tracker records the ingest activity of a project's sources for the
// server to show. It is safe for concurrent use; the zero value is not
// usable, use NewTracker.
type Tracker struct {
	dir string           // the project folder: sources and errors are shown relative to it
	now func() time.Time // the clock (tests set it)

	mu      sync.Mutex
	order   []sourceKey
	sources map[sourceKey]*tracked
}

type sourceKey struct {
	kind   SourceKind
	source string
}

type tracked struct {
	status  SourceStatus
	running int // rounds under way (uploads may overlap)
}

// NewTracker tracks the sources of the project in dir.
func NewTracker(dir string) *Tracker {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Tracker{dir: dir, now: time.Now, sources: map[sourceKey]*tracked{}}
}

// Add lists a source before its first round, idle.
func (t *Tracker) Add(kind SourceKind, source string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(kind, source)
}

// Begin records that a round of the source starts; the function it
// returns records the round's end with its report (which may be nil)
// and error. Call that exactly once.
func (t *Tracker) Begin(kind SourceKind, source string) func(*Report, error) {
	t.mu.Lock()
	s := t.get(kind, source)
	now := t.now()
	s.running++
	s.status.State, s.status.StartedAt = StateRunning, &now
	t.mu.Unlock()
	var once sync.Once
	return func(rep *Report, err error) {
		once.Do(func() { t.finish(s, rep, err) })
	}
}

func (t *Tracker) finish(s *tracked, rep *Report, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s.running--
	s.status.FinishedAt = &now
	s.status.Rounds++
	s.status.Added, s.status.Updated, s.status.Unchanged, s.status.Deleted, s.status.Failed = 0, 0, 0, 0, 0
	if rep != nil {
		s.status.Added, s.status.Updated, s.status.Unchanged, s.status.Deleted, s.status.Failed = rep.Added, rep.Updated, rep.Unchanged, rep.Deleted, rep.Failed
	}
	s.status.Error = ""
	if err != nil {
		s.status.Error = t.scrub(err.Error())
	}
	switch {
	case s.running > 0:
		s.status.State = StateRunning
	case err != nil:
		s.status.State = StateFailed
	default:
		s.status.State = StateIdle
	}
}

// Schedule records when a source's next round starts.
func (t *Tracker) Schedule(kind SourceKind, source string, next time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(kind, source).status.NextAt = &next
}

// Sources is every source's status, in the order they were first seen.
func (t *Tracker) Sources() []SourceStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]SourceStatus, 0, len(t.order))
	for _, k := range t.order {
		s := t.sources[k].status
		s.StartedAt, s.FinishedAt, s.NextAt = copyTime(s.StartedAt), copyTime(s.FinishedAt), copyTime(s.NextAt)
		out = append(out, s)
	}
	return out
}

// get returns the source's entry, making it; t.mu is held.
func (t *Tracker) get(kind SourceKind, source string) *tracked {
	k := sourceKey{kind, t.display(kind, source)}
	s, ok := t.sources[k]
	if !ok {
		s = &tracked{status: SourceStatus{Kind: kind, Source: k.source, State: StateIdle}}
		t.sources[k] = s
		t.order = append(t.order, k)
	}
	return s
}

// display is a folder relative to the project folder, ending in a
// slash (only its name when it lies outside); a URL without its
// credentials, query or fragment (a token there is no one else's to see).
func (t *Tracker) display(kind SourceKind, source string) string {
	if kind == KindCrawl || strings.Contains(source, "://") {
		if u, err := url.Parse(source); err == nil {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			return u.String()
		}
		return source
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return filepath.Base(source) + "/"
	}
	rel, err := filepath.Rel(t.dir, abs)
	if err != nil {
		return filepath.Base(abs) + "/"
	}
	if rel == "." {
		return "./"
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return filepath.Base(abs) + "/"
	}
	return filepath.ToSlash(rel) + "/"
}

// absPath is a path on the server in an error message: a slash that
// starts the text or follows a space, quote, parenthesis or equals sign
// (not the "//" of a URL), then everything up to a space, quote, colon
// or comma.
var absPath = regexp.MustCompile(`(^|[\s"'(=])(/[^\s"':,()]+)`)

// scrub takes server paths out of an error message: paths in the project
// folder become relative, others keep only their last element.
func (t *Tracker) scrub(msg string) string {
	return absPath.ReplaceAllStringFunc(msg, func(m string) string {
		sub := absPath.FindStringSubmatch(m)
		lead, path := sub[1], sub[2]
		if rel, err := filepath.Rel(t.dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return lead + filepath.ToSlash(rel)
		}
		return lead + filepath.Base(path)
	})
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
