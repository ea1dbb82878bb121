package testset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
)

// Decision is a person's verdict on one item: accept, reject, or edit
// (which accepts the edited item and keeps the generated one).
type Decision struct {
	ID     string
	Status string // evaluate.ReviewAccepted | ReviewRejected | ReviewProposed (undo)
	// Question and Answers, when set, replace the item's (an edit).
	Question string
	Answers  []string
	Note     string
	By       string
	At       time.Time
}

// ErrNoItem means the file holds no item with the decision's ID.
var ErrNoItem = errors.New("no item with that id")

// ErrBadDecision means a decision cannot be applied as given.
var ErrBadDecision = errors.New("bad review decision")

// Reviewer applies decisions to QA files, one file write at a time per
// reviewer. A file is rewritten atomically (a temporary file renamed over
// it, keeping its permissions), so a crash leaves the old file or the new
// one, never half of each; lines no decision touches are kept byte for
// byte, and a decided line keeps the fields ragtune does not know.
type Reviewer struct{ mu sync.Mutex }

// Apply records d in the file at path and returns the updated item.
func (r *Reviewer) Apply(path string, d Decision) (evaluate.QAItem, error) {
	items, err := r.ApplyAll(path, []Decision{d})
	if err != nil {
		return evaluate.QAItem{}, err
	}
	return items[0], nil
}

// ApplyAll records every decision in one write: all or none, so an
// unknown ID in the list changes nothing.
func (r *Reviewer) ApplyAll(path string, ds []Decision) ([]evaluate.QAItem, error) {
	if strings.HasSuffix(path, ".gz") {
		return nil, fmt.Errorf("%w: the set is compressed; review works on a plain .jsonl file", ErrBadDecision)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	real, err := filepath.EvalSymlinks(path) // one lock per file, however it is named
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	unlock, err := lockFile(real)
	if err != nil {
		return nil, err
	}
	defer unlock()
	lines, err := readLines(real)
	if err != nil {
		return nil, err
	}
	out := make([]evaluate.QAItem, 0, len(ds))
	for _, d := range ds {
		it, err := lines.decide(d)
		if err != nil {
			return nil, err // no path: the server passes it on to clients
		}
		out = append(out, it)
	}
	if err := writeBytes(real, lines.bytes()); err != nil {
		return nil, err
	}
	return out, nil
}

// lockFile holds path's lock file (path + ".lock", made exclusively) so
// that processes deciding on one set — `eval review` beside `serve` —
// take turns instead of overwriting each other's decisions. A lock left
// by a process that died is taken over once it is staleLock old.
func lockFile(path string) (func(), error) {
	lock := path + ".lock"
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(lock) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if fi, err := os.Stat(lock); err == nil && time.Since(fi.ModTime()) > staleLock {
			os.Remove(lock)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s is being reviewed by another process (remove %s if none is)", ErrBusy, path, lock)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Lock timings: how long a decision waits for another, and when a lock
// is taken to be left behind (a decision takes milliseconds).
const (
	lockWait  = 5 * time.Second
	staleLock = 30 * time.Second
)

// ErrBusy means another process held the set's lock for too long.
var ErrBusy = errors.New("test set busy")

// qaLines is a QA file as its lines, each with its item where it holds one.
type qaLines struct {
	raw   [][]byte
	items map[string]int // item ID → line index
}

func readLines(path string) (*qaLines, error) {
	items, err := evaluate.LoadQA(path) // checks every line, names the bad ones
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	l := &qaLines{raw: bytes.SplitAfter(data, []byte("\n")), items: map[string]int{}}
	n := 0
	for i, line := range l.raw {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if n >= len(items) {
			break
		}
		l.items[items[n].ID] = i
		n++
	}
	return l, nil
}

// decide applies d to its item's line.
func (l *qaLines) decide(d Decision) (evaluate.QAItem, error) {
	i, ok := l.items[d.ID]
	if !ok {
		return evaluate.QAItem{}, fmt.Errorf("%w %q", ErrNoItem, d.ID)
	}
	var it evaluate.QAItem
	if err := json.Unmarshal(l.raw[i], &it); err != nil {
		return it, fmt.Errorf("item %s: %w", d.ID, err)
	}
	it.ID = d.ID // an ID given by line number
	it, err := decide(it, d)
	if err != nil {
		return it, err
	}
	line, err := patchLine(l.raw[i], it)
	if err != nil {
		return it, fmt.Errorf("item %s: %w", d.ID, err)
	}
	l.raw[i] = line
	return it, nil
}

// patchLine replaces the fields a decision may change and keeps the rest.
func patchLine(raw []byte, it evaluate.QAItem) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	set := func(k string, v any) error {
		b, err := marshal(v)
		fields[k] = b
		return err
	}
	for k, v := range map[string]any{"id": it.ID, "question": it.Question, "answers": it.Answers, "review": it.Review} {
		if err := set(k, v); err != nil {
			return nil, err
		}
	}
	if it.Answerable != nil {
		set("answerable", it.Answerable)
		set("kind", it.Kind)
		set("gold_doc_ids", it.GoldDocIDs)
	}
	b, err := marshal(fields)
	return append(b, '\n'), err
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimRight(buf.Bytes(), "\n"), err
}

func (l *qaLines) bytes() []byte { return bytes.Join(l.raw, nil) }

func decide(it evaluate.QAItem, d Decision) (evaluate.QAItem, error) {
	if !evaluate.ValidReviewStatus(d.Status) {
		return it, fmt.Errorf("%w: status %q (want accepted, rejected or proposed)", ErrBadDecision, d.Status)
	}
	edited := d.Question != "" || d.Answers != nil
	if edited && d.Status != evaluate.ReviewAccepted {
		return it, fmt.Errorf("%w: an edit accepts the item; status %q", ErrBadDecision, d.Status)
	}
	if d.Answers != nil {
		if len(d.Answers) == 0 {
			return it, fmt.Errorf("%w: an edit gives at least one answer", ErrBadDecision)
		}
		for _, a := range d.Answers {
			if strings.TrimSpace(a) == "" {
				return it, fmt.Errorf("%w: a blank answer", ErrBadDecision)
			}
		}
	}
	rev := &evaluate.Review{Status: d.Status, Note: d.Note, By: d.By}
	if !d.At.IsZero() {
		rev.At = d.At.UTC().Format(time.RFC3339)
	}
	if it.Review != nil {
		rev.Original = it.Review.Original
	}
	if edited {
		if rev.Original == nil {
			orig := it
			orig.Review = nil
			rev.Original = &orig
		}
		if q := strings.TrimSpace(d.Question); q != "" {
			it.Question = q
		}
		if d.Answers != nil {
			it.Answers = d.Answers
			if !it.ShouldAnswer() {
				// An unanswerable item given answers: now answerable, from its source.
				yes := true
				it.Answerable, it.Kind = &yes, evaluate.KindAnswerable
				if it.Provenance != nil && it.Provenance.Doc != "" {
					it.GoldDocIDs = []string{it.Provenance.Doc}
				}
			}
		}
	}
	it.Review = rev
	return it, nil
}

// writeBytes replaces path with data, atomically (evaluate.WriteFile).
func writeBytes(path string, data []byte) error {
	return evaluate.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFile writes items as QA JSONL, atomically.
func WriteFile(path string, items []evaluate.QAItem) error {
	var buf bytes.Buffer
	for _, it := range items {
		b, err := marshal(it)
		if err != nil {
			return fmt.Errorf("encoding item %s: %w", it.ID, err)
		}
		buf.Write(append(b, '\n'))
	}
	return writeBytes(path, buf.Bytes())
}

// Summary counts a file's items by review state and kind.
type Summary struct {
	Items    int            `json:"items"`
	ByStatus map[string]int `json:"by_status"`
	ByKind   map[string]int `json:"by_kind"`
}

// Summarize counts items by review state and kind.
func Summarize(items []evaluate.QAItem) Summary {
	s := Summary{Items: len(items), ByStatus: map[string]int{}, ByKind: map[string]int{}}
	for _, it := range items {
		s.ByStatus[it.ReviewStatus()]++
		k := it.Kind
		if k == "" {
			k = "unlabelled"
		}
		s.ByKind[k]++
	}
	return s
}
