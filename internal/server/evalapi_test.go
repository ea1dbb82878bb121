package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

// evalTwice runs two real QA evaluations over the fixture's project: the
// second after a document about deploys was added, so the deploy
// question flips from declined to answered. It returns the run IDs.
func evalTwice(t *testing.T, f *fixture) (string, string) {
	t.Helper()
	items := []evaluate.QAItem{
		{ID: "keys", Question: "How often do signing keys rotate?", Answers: []string{"ninety days"}},
		{ID: "deploys", Question: "When are deploys frozen?", Answers: []string{"Fridays"}},
		{ID: "backups", Question: "How long are backups kept?", Answers: []string{"thirty days"}},
	}
	first, err := f.p.EvalQA(t.Context(), project.QAEval{Items: items, Path: "team-questions.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	text := "Deploys are frozen on Fridays after noon, so nobody is paged at the weekend."
	upsert(t, f.p, corpus.Document{Path: "ops/deploys.md", Title: "Deploys", Chunks: []corpus.Chunk{{ID: corpus.ChunkID("ops/deploys.md", 0, text), Text: text, LineStart: 1, LineEnd: 1}}})
	second, err := f.p.EvalQA(t.Context(), project.QAEval{Items: items, Path: "team-questions.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	return first.RunID, second.RunID
}

func TestEvalAPI(t *testing.T) {
	f := newFixture(t, Options{})
	if res, body := f.do(t, "GET", "/v1/eval/runs", f.read, ""); res.StatusCode != 200 || strings.TrimSpace(body) != `{"runs":[]}` {
		t.Fatalf("no runs yet: %d %s", res.StatusCode, body)
	}
	a, b := evalTwice(t, f)

	res, body := f.do(t, "GET", "/v1/eval/runs", f.read, "")
	var list struct{ Runs []runSummary }
	if err := json.Unmarshal([]byte(body), &list); res.StatusCode != 200 || err != nil || len(list.Runs) != 2 {
		t.Fatalf("runs: %d %s", res.StatusCode, body)
	}
	if list.Runs[0].ID != b || list.Runs[0].Primary != "contains" || list.Runs[0].Config["mode"] == nil {
		t.Errorf("newest run %+v", list.Runs[0])
	}
	if strings.Contains(body, f.dir) {
		t.Errorf("the run list shows the server's paths: %s", body)
	}

	res, body = f.do(t, "GET", "/v1/eval/runs/"+b, f.read, "")
	var one struct {
		Run     runSummary
		Queries []queryRow
	}
	if err := json.Unmarshal([]byte(body), &one); res.StatusCode != 200 || err != nil || len(one.Queries) != 3 {
		t.Fatalf("run: %d %s", res.StatusCode, body)
	}
	if one.Queries[0].Text == "" || one.Queries[0].Scores["contains"] > one.Queries[2].Scores["contains"] {
		t.Errorf("queries, worst first with their texts: %+v", one.Queries)
	}

	res, body = f.do(t, "GET", "/v1/eval/runs/"+b+"/report", f.read, "")
	if res.StatusCode != 200 || !strings.Contains(body, "<svg") || !strings.Contains(body, "When are deploys frozen?") {
		t.Fatalf("report: %d %.300s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("report CSP %q", csp)
	}

	res, body = f.do(t, "GET", "/v1/eval/diff?a="+a+"&b="+b, f.read, "")
	var diff struct{ Diff evaluate.Diff }
	if err := json.Unmarshal([]byte(body), &diff); res.StatusCode != 200 || err != nil {
		t.Fatalf("diff: %d %s", res.StatusCode, body)
	}
	if len(diff.Diff.Improved) != 1 || diff.Diff.Improved[0].Query != "deploys" || diff.Diff.Improved[0].Text != "When are deploys frozen?" {
		t.Errorf("flipped queries: improved %+v worsened %+v", diff.Diff.Improved, diff.Diff.Worsened)
	}

	for _, tc := range []struct{ path, want string }{
		{"/v1/eval/runs/20200101-000000-abcdef", "no such eval run"},
		{"/v1/eval/runs/nope/report", "no such eval run"},
		{"/v1/eval/diff?a=" + a, "name a run"},
		{"/v1/eval/runs?limit=0", "limit must be"},
	} {
		if res, body := f.do(t, "GET", tc.path, f.read, ""); res.StatusCode/100 != 4 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.path, res.StatusCode, body)
		}
	}
	if res, _ := f.do(t, "GET", "/v1/eval/runs", "", ""); res.StatusCode != 401 {
		t.Errorf("runs without a key: %d", res.StatusCode)
	}
}

func TestAdviseAPI(t *testing.T) {
	f := newFixture(t, Options{})
	_, b := evalTwice(t, f)
	res, body := f.do(t, "GET", "/v1/advise?knowledge_changes=yes&behavior_change=no&attribution=yes&monthly_requests=50000", f.read, "")
	var got struct {
		Report struct {
			Recommendation string
			Measured       struct{ Run string }
			Workload       struct {
				MonthlyRequests float64 `json:"monthly_requests"`
			}
		}
		ChartSVG string `json:"chart_svg"`
	}
	if err := json.Unmarshal([]byte(body), &got); res.StatusCode != 200 || err != nil {
		t.Fatalf("advise: %d %s", res.StatusCode, body)
	}
	if got.Report.Recommendation != "rag" || got.Report.Measured.Run != b || got.Report.Workload.MonthlyRequests != 50000 || !strings.HasPrefix(got.ChartSVG, "<svg") {
		t.Errorf("advise %+v, chart %.60q", got.Report, got.ChartSVG)
	}
	res, body = f.do(t, "GET", "/v1/advise?knowledge_changes=no&behavior_change=yes&attribution=no&format=html", f.read, "")
	if res.StatusCode != 200 || !strings.Contains(body, "<svg") || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("decision page: %d %.300s", res.StatusCode, body)
	}
	for _, q := range []string{"behavior_change=no&attribution=yes", "knowledge_changes=maybe&behavior_change=no&attribution=yes",
		"knowledge_changes=yes&behavior_change=no&attribution=yes&monthly_requests=-3", "knowledge_changes=yes&behavior_change=no&attribution=yes&run=nope"} {
		if res, body := f.do(t, "GET", "/v1/advise?"+q, f.read, ""); res.StatusCode/100 != 4 {
			t.Errorf("%s: %d %s", q, res.StatusCode, body)
		}
	}
}

// TestUISecurityHeaders: the page and its files forbid inline scripts
// and framing; the session says what the key may do.
func TestUISecurityHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	for _, path := range []string{"/", "/app.js"} {
		res, _ := f.do(t, "GET", path, "", "")
		csp := res.Header.Get("Content-Security-Policy")
		if res.StatusCode != 200 || !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("%s: %d CSP %q", path, res.StatusCode, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, res.Header)
		}
	}
	res, body := f.do(t, "GET", "/v1/session", f.read, "")
	if res.StatusCode != 200 || !strings.Contains(body, `"scopes":["read"]`) || !strings.Contains(body, `"key":"reader"`) {
		t.Errorf("session: %d %s", res.StatusCode, body)
	}
	res, body = f.do(t, "GET", "/v1/documents?name=BACK", f.read, "")
	if res.StatusCode != 200 || !strings.Contains(body, `"display_path":"ops/backups.md"`) || strings.Contains(body, "keys.md") {
		t.Errorf("documents by name: %d %s", res.StatusCode, body)
	}
}

func TestDisplayPath(t *testing.T) {
	b := &Backend{DocumentRoot: "/srv/proj", IngestRoot: "/srv/proj/docs", UploadDir: "/srv/proj/.ragtune/uploads"}
	for doc, want := range map[string]string{
		"docs/guide/a.md":                   "guide/a.md",
		".ragtune/uploads/notes.md":         "uploads/notes.md",
		"README.md":                         "README.md",
		"/elsewhere/secret/plan.md":         "plan.md",
		"/srv/proj/docs/b.md":               "b.md",
		"https://example.com/handbook/page": "https://example.com/handbook/page",
	} {
		if got := b.displayPath(doc); got != want {
			t.Errorf("displayPath(%q) = %q, want %q", doc, got, want)
		}
	}
}
