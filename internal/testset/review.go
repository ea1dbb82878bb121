package testset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// Reviewer applies decisions to QA files, one at a time per reviewer, and
// rewrites each file atomically (a temporary file renamed over it), so a
// crash leaves the old file or the new one, never half of each.
type Reviewer struct{ mu sync.Mutex }

// Apply records d in the file at path and returns the updated item.
func (r *Reviewer) Apply(path string, d Decision) (evaluate.QAItem, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	items, err := evaluate.LoadQA(path)
	if err != nil {
		return evaluate.QAItem{}, err
	}
	i := indexOf(items, d.ID)
	if i < 0 {
		return evaluate.QAItem{}, fmt.Errorf("%w %q in %s", ErrNoItem, d.ID, path)
	}
	it, err := decide(items[i], d)
	if err != nil {
		return evaluate.QAItem{}, err
	}
	items[i] = it
	if err := WriteFile(path, items); err != nil {
		return evaluate.QAItem{}, err
	}
	return it, nil
}

func indexOf(items []evaluate.QAItem, id string) int {
	for i, it := range items {
		if it.ID == id {
			return i
		}
	}
	return -1
}

func decide(it evaluate.QAItem, d Decision) (evaluate.QAItem, error) {
	switch d.Status {
	case evaluate.ReviewAccepted, evaluate.ReviewRejected, evaluate.ReviewProposed:
	default:
		return it, fmt.Errorf("%w: status %q (want accepted, rejected or proposed)", ErrBadDecision, d.Status)
	}
	edited := d.Question != "" || d.Answers != nil
	if edited && d.Status != evaluate.ReviewAccepted {
		return it, fmt.Errorf("%w: an edit accepts the item; status %q", ErrBadDecision, d.Status)
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
			if !it.ShouldAnswer() && len(d.Answers) > 0 {
				yes := true
				it.Answerable = &yes
			}
			it.Answers = d.Answers
		}
	}
	it.Review = rev
	return it, nil
}

// WriteFile writes items as QA JSONL, atomically.
func WriteFile(path string, items []evaluate.QAItem) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return fmt.Errorf("encoding item %s: %w", it.ID, err)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
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
