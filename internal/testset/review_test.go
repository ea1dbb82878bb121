package testset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
)

func TestReviewDecisions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.jsonl")
	no := false
	items := []evaluate.QAItem{
		{ID: "gen-1", Question: "What is abstention?", Answers: []string{"a decision"}, Provenance: &evaluate.Provenance{Doc: "a.md"}, Review: &evaluate.Review{Status: evaluate.ReviewProposed}},
		{ID: "gen-2", Question: "Who designed the logo?", Answers: []string{}, Answerable: &no, Provenance: &evaluate.Provenance{Doc: "a.md"}, Review: &evaluate.Review{Status: evaluate.ReviewProposed}},
		{ID: "gen-3", Question: "What is a chunk?", Answers: []string{"a slice"}, Provenance: &evaluate.Provenance{Doc: "b.md"}, Review: &evaluate.Review{Status: evaluate.ReviewProposed}},
		{ID: "hand-1", Question: "How often do keys rotate?", Answers: []string{"ninety days"}},
	}
	if err := WriteFile(path, items); err != nil {
		t.Fatal(err)
	}
	var r Reviewer
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	if _, err := r.Apply(path, Decision{ID: "gen-1", Status: evaluate.ReviewAccepted, By: "ana", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(path, Decision{ID: "gen-3", Status: evaluate.ReviewRejected, Note: "vague"}); err != nil {
		t.Fatal(err)
	}
	edited, err := r.Apply(path, Decision{ID: "gen-2", Status: evaluate.ReviewAccepted, Question: "Who designed the ragtune logo?", Answers: []string{"the team"}})
	if err != nil {
		t.Fatal(err)
	}
	if !edited.ShouldAnswer() || edited.Review.Original == nil || edited.Review.Original.Question != "Who designed the logo?" {
		t.Fatalf("edit: %+v", edited)
	}
	got, err := evaluate.LoadQA(path)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Review.Status != evaluate.ReviewAccepted || got[0].Review.By != "ana" || got[0].Review.At != "2026-12-06T10:00:00Z" {
		t.Fatalf("accept not saved: %+v", got[0].Review)
	}
	if got[2].ReviewStatus() != evaluate.ReviewRejected || got[2].Review.Note != "vague" {
		t.Fatalf("reject not saved: %+v", got[2].Review)
	}
	if s := Summarize(got); s.ByStatus[evaluate.ReviewAccepted] != 3 || s.ByStatus[evaluate.ReviewRejected] != 1 {
		t.Fatalf("summary %+v", s) // gen-1, gen-2 (edited) and the hand-written item count as accepted
	}
	if n := len(evaluate.SelectReviewed(got, false)); n != 3 {
		t.Fatalf("without --accepted-only: %d items, want 3 (rejected skipped)", n)
	}
	if _, err := r.Apply(path, Decision{ID: "gen-9", Status: evaluate.ReviewAccepted}); !errors.Is(err, ErrNoItem) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := r.Apply(path, Decision{ID: "gen-1", Status: "maybe"}); !errors.Is(err, ErrBadDecision) {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := r.Apply(path, Decision{ID: "gen-1", Status: evaluate.ReviewRejected, Question: "x"}); !errors.Is(err, ErrBadDecision) {
		t.Fatalf("an edit that rejects: %v", err)
	}
	// No temporary files are left beside the set.
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("left behind %s", e.Name())
		}
	}
}

func TestSelectReviewedAcceptedOnly(t *testing.T) {
	items := []evaluate.QAItem{
		{ID: "a", Review: &evaluate.Review{Status: evaluate.ReviewAccepted}},
		{ID: "p", Provenance: &evaluate.Provenance{}, Review: &evaluate.Review{Status: evaluate.ReviewProposed}},
		{ID: "r", Review: &evaluate.Review{Status: evaluate.ReviewRejected}},
		{ID: "h"},
	}
	got := evaluate.SelectReviewed(items, true)
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "h" {
		t.Fatalf("%+v", got)
	}
}

func TestReviewKeepsWhatItDoesNotTouch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "set.jsonl")
	orig := `{"id":"a","question":"What is abstention?","answers":["a decision"],"team_tag":"billing"}
{"question":"Hand-written, no id", "answers":["x"]}
{"id":"b","question":"Who owns it?","answers":[],"answerable":false,"kind":"swapped_entity","provenance":{"doc":"keys.md","chunk_ids":["c1"],"generator":"offline/2","seed":1}}
`
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	var r Reviewer
	if _, err := r.ApplyAll(path, []Decision{{ID: "a", Status: evaluate.ReviewAccepted}, {ID: "nope", Status: evaluate.ReviewAccepted}}); !errors.Is(err, ErrNoItem) {
		t.Fatalf("unknown id in a batch: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != orig {
		t.Fatalf("a failed batch changed the file:\n%s", got)
	}
	if _, err := r.Apply(path, Decision{ID: "b", Status: evaluate.ReviewAccepted, Answers: []string{""}}); !errors.Is(err, ErrBadDecision) {
		t.Fatalf("blank answer: %v", err)
	}
	items, err := r.ApplyAll(path, []Decision{{ID: "a", Status: evaluate.ReviewAccepted}, {ID: "b", Status: evaluate.ReviewAccepted, Answers: []string{"the platform team"}}})
	if err != nil {
		t.Fatal(err)
	}
	if b := items[1]; !b.ShouldAnswer() || b.Kind != evaluate.KindAnswerable || len(b.GoldDocIDs) != 1 || b.GoldDocIDs[0] != "keys.md" {
		t.Fatalf("an unanswerable item given an answer: %+v", b)
	}
	got, _ := os.ReadFile(path)
	lines := strings.Split(string(got), "\n")
	if !strings.Contains(lines[0], `"team_tag":"billing"`) || !strings.Contains(lines[0], `"status":"accepted"`) {
		t.Errorf("decided line lost a field or the decision: %s", lines[0])
	}
	if lines[1] != `{"question":"Hand-written, no id", "answers":["x"]}` {
		t.Errorf("an untouched line changed: %s", lines[1])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("permissions %v, want 0640 kept", fi.Mode().Perm())
	}
	if _, err := r.Apply(path+".gz", Decision{ID: "a", Status: evaluate.ReviewAccepted}); !errors.Is(err, ErrBadDecision) {
		t.Errorf("a compressed set: %v", err)
	}
}

// Two reviewers (as the CLI and the server are: separate processes,
// separate mutexes) deciding on one file at once lose no decision: the
// lock file makes them take turns.
func TestReviewersTakeTurns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.jsonl")
	var items []evaluate.QAItem
	for i := range 40 {
		items = append(items, evaluate.QAItem{ID: fmt.Sprintf("gen-%d", i), Question: "Question number " + fmt.Sprint(i) + "?", Answers: []string{"x"},
			Provenance: &evaluate.Provenance{Doc: "a.md"}, Review: &evaluate.Review{Status: evaluate.ReviewProposed}})
	}
	if err := WriteFile(path, items); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r Reviewer // its own mutex
			for i := w; i < 40; i += 2 {
				if _, err := r.Apply(path, Decision{ID: fmt.Sprintf("gen-%d", i), Status: evaluate.ReviewAccepted}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := evaluate.LoadQA(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summarize(got); s.ByStatus[evaluate.ReviewAccepted] != 40 {
		t.Fatalf("decisions kept: %v of 40", s.ByStatus)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock left behind: %v", err)
	}
}
