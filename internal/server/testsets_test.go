package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/testset"
)

const keysText = "Signing keys rotate every ninety days. To rotate a key by hand, run the rotate command."

// generatedSet is a small generated test set over the fixture's
// documents: two proposals from ops/keys.md, one from a chunk no longer
// in the store, and a hand-written item.
func generatedSet() []evaluate.QAItem {
	keys := corpus.ChunkID("ops/keys.md", 0, keysText)
	gen := func(id, q, a, quote string, chunks ...string) evaluate.QAItem {
		return evaluate.QAItem{ID: id, Question: q, Answers: []string{a}, GoldDocIDs: []string{"ops/keys.md"}, Kind: evaluate.KindAnswerable,
			Provenance: &evaluate.Provenance{Doc: "ops/keys.md", ChunkIDs: chunks, Quote: quote, Generator: "offline/1", Method: "cloze", Seed: 1},
			Review:     &evaluate.Review{Status: evaluate.ReviewProposed}}
	}
	return []evaluate.QAItem{
		gen("gen-1", "How often do signing keys rotate?", "every ninety days", "signing keys  rotate every ninety days.", keys),
		gen("gen-2", "How is a key rotated by hand?", "run the rotate command", "To rotate a key by hand, run the rotate command.", keys),
		gen("gen-3", "What was re-ingested?", "nothing", "A passage that is gone.", "gone-chunk"),
		{ID: "hand-1", Question: "When do backups run?", Answers: []string{"every night"}},
	}
}

// writeSet writes items as a test set of the fixture's project.
func writeSet(t *testing.T, f *fixture, name string, items []evaluate.QAItem) string {
	t.Helper()
	path := filepath.Join(f.p.TestSetDir(), name)
	if err := testset.WriteFile(path, items); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTestSetList(t *testing.T) {
	f := newFixture(t, Options{})
	if res, body := f.do(t, "GET", "/v1/testsets", f.read, ""); res.StatusCode != 200 || strings.TrimSpace(body) != `{"testsets":[]}` {
		t.Fatalf("no directory: %d %s", res.StatusCode, body)
	}
	writeSet(t, f, "generated.jsonl", generatedSet())
	dir := f.p.TestSetDir()
	outside := filepath.Join(t.TempDir(), "outside.jsonl")
	os.WriteFile(outside, []byte(`{"id":"x","question":"secret?"}`+"\n"), 0o644)
	for name, text := range map[string]string{"broken.jsonl": "{not json\n", "notes.txt": "ignored", ".generated.jsonl.123": "a temporary file"} {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	os.Symlink(outside, filepath.Join(dir, "escape.jsonl"))
	os.Symlink("generated.jsonl", filepath.Join(dir, "alias.jsonl"))
	os.Mkdir(filepath.Join(dir, "folder.jsonl"), 0o755)

	res, body := f.do(t, "GET", "/v1/testsets", f.read, "")
	var got struct{ Testsets []testSetInfo }
	if err := json.Unmarshal([]byte(body), &got); res.StatusCode != 200 || err != nil {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var names []string
	for _, ts := range got.Testsets {
		names = append(names, ts.Name)
	}
	if strings.Join(names, ",") != "alias.jsonl,broken.jsonl,generated.jsonl" {
		t.Fatalf("listed %v; want the QA files inside the directory only", names)
	}
	gen, broken := got.Testsets[2], got.Testsets[1]
	if gen.Items != 4 || gen.ByStatus["proposed"] != 3 || gen.ByStatus["accepted"] != 1 || gen.ByKind["answerable"] != 3 || gen.Modified.IsZero() || gen.Error != "" {
		t.Errorf("generated.jsonl: %+v", gen)
	}
	if broken.Error == "" || strings.Contains(broken.Error, dir) {
		t.Errorf("broken.jsonl: error %q; want one that names the file, not its path", broken.Error)
	}
	if res, body := f.do(t, "GET", "/v1/testsets/broken.jsonl", f.read, ""); res.StatusCode != 500 || !strings.Contains(body, "broken.jsonl") || strings.Contains(body, dir) {
		t.Errorf("reading broken.jsonl: %d %s; want 500 naming the file, not its path", res.StatusCode, body)
	}
}

func TestTestSetItems(t *testing.T) {
	f := newFixture(t, Options{})
	writeSet(t, f, "generated.jsonl", generatedSet())
	tests := []struct {
		name, query, key string
		code             int
		ids              string // the items of the page
		total            int
		next             int // -1: none
	}{
		{"all", "", f.read, 200, "gen-1,gen-2,gen-3,hand-1", 4, -1},
		{"proposed", "?status=proposed", f.read, 200, "gen-1,gen-2,gen-3", 3, -1},
		{"accepted", "?status=accepted", f.read, 200, "hand-1", 1, -1},
		{"rejected", "?status=rejected", f.read, 200, "", 0, -1},
		{"first page", "?limit=2", f.read, 200, "gen-1,gen-2", 4, 2},
		{"last page", "?limit=2&offset=2", f.read, 200, "gen-3,hand-1", 4, -1},
		{"past the end", "?offset=10", f.read, 200, "", 4, -1},
		{"bad status", "?status=maybe", f.read, 400, "", 0, 0},
		{"limit 0", "?limit=0", f.read, 400, "", 0, 0},
		{"limit too big", "?limit=201", f.read, 400, "", 0, 0},
		{"negative offset", "?offset=-1", f.read, 400, "", 0, 0},
		{"no key", "", "", 401, "", 0, 0},
	}
	for _, tc := range tests {
		res, body := f.do(t, "GET", "/v1/testsets/generated.jsonl"+tc.query, tc.key, "")
		if res.StatusCode != tc.code {
			t.Errorf("%s: %d %s; want %d", tc.name, res.StatusCode, body, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var page itemPage
		json.Unmarshal([]byte(body), &page)
		var ids []string
		for _, it := range page.Items {
			ids = append(ids, it.Item.ID)
		}
		next := -1
		if page.Next != nil {
			next = *page.Next
		}
		if strings.Join(ids, ",") != tc.ids || page.Total != tc.total || next != tc.next || page.Summary.Items != 4 {
			t.Errorf("%s: items %v, total %d, next %d, summary %+v; want %s, %d, %d", tc.name, ids, page.Total, next, page.Summary, tc.ids, tc.total, tc.next)
		}
	}
}

func TestTestSetItemsCarryTheirPassages(t *testing.T) {
	f := newFixture(t, Options{})
	writeSet(t, f, "generated.jsonl", generatedSet())
	_, body := f.do(t, "GET", "/v1/testsets/generated.jsonl", f.read, "")
	var page itemPage
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	byID := map[string]reviewItem{}
	for _, it := range page.Items {
		byID[it.Item.ID] = it
	}
	for id, want := range map[string]string{"gen-1": "Signing keys rotate every ninety days.", "gen-2": "To rotate a key by hand, run the rotate command."} {
		ps := byID[id].Passages
		if len(ps) != 1 || ps[0].Text != keysText || ps[0].Doc != "ops/keys.md" || ps[0].LineStart != 1 || len(ps[0].Quote) != 1 {
			t.Fatalf("%s: passages %+v", id, ps)
		}
		if q := ps[0].Quote[0]; keysText[q.Start:q.End] != want {
			t.Errorf("%s: the quote range covers %q, want %q", id, keysText[q.Start:q.End], want)
		}
	}
	if ps := byID["gen-3"].Passages; len(ps) != 1 || ps[0].Error == "" || ps[0].Text != "" {
		t.Errorf("a gone chunk: %+v; want its error and no text", ps)
	}
	if it := byID["hand-1"]; it.Status != "accepted" || it.Passages == nil || len(it.Passages) != 0 {
		t.Errorf("a hand-written item: %+v; want accepted with no passages", it)
	}
}

func TestReviewOverHTTP(t *testing.T) {
	f := newFixture(t, Options{MaxBody: 8 << 10})
	path := writeSet(t, f, "generated.jsonl", generatedSet())
	post := func(name, id string) string { return "/v1/testsets/" + name + "/items/" + id + "/review" }
	tests := []struct {
		name, path, key, body string
		code                  int
		contains              string
	}{
		{"accept", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted"}`, 200, `"status":"accepted","by":"admin"`},
		{"reject with a note", post("generated.jsonl", "gen-3"), f.write, `{"status":"rejected","note":"the passage is gone"}`, 200, `"note":"the passage is gone"`},
		{"edit", post("generated.jsonl", "gen-2"), f.write, `{"status":"accepted","question":"How do you rotate a key by hand?","answers":["the rotate command"]}`, 200, `"original":{"id":"gen-2","question":"How is a key rotated by hand?"`},
		{"back to proposed", post("generated.jsonl", "gen-1"), f.write, `{"status":"proposed"}`, 200, `"status":"proposed"`},
		{"read key", post("generated.jsonl", "gen-1"), f.read, `{"status":"accepted"}`, 403, `lacks the \"write\" scope`},
		{"no status", post("generated.jsonl", "gen-1"), f.write, `{}`, 400, `status \"\"`},
		{"bad status", post("generated.jsonl", "gen-1"), f.write, `{"status":"maybe"}`, 400, `status \"maybe\"`},
		{"an edit that rejects", post("generated.jsonl", "gen-1"), f.write, `{"status":"rejected","question":"Why?"}`, 400, "an edit accepts"},
		{"blank question", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted","question":"  "}`, 400, "blank"},
		{"no answers", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted","answers":[]}`, 400, "answers is empty"},
		{"blank answer", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted","answers":["ok"," "]}`, 400, "blank"},
		{"unknown field", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted","verdict":"yes"}`, 400, "unknown field"},
		{"two values", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted"}{}`, 400, "more than one"},
		{"long note", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted","note":"` + strings.Repeat("n", 5000) + `"}`, 413, "the note is 5000 bytes"},
		{"oversize body", post("generated.jsonl", "gen-1"), f.write, `{"status":"accepted","note":"` + strings.Repeat("n", 9000) + `"}`, 413, "over 8192 bytes"},
		{"unknown item", post("generated.jsonl", "gen-9"), f.write, `{"status":"accepted"}`, 404, `no item \"gen-9\"`},
		{"unknown set", post("other.jsonl", "gen-1"), f.write, `{"status":"accepted"}`, 404, `no test set \"other.jsonl\"`},
		{"bad name", post("generated.txt", "gen-1"), f.write, `{"status":"accepted"}`, 400, "plain file name"},
	}
	for _, tc := range tests {
		before := readFile(t, path)
		res, body := f.do(t, "POST", tc.path, tc.key, tc.body)
		if res.StatusCode != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d with %q", tc.name, res.StatusCode, body, tc.code, tc.contains)
		}
		if after := readFile(t, path); tc.code != 200 && !bytes.Equal(before, after) {
			t.Errorf("%s: refused with %d but the file changed", tc.name, tc.code)
		}
		if strings.Contains(body, f.dir) {
			t.Errorf("%s: the answer shows the server's path: %s", tc.name, body)
		}
	}
	items, err := evaluate.LoadQA(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range items {
		got[it.ID] = it.ReviewStatus()
	}
	if fmt.Sprint(got) != "map[gen-1:proposed gen-2:accepted gen-3:rejected hand-1:accepted]" {
		t.Errorf("the file holds %v", got)
	}
	if edited := items[1]; edited.Question != "How do you rotate a key by hand?" || edited.Answers[0] != "the rotate command" {
		t.Errorf("the edit: %+v", edited)
	}
	if n := len(evaluate.SelectReviewed(items, true)); n != 2 {
		t.Errorf("eval run --accepted-only would use %d items, want 2", n)
	}
}

// TestTestSetNamesStayInTheDirectory tries to read and write files
// outside the test-set directory by name: every try is refused, and the
// files outside are neither shown nor changed.
func TestTestSetNamesStayInTheDirectory(t *testing.T) {
	f := newFixture(t, Options{})
	writeSet(t, f, "generated.jsonl", generatedSet())
	dir := f.p.TestSetDir()
	secret := []evaluate.QAItem{{ID: "gen-1", Question: "TOPSECRET question?", Answers: []string{"x"}, Provenance: &evaluate.Provenance{Doc: "ops/keys.md"}}}
	inProject := filepath.Join(f.dir, "secret.jsonl")
	outside := filepath.Join(t.TempDir(), "secret.jsonl")
	for _, p := range []string{inProject, outside} {
		if err := testset.WriteFile(p, secret); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(outside, filepath.Join(dir, "link.jsonl"))
	os.Symlink("../secret.jsonl", filepath.Join(dir, "rel.jsonl"))
	os.Symlink(filepath.Dir(outside), filepath.Join(dir, "sub"))
	before := [][]byte{readFile(t, inProject), readFile(t, outside)}
	names := []string{
		"..%2Fsecret.jsonl", "%2E%2E%2Fsecret.jsonl", "..%5Csecret.jsonl", "sub%2Fsecret.jsonl",
		escapeSlashes(outside), "%2F%2F" + escapeSlashes(strings.TrimPrefix(outside, "/")), "link.jsonl", "rel.jsonl",
		"secret.jsonl", "..", "%2E%2E", ".jsonl", "..jsonl", "generated.jsonl%00.jsonl", strings.Repeat("a", 130) + ".jsonl",
	}
	for _, name := range names {
		for _, req := range []struct{ method, path, key, body string }{
			{"GET", "/v1/testsets/" + name, f.read, ""},
			{"POST", "/v1/testsets/" + name + "/items/gen-1/review", f.write, `{"status":"rejected"}`},
		} {
			res, body := f.do(t, req.method, req.path, req.key, req.body)
			if res.StatusCode != 400 && res.StatusCode != 404 && res.StatusCode != 405 {
				t.Errorf("%s %s: %d %s; want it refused", req.method, req.path, res.StatusCode, body)
			}
			if strings.Contains(body, "TOPSECRET") {
				t.Errorf("%s %s read a file outside the directory: %s", req.method, req.path, body)
			}
		}
	}
	// Dot segments are cleaned by the router before any handler sees them.
	for _, p := range []string{"/v1/testsets/../secret.jsonl", "/v1/testsets/x/../../secret.jsonl"} {
		if _, body := f.do(t, "GET", p, f.read, ""); strings.Contains(body, "TOPSECRET") {
			t.Errorf("GET %s read a file outside the directory", p)
		}
	}
	if after := [][]byte{readFile(t, inProject), readFile(t, outside)}; !bytes.Equal(before[0], after[0]) || !bytes.Equal(before[1], after[1]) {
		t.Error("a file outside the test-set directory changed")
	}
}

// escapeSlashes escapes every slash of a path, as a client naming a path would.
func escapeSlashes(p string) string { return strings.ReplaceAll(p, "/", "%2F") }

// TestConcurrentReviewsAllLand posts decisions on every item of one file
// at once; each is in the file afterwards.
func TestConcurrentReviewsAllLand(t *testing.T) {
	f := newFixture(t, Options{})
	var items []evaluate.QAItem
	for i := range 24 {
		items = append(items, evaluate.QAItem{ID: fmt.Sprintf("gen-%d", i), Question: fmt.Sprintf("Question %d?", i), Answers: []string{"a"},
			Provenance: &evaluate.Provenance{Doc: "ops/keys.md"}})
	}
	path := writeSet(t, f, "many.jsonl", items)
	var wg sync.WaitGroup
	errs := make(chan string, len(items))
	for i := range items {
		wg.Go(func() {
			status := []string{"accepted", "rejected"}[i%2]
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/testsets/many.jsonl/items/gen-%d/review", f.url, i), strings.NewReader(`{"status":"`+status+`"}`))
			req.Header.Set("Authorization", "Bearer "+f.write)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				errs <- fmt.Sprintf("gen-%d: %d", i, res.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	got, err := evaluate.LoadQA(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range got {
		if want := []string{"accepted", "rejected"}[i%2]; it.ReviewStatus() != want {
			t.Errorf("%s is %s, want %s: a decision was lost", it.ID, it.ReviewStatus(), want)
		}
	}
}

// TestTestSetsPerCollection: each collection reviews its own project's
// test sets; ?collection= picks one as for every other endpoint.
func TestTestSetsPerCollection(t *testing.T) {
	a, b := newFixture(t, Options{}), newFixture(t, Options{})
	writeSet(t, a, "eng.jsonl", generatedSet())
	writeSet(t, b, "hr.jsonl", generatedSet())
	ts := httptest.NewServer(NewMulti(map[string]Backend{"eng": a.backend(), "hr": b.backend()}, "eng", Options{}).Handler())
	defer ts.Close()
	f := &fixture{url: ts.URL}
	for _, tc := range []struct {
		method, path, key string
		code              int
		contains          string
	}{
		{"GET", "/v1/testsets", a.read, 200, `"name":"eng.jsonl"`},
		{"GET", "/v1/testsets", b.read, 200, `"name":"hr.jsonl"`},
		{"GET", "/v1/testsets/hr.jsonl", a.read, 404, `no test set \"hr.jsonl\"`},
		{"GET", "/v1/testsets/hr.jsonl?collection=hr", a.read, 403, "does not open"},
		{"POST", "/v1/testsets/hr.jsonl/items/gen-1/review?collection=hr", b.write, 200, `"status":"accepted"`},
	} {
		res, body := f.do(t, tc.method, tc.path, tc.key, `{"status":"accepted"}`)
		if res.StatusCode != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s %s: %d %s; want %d with %q", tc.method, tc.path, res.StatusCode, body, tc.code, tc.contains)
		}
	}
}
