package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/testset"
)

// Review of generated test sets. The QA files (*.jsonl) in a collection's
// test-set directory are listed at GET /v1/testsets; GET
// /v1/testsets/{name} pages through one's items, each beside the
// passages it was written from; POST
// /v1/testsets/{name}/items/{id}/review records a decision (accept,
// reject, edit, or back to proposed) in the file, as `ragtune eval
// review` does. {name} is a plain file name in that directory, never a
// path.

// testSetName is the shape of a test set's name: a file name, no path.
var testSetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.jsonl$`)

// Bounds of the review API.
const (
	maxTestSets      = 1000 // files listed
	defaultItemPage  = 50
	maxItemPage      = 200
	maxNoteBytes     = 4 << 10
	maxAnswers       = 50
	maxItemTextBytes = maxQueryBytes // a question or one answer
)

// errNoTestSet means the name is no QA file in the test-set directory.
var errNoTestSet = errors.New("no such test set")

// errBadTestSetName means the name is not a plain file name.
var errBadTestSetName = errors.New("a test set is named by a plain file name (letters, digits, . _ -) ending in .jsonl")

// testSetInfo is one file of GET /v1/testsets.
type testSetInfo struct {
	Name string `json:"name"`
	testset.Summary
	Modified time.Time `json:"modified"`
	Error    string    `json:"error,omitempty"` // the file is not a QA file
}

// reviewItem is an item with its review state and source passages.
type reviewItem struct {
	Status   string                  `json:"status"`
	Item     evaluate.QAItem         `json:"item"`
	Passages []testset.SourcePassage `json:"passages"`
}

// reviewed is the item with its review state and source passages.
func reviewed(ctx context.Context, src *testset.Sources, it evaluate.QAItem) reviewItem {
	return reviewItem{Status: it.ReviewStatus(), Item: it, Passages: src.Of(ctx, it)}
}

// itemPage is the answer of GET /v1/testsets/{name}: a page of the items
// in the review state asked for; Total counts them all, Next is the
// offset of the next page (absent on the last).
type itemPage struct {
	Name    string          `json:"name"`
	Summary testset.Summary `json:"summary"`
	Status  string          `json:"status"`
	Total   int             `json:"total"`
	Offset  int             `json:"offset"`
	Limit   int             `json:"limit"`
	Next    *int            `json:"next_offset,omitempty"`
	Items   []reviewItem    `json:"items"`
}

// reviewRequest is the body of POST /v1/testsets/{name}/items/{id}/review.
type reviewRequest struct {
	Status   string   `json:"status"`
	Question *string  `json:"question"`
	Answers  []string `json:"answers"`
	Note     string   `json:"note"`
}

// testSetDir is the collection's test-set directory with its symbolic
// links resolved; errNoTestSet when it does not exist.
func testSetDir(b *Backend) (string, error) {
	dir, err := filepath.EvalSymlinks(b.Collection.TestSetDir())
	if errors.Is(err, fs.ErrNotExist) {
		return "", errNoTestSet
	}
	if err != nil {
		return "", fmt.Errorf("test-set directory: %w", err)
	}
	return filepath.Abs(dir)
}

// testSetPath resolves a test set's name to its file, which must be a
// regular file inside the directory once links are followed.
func testSetPath(dir, name string) (string, error) {
	if !testSetName.MatchString(name) || strings.Contains(name, "..") {
		return "", errBadTestSetName
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", errNoTestSet
	}
	if err != nil {
		return "", fmt.Errorf("test set %s: %w", name, err)
	}
	rel, err := filepath.Rel(dir, resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", errNoTestSet // a link out of the directory
	}
	if st, err := os.Stat(resolved); err != nil || !st.Mode().IsRegular() {
		return "", errNoTestSet
	}
	return resolved, nil
}

// fileFailure answers a failure to read or write the test sets with
// 500. The error goes to the log; the answer shows it with the paths of
// files in dir cut to their names, or, with dir "", not at all.
func (s *Server) fileFailure(w http.ResponseWriter, err error, dir string) {
	s.opts.Log.Error("test sets", "err", err)
	msg := "the test sets could not be read or written (the server log has why)"
	if dir != "" {
		msg = strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	}
	writeError(w, http.StatusInternalServerError, msg)
}

// resolveTestSet finds the request's test set, answering the request
// itself when it cannot.
func (s *Server) resolveTestSet(w http.ResponseWriter, r *http.Request, b *Backend) (string, bool) {
	name := r.PathValue("name")
	dir, err := testSetDir(b)
	if err == nil {
		var path string
		if path, err = testSetPath(dir, name); err == nil {
			return path, true
		}
	}
	switch {
	case errors.Is(err, errBadTestSetName):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, errNoTestSet):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no test set %q", name))
	default:
		s.fileFailure(w, err, "")
	}
	return "", false
}

// testSets lists the QA files of the collection's test-set directory
// with their items counted by review state and kind.
func (s *Server) testSets(w http.ResponseWriter, r *http.Request) {
	list := []testSetInfo{}
	dir, err := testSetDir(backendOf(r.Context()))
	switch {
	case errors.Is(err, errNoTestSet):
		writeJSON(w, http.StatusOK, map[string]any{"testsets": list})
		return
	case err != nil:
		s.fileFailure(w, err, "")
		return
	}
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		s.fileFailure(w, fmt.Errorf("listing test sets: %w", err), "")
		return
	}
	for _, e := range entries {
		if len(list) == maxTestSets {
			break
		}
		if info, ok := describeTestSet(dir, e.Name()); ok {
			list = append(list, info)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"testsets": list})
}

// describeTestSet summarises one file; false for what is not a test set.
func describeTestSet(dir, name string) (testSetInfo, bool) {
	path, err := testSetPath(dir, name)
	if err != nil {
		return testSetInfo{}, false
	}
	info := testSetInfo{Name: name, Summary: testset.Summary{ByStatus: map[string]int{}, ByKind: map[string]int{}}}
	if st, err := os.Stat(path); err == nil {
		info.Modified = st.ModTime().UTC()
	}
	items, err := evaluate.LoadQA(path)
	if err != nil {
		info.Error = strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
		return info, true
	}
	info.Summary = testset.Summarize(items)
	return info, true
}

// testSetItems pages through a test set's items, each beside its source
// passages: ?status=proposed|accepted|rejected|all, ?limit= (50 by
// default, at most 200), ?offset=.
func (s *Server) testSetItems(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	status, limit, offset, err := itemQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	path, ok := s.resolveTestSet(w, r, b)
	if !ok {
		return
	}
	name := r.PathValue("name")
	items, err := evaluate.LoadQA(path)
	if err != nil {
		s.fileFailure(w, err, filepath.Dir(path))
		return
	}
	var shown []evaluate.QAItem
	for _, it := range items {
		if status == "all" || it.ReviewStatus() == status {
			shown = append(shown, it)
		}
	}
	page := shown[min(offset, len(shown)):min(offset+limit, len(shown))]
	src := testset.NewSources(b.Collection)
	out := make([]reviewItem, 0, len(page))
	for _, it := range page {
		out = append(out, reviewed(r.Context(), src, it))
	}
	resp := itemPage{Name: name, Summary: testset.Summarize(items), Status: status,
		Total: len(shown), Offset: offset, Limit: limit, Items: out}
	if offset+limit < len(shown) {
		next := offset + limit
		resp.Next = &next
	}
	writeJSON(w, http.StatusOK, resp)
}

// itemQuery reads the status filter and the page of GET /v1/testsets/{name}.
func itemQuery(r *http.Request) (status string, limit, offset int, err error) {
	q := r.URL.Query()
	status, limit = q.Get("status"), defaultItemPage
	if status == "" {
		status = "all"
	}
	if status != "all" && !evaluate.ValidReviewStatus(status) {
		return "", 0, 0, fmt.Errorf("status is proposed, accepted, rejected or all, not %q", status)
	}
	for name, v := range map[string]*int{"limit": &limit, "offset": &offset} {
		if raw := q.Get(name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				return "", 0, 0, fmt.Errorf("%s must be a whole number, not %q", name, raw)
			}
			*v = n
		}
	}
	if limit == 0 || limit > maxItemPage {
		return "", 0, 0, fmt.Errorf("limit must be 1 to %d", maxItemPage)
	}
	return status, limit, offset, nil
}

// check validates the request, returning the status to refuse it with.
func (q reviewRequest) check() (int, error) {
	switch {
	case q.Question != nil && strings.TrimSpace(*q.Question) == "":
		return http.StatusBadRequest, errors.New("the question is blank; leave it out to keep the item's")
	case q.Question != nil && len(*q.Question) > maxItemTextBytes:
		return http.StatusRequestEntityTooLarge, fmt.Errorf("the question is %d bytes; the limit is %d", len(*q.Question), maxItemTextBytes)
	case q.Answers != nil && len(q.Answers) == 0:
		return http.StatusBadRequest, errors.New("answers is empty; give at least one answer or leave it out")
	case len(q.Answers) > maxAnswers:
		return http.StatusBadRequest, fmt.Errorf("%d answers; the limit is %d", len(q.Answers), maxAnswers)
	case len(q.Note) > maxNoteBytes:
		return http.StatusRequestEntityTooLarge, fmt.Errorf("the note is %d bytes; the limit is %d", len(q.Note), maxNoteBytes)
	}
	for _, a := range q.Answers {
		switch {
		case strings.TrimSpace(a) == "":
			return http.StatusBadRequest, errors.New("an answer is blank")
		case len(a) > maxItemTextBytes:
			return http.StatusRequestEntityTooLarge, fmt.Errorf("an answer is %d bytes; the limit is %d", len(a), maxItemTextBytes)
		}
	}
	return 0, nil
}

// decision is the request as a reviewer's decision on item id.
func (q reviewRequest) decision(id, by string) testset.Decision {
	d := testset.Decision{ID: id, Status: q.Status, Note: strings.TrimSpace(q.Note), By: by, At: time.Now()}
	if q.Question != nil {
		d.Question = strings.TrimSpace(*q.Question)
	}
	for _, a := range q.Answers {
		d.Answers = append(d.Answers, strings.TrimSpace(a))
	}
	return d
}

// reviewerFor is the reviewer of a collection's test-set directory:
// collections that share a directory share its reviewer, so that no
// decision overwrites another.
func reviewerFor(byDir map[string]*testset.Reviewer, c Collection) *testset.Reviewer {
	dir := ""
	if c != nil {
		dir = filepath.Clean(c.TestSetDir())
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real // two names of one folder share one reviewer
		}
	}
	if byDir[dir] == nil {
		byDir[dir] = &testset.Reviewer{}
	}
	return byDir[dir]
}

// reviewTestSetItem records a decision on one item of a test set and
// answers with the item as it now stands.
func (s *Server) reviewTestSetItem(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	var q reviewRequest
	if !decode(w, r, &q) {
		return
	}
	if code, err := q.check(); err != nil {
		writeError(w, code, err.Error())
		return
	}
	path, ok := s.resolveTestSet(w, r, b)
	if !ok {
		return
	}
	name, id := r.PathValue("name"), r.PathValue("id")
	it, err := b.reviewer.Apply(path, q.decision(id, infoOf(r.Context()).keyName))
	switch {
	case errors.Is(err, testset.ErrNoItem):
		writeError(w, http.StatusNotFound, fmt.Sprintf("test set %q has no item %q", name, id))
	case errors.Is(err, testset.ErrBadDecision):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.fileFailure(w, err, filepath.Dir(path))
	default:
		s.opts.Log.Info("test set item reviewed", "testset", name, "item", id, "status", it.ReviewStatus(), "key", infoOf(r.Context()).keyName)
		writeJSON(w, http.StatusOK, reviewed(r.Context(), testset.NewSources(b.Collection), it))
	}
}
