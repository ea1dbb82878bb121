package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ragtune/ragtune/internal/browsertest"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/store"
)

// webApp is a real server over a real project for the browser tests:
// feedback on, two stored eval runs, a generated test set to review.
type webApp struct {
	*fixture
	url    string
	runs   [2]string
	setDir string
	// watched is a folder the server follows, as serve --watch does;
	// activity records its rounds and the uploads.
	watched  string
	activity *ingest.Tracker
}

func newWebApp(t *testing.T) *webApp {
	t.Helper()
	f := newFixture(t, Options{})
	a, b := evalTwice(t, f)
	writeSet(t, f, "generated.jsonl", generatedSet())
	be := f.backend()
	be.Feedback, be.FeedbackRetention = f.p.Store(), 90*24*time.Hour
	activity := ingest.NewTracker(f.dir)
	be.Activity = activity
	watched := filepath.Join(f.dir, "watched")
	os.MkdirAll(watched, 0o755)
	ctx, stop := context.WithCancel(t.Context())
	watching := make(chan error, 1)
	activity.Add(ingest.KindWatch, watched)
	go func() {
		watching <- f.p.Watch(ctx, project.WatchRequest{Roots: []string{watched}, Quiet: 100 * time.Millisecond,
			Begin: func() func(*ingest.Report, error) { return activity.Begin(ingest.KindWatch, watched) }})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-watching; err != nil {
			t.Error(err)
		}
	})
	ts := httptest.NewServer(New(be, Options{}).Handler()) // a real server on 127.0.0.1
	t.Cleanup(ts.Close)
	return &webApp{fixture: f, url: ts.URL, runs: [2]string{a, b}, setDir: f.p.TestSetDir(), watched: watched, activity: activity}
}

// js evaluates an expression and fails the test on error.
func js(expr string, out any) chromedp.Action { return chromedp.Evaluate(expr, out) }

// waitFor polls a JavaScript condition.
func waitFor(cond string) chromedp.Action {
	return chromedp.Poll(cond, nil, chromedp.WithPollingTimeout(20*time.Second))
}

// TestWebUIInBrowser uses the web app as a team would, in headless
// Chromium against a real server: a key typed in, a multi-turn
// conversation, a citation opened beside the answer, feedback with a
// correction, a document uploaded then found by name, an eval run opened
// and two compared, a generated question accepted beside its passage,
// the decision. Every view passes axe-core without serious or critical
// violations and fits 375 px; screenshots at 375 and 1280 px, light and
// dark, go to the artefacts.
func TestWebUIInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := browsertest.Chromium(t)
	axe := browsertest.Axe(t)
	app := newWebApp(t)
	ctx := browsertest.NewFor(t, exe, 3*time.Minute)
	upload := filepath.Join(t.TempDir(), "runbook.md")
	os.WriteFile(upload, []byte("# Incident runbook\n\nPage the on-call engineer, then open an incident channel.\n"), 0o644)

	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			var html string
			chromedp.Run(ctx, chromedp.OuterHTML("main", &html, chromedp.ByQuery))
			t.Fatalf("%s: %v\n%.3000s", what, err, html)
		}
	}
	text := func(expr string) string {
		t.Helper()
		var s string
		run("reading "+expr, js(expr, &s))
		return s
	}
	accessible := func(view string) {
		t.Helper()
		var vs []browsertest.Violation
		run("axe on "+view, waitFor(`getComputedStyle(document.getElementById("toast")).visibility == "hidden"`), chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			vs, err = browsertest.RunAxe(ctx, axe)
			return err
		}))
		for _, v := range browsertest.Serious(vs) {
			t.Errorf("%s: %s", view, v)
		}
	}
	fits := func(view string) {
		t.Helper()
		var width int
		run("width of "+view, js(`document.documentElement.scrollWidth`, &width))
		if width > 375 {
			t.Errorf("%s is %d px wide at 375 px", view, width)
		}
	}
	shot := func(name string) {
		t.Helper()
		var png []byte
		run("screenshot "+name, waitFor(`!document.querySelector(".toast.show")`), chromedp.CaptureScreenshot(&png))
		browsertest.SaveArtifact(t, name, png)
	}
	size := func(w, h int64, mobile bool) chromedp.Action {
		return emulation.SetDeviceMetricsOverride(w, h, 1, mobile)
	}
	scheme := func(dark bool) chromedp.Action {
		v := "light"
		if dark {
			v = "dark"
		}
		return emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}})
	}

	// The key: asked for at once, kept for the tab, never in localStorage.
	run("key", size(1280, 860, false), scheme(false),
		chromedp.Navigate(app.url+"/"),
		chromedp.WaitVisible("#key-dialog", chromedp.ByID),
		chromedp.SendKeys("#key", app.write, chromedp.ByID),
		chromedp.Click(`#key-form button[type=submit]`, chromedp.ByQuery),
		waitFor(`document.querySelector("#key-button.ok") !== null`))
	if got := text(`JSON.stringify(localStorage)`); strings.Contains(got, app.write) {
		t.Errorf("the key is in localStorage: %s", got)
	}

	// A conversation of two turns; the follow-up names its subject only
	// through the history.
	done := func(n int) string {
		return fmt.Sprintf(`document.querySelectorAll(".msg-bot .actions").length == %d && !document.querySelector(".typing")`, n)
	}
	run("first question",
		chromedp.SendKeys("#question", "How often do signing keys rotate?", chromedp.ByID),
		chromedp.Click("#ask", chromedp.ByID),
		waitFor(done(1)), chromedp.WaitVisible(`.msg-bot .cite`, chromedp.ByQuery))
	if got := text(`document.querySelector(".msg-bot .body").textContent`); !strings.Contains(got, "ninety days") {
		t.Errorf("first answer %q", got)
	}
	run("follow-up",
		chromedp.SendKeys("#question", "And by hand?"+kb.Enter, chromedp.ByID),
		waitFor(done(2)))
	if got := text(`document.querySelectorAll(".msg-bot .body")[1].textContent`); !strings.Contains(got, "rotate command") {
		t.Errorf("follow-up answer %q; want the rotate command from the conversation's subject", got)
	}
	// A question the documents do not answer: declined, with its reason.
	run("declined",
		chromedp.SendKeys("#question", "What is the capital of France?"+kb.Enter, chromedp.ByID),
		waitFor(done(3)))
	if got := text(`document.querySelectorAll(".msg-bot")[2].textContent`); !strings.Contains(got, "Not answered from your documents") {
		t.Errorf("refusal shown as %q", got)
	}

	// The Markdown renderer makes only its own elements: markup in an
	// answer stays text, and links go only to http(s) and mailto.
	var rendered string
	run("markdown", chromedp.Evaluate(`import("/md.js").then(m => { const d = document.createElement("div");
		d.append(m.render("# Title\n\n**bold** <img src=x onerror=alert(1)> [x](javascript:alert(1)) [ok](https://example.com)\n\n- one\n- two\n\n`+"```"+`\n<script>alert(1)</script>\n`+"```"+`", n => "["+n+"]"));
		return d.innerHTML; })`, &rendered, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	for _, want := range []string{"<strong>bold</strong>", "&lt;img src=x", `<a href="https://example.com"`, "<li>one</li>", "&lt;script&gt;"} {
		if !strings.Contains(rendered, want) {
			t.Errorf("rendered Markdown lacks %s: %s", want, rendered)
		}
	}
	if strings.Contains(rendered, "<img") || strings.Contains(rendered, "javascript:") || strings.Contains(rendered, "<script") {
		t.Errorf("rendered Markdown holds markup from the text: %s", rendered)
	}

	// A citation opens its passage beside the answer, path relative to
	// the ingest root, the cited lines highlighted.
	run("citation", chromedp.Click(`.msg-bot .cite`, chromedp.ByQuery), chromedp.WaitVisible("#source-panel", chromedp.ByID))
	if got := text(`document.getElementById("source-body").textContent`); !strings.Contains(got, "ops/keys.md") || strings.Contains(got, app.dir) || !strings.Contains(got, "Signing keys rotate") {
		t.Errorf("passage %q", got)
	}
	if got := text(`String(document.querySelectorAll("#source-body .ln.hit mark").length)`); got == "0" {
		t.Error("no cited line is highlighted")
	}
	shot("web-chat-1280-light.png")
	accessible("chat")
	run("dark", scheme(true))
	shot("web-chat-1280-dark.png")
	accessible("chat, dark")

	// Feedback with a correction on the second answer, stored.
	run("feedback",
		chromedp.Click(`article.msg-bot:nth-of-type(2) button[aria-label="Bad answer"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".feedback-form textarea", chromedp.ByQuery),
		chromedp.SendKeys(".feedback-form textarea", "Run ragtune keys rotate --now.", chromedp.ByQuery),
		chromedp.Click(`.feedback-form button[type=submit]`, chromedp.ByQuery),
		waitFor(`document.querySelector(".thanks") !== null`))
	ins, err := app.p.Store().Interactions(t.Context(), store.InteractionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rated := 0
	for _, in := range ins {
		if in.Rating == store.Down && in.Correction == "Run ragtune keys rotate --now." {
			rated++
		}
	}
	if rated != 1 || len(ins) != 3 {
		t.Errorf("%d interactions, %d rated down with the correction: %+v", len(ins), rated, ins)
	}

	// Narrow: the conversation at 375 px, light and dark, the source as
	// a bottom sheet; Escape closes it.
	run("narrow", size(375, 812, true), scheme(false))
	fits("chat")
	shot("web-chat-375-light.png")
	run("narrow dark", scheme(true))
	shot("web-chat-375-dark.png")
	run("escape", chromedp.KeyEvent(kb.Escape), waitFor(`document.getElementById("source-panel").hidden`))
	run("back to wide", size(1280, 860, false), scheme(false))

	// Conversations: listed, kept on reload (this tab), a new one empty.
	run("reload", chromedp.Reload(), waitFor(`document.querySelectorAll("#conv-list .open").length == 1`),
		chromedp.Click("#conv-list .open", chromedp.ByQuery), waitFor(`document.querySelectorAll(".msg-bot").length == 3`),
		chromedp.Click("#new-chat", chromedp.ByID), waitFor(`document.getElementById("empty-chat") !== null`))

	// Documents: the watched folder's status; upload, shown as a round
	// of the uploads; a file saved in the watched folder appears in the
	// list when its round ends; then find the upload by name.
	run("documents", chromedp.Navigate(app.url+"/#/documents"), waitFor(`document.querySelectorAll("#docs tr td.path").length == 3`),
		waitFor(`/Watching watched\/ — no changes at/.test(document.getElementById("ingest-status").textContent)`))
	if got := text(`document.getElementById("ingest-status").getAttribute("aria-live")`); got != "polite" {
		t.Errorf("the ingest status is not a polite live region: %q", got)
	}
	run("upload", chromedp.SetUploadFiles("#file", []string{upload}, chromedp.ByID),
		waitFor(`document.querySelector("#upload-status.ok") !== null`),
		waitFor(`/Uploads to uploads\/ — added 1 document at/.test(document.getElementById("ingest-status").textContent)`),
		waitFor(`document.querySelectorAll("#docs tr td.path").length == 4`))
	os.WriteFile(filepath.Join(app.watched, "handbook.md"), []byte("# Handbook\n\nNew starters get a laptop on day one.\n"), 0o644)
	run("watched file", waitFor(`/Watching watched\/ — added 1 document at/.test(document.getElementById("ingest-status").textContent)`),
		waitFor(`[...document.querySelectorAll("#docs td.path")].some((td) => td.textContent == "watched/handbook.md")`))
	// A crawl fetching now, and one that failed: a spinner, the error in
	// the error colour, no server path.
	wiki, intranet := "https://wiki.example/sitemap.xml", "https://intranet.example/a/very/long/path/to/the/sitemap-of-the-handbook.xml"
	app.activity.Schedule(ingest.KindCrawl, intranet, time.Now().Add(58*time.Minute))
	app.activity.Begin(ingest.KindCrawl, intranet)(&ingest.Report{Failed: 1}, fmt.Errorf("fetching: %w", &os.PathError{Op: "open", Path: filepath.Join(app.dir, ".ragtune", "cache"), Err: os.ErrPermission}))
	endWiki := app.activity.Begin(ingest.KindCrawl, wiki)
	run("crawl status", waitFor(`document.querySelector("#ingest-sources li.running .spinner") !== null && document.querySelector("#ingest-sources li.failed") !== null`))
	if got := text(`document.querySelector("#ingest-sources li.failed").textContent`); !strings.Contains(got, "Crawling "+intranet+" — failed at") || !strings.Contains(got, "open .ragtune/cache: permission denied") || !strings.Contains(got, "next in 5") || strings.Contains(got, app.dir) {
		t.Errorf("failed crawl shown as %q", got)
	}
	if got := text(`(() => { const probe = document.body.appendChild(Object.assign(document.createElement("p"), { className: "status error" }));
		const same = getComputedStyle(probe).color == getComputedStyle(document.querySelector("#ingest-sources li.failed")).color;
		probe.remove(); return same ? "error colour" : "another colour"; })()`); got != "error colour" {
		t.Errorf("a failed source is shown in %s", got)
	}
	accessible("documents with ingest status")
	run("documents dark", scheme(true))
	accessible("documents with ingest status, dark")
	run("documents narrow dark", size(375, 812, true))
	fits("documents with ingest status")
	shot("web-documents-375-dark.png")
	run("documents wide light", size(1280, 860, false), scheme(false))
	shot("web-documents-1280-light.png")
	endWiki(&ingest.Report{Unchanged: 3}, nil)
	run("crawl done", waitFor(`document.querySelector("#ingest-sources li.running") === null`),
		chromedp.SendKeys("#doc-search", "runbook", chromedp.ByID),
		waitFor(`document.querySelectorAll("#docs td.path").length == 1`))
	if got := text(`document.getElementById("docs").textContent`); !strings.Contains(got, "uploads/runbook.md") || strings.Contains(got, app.dir) {
		t.Errorf("found documents %q", got)
	}
	accessible("documents")
	run("documents narrow", size(375, 812, true))
	fits("documents")
	run("documents wide", size(1280, 860, false))

	// Evaluation: open a run, then compare the two.
	run("eval", chromedp.Navigate(app.url+"/#/eval"), waitFor(`document.querySelectorAll("#runs .run-id").length == 2`))
	// The ingest status is polled only while the Documents view is open.
	polls := `String(performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/v1/ingest/status")).length)`
	before := text(polls)
	run("no polling", chromedp.Sleep(3500*time.Millisecond))
	if after := text(polls); after != before || before == "0" {
		t.Errorf("ingest status requests: %s on leaving Documents, %s 3.5 s later", before, after)
	}
	run("open run", chromedp.Click(`#runs .run-id`, chromedp.ByQuery), waitFor(`document.getElementById("run-heading") !== null`))
	if got := text(`document.getElementById("run-detail").textContent`); !strings.Contains(got, app.runs[1]) || !strings.Contains(got, "When are deploys frozen?") {
		t.Errorf("run %q", got)
	}
	run("report", chromedp.Click(`#run-detail .detail-head button`, chromedp.ByQuery), waitFor(`document.getElementById("report-dialog").open`))
	if got := text(`document.getElementById("report-frame").srcdoc`); !strings.Contains(got, "<svg") {
		t.Errorf("report frame %.200q", got)
	}
	accessible("eval run report")
	run("compare", chromedp.Click("#close-report", chromedp.ByID),
		chromedp.Click(`#runs tr:nth-child(1) input`, chromedp.ByQuery), chromedp.Click(`#runs tr:nth-child(2) input`, chromedp.ByQuery),
		chromedp.Click("#compare", chromedp.ByID), waitFor(`document.getElementById("diff-heading") !== null`))
	if got := text(`document.getElementById("run-detail").textContent`); !strings.Contains(got, "Improved in B (1)") || !strings.Contains(got, "When are deploys frozen?") {
		t.Errorf("comparison %q", got)
	}
	shot("web-eval-1280-light.png")
	accessible("eval compare")
	run("eval narrow", size(375, 812, true))
	fits("eval")
	run("eval wide", size(1280, 860, false))

	// Review: accept a generated question beside its passage.
	run("review", chromedp.Navigate(app.url+"/#/review"), waitFor(`document.querySelectorAll("#review-items .card").length == 3`))
	if got := text(`document.querySelector("#review-items .card .passage mark").textContent`); !strings.Contains(got, "rotate every ninety days") {
		t.Errorf("quote highlighted %q", got)
	}
	accessible("review")
	run("accept", chromedp.Click(`#review-items .card .actions button.primary`, chromedp.ByQuery),
		waitFor(`document.querySelector("#review-items .badge.accepted") !== null`))
	items, err := evaluate.LoadQA(filepath.Join(app.setDir, "generated.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if items[0].ReviewStatus() != evaluate.ReviewAccepted {
		t.Errorf("item %s is %s after Accept", items[0].ID, items[0].ReviewStatus())
	}
	run("review narrow", size(375, 812, true))
	fits("review")
	run("review wide", size(1280, 860, false))

	// The decision, read against the stored runs.
	run("decision", chromedp.Navigate(app.url+"/#/decision"), chromedp.WaitVisible("#advise-form", chromedp.ByID),
		chromedp.Click(`#advise-form button[type=submit]`, chromedp.ByQuery), waitFor(`document.getElementById("verdict") !== null`),
		waitFor(`document.querySelector(".chart img").complete`))
	if got := text(`document.getElementById("decision").textContent`); !strings.Contains(got, "Use RAG") || !strings.Contains(got, app.runs[1]) {
		t.Errorf("decision %q", got)
	}
	shot("web-decision-1280-light.png")
	accessible("decision")
	run("decision dark", scheme(true))
	shot("web-decision-1280-dark.png")
	run("decision narrow", size(375, 812, true), scheme(false))
	fits("decision")
	shot("web-decision-375-light.png")
}
