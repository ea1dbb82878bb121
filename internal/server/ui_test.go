package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ragtune/ragtune/internal/browsertest"
)

// TestWebUIInBrowser asks through the page in headless Chromium: the
// answer streams in, a citation opens its passage, the document list
// loads; a screenshot is kept (RAGTUNE_ARTIFACTS, or the test's temp dir).
func TestWebUIInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := browsertest.Chromium(t)
	f := newFixture(t, Options{Insecure: true})
	ctx := browsertest.New(t, exe)

	var answer, passage, docs, followUp string
	var shot []byte
	err := chromedp.Run(ctx,
		chromedp.Navigate(f.url+"/"),
		chromedp.WaitVisible("#question", chromedp.ByID),
		chromedp.WaitVisible(`#docs li`, chromedp.ByQuery),
		chromedp.SendKeys("#question", "How often do signing keys rotate?", chromedp.ByID),
		chromedp.Click("#ask", chromedp.ByID),
		chromedp.WaitVisible(`#answer .cite`, chromedp.ByQuery),
		chromedp.WaitVisible(`#sources li`, chromedp.ByQuery),
		chromedp.Text("#answer", &answer, chromedp.ByID),
		chromedp.Click(`#answer .cite`, chromedp.ByQuery),
		chromedp.WaitVisible("#passage", chromedp.ByID),
		chromedp.Text("#passage", &passage, chromedp.ByID),
		chromedp.Text("#docs", &docs, chromedp.ByID),
		// A follow-up that names its subject only through the conversation.
		chromedp.Evaluate(`document.getElementById("question").value = ""`, nil),
		chromedp.SendKeys("#question", "And by hand?", chromedp.ByID),
		chromedp.Click("#ask", chromedp.ByID),
		chromedp.Poll(`document.querySelectorAll("#conversation li").length == 1 && document.getElementById("answer").textContent.includes("hand")`, nil),
		chromedp.Text("#answer", &followUp, chromedp.ByID),
		chromedp.FullScreenshot(&shot, 100), // 100 means PNG
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, "ninety days") || !strings.Contains(answer, "[1]") {
		t.Errorf("answer %q", answer)
	}
	if !strings.Contains(passage, "ops/keys.md") || !strings.Contains(passage, "Signing keys rotate") {
		t.Errorf("passage %q", passage)
	}
	if !strings.Contains(docs, "ops/backups.md") {
		t.Errorf("documents %q", docs)
	}
	if !strings.Contains(followUp, "rotate command") {
		t.Errorf("follow-up answer %q; want the rotate command from the conversation's subject", followUp)
	}
	browsertest.SaveArtifact(t, "web-ui.png", shot)
}

// TestCrossSiteUploadInBrowser replays the reported attack in real
// Chromium: a page on another origin posts a file to a keyless
// (--insecure-local) server with a no-cors multipart fetch and with a
// form. Nothing may be stored or left in the upload folder.
func TestCrossSiteUploadInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := browsertest.Chromium(t)
	f := newFixture(t, Options{Insecure: true})
	before, _ := f.p.Documents(t.Context(), "")
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><body>
<form id="f" method="post" enctype="multipart/form-data" action="%[1]s/v1/ingest" target="sink">
<input type="hidden" name="x" value="1"></form><iframe name="sink"></iframe>
<script>
const fd = new FormData();
fd.append("file", new Blob(["# Planted\n\nThe attacker wrote this document."], {type: "text/markdown"}), "planted.md");
fetch("%[1]s/v1/ingest", {method: "POST", mode: "no-cors", body: fd})
  .finally(() => { document.getElementById("f").submit(); document.title = "sent"; });
</script></body>`, f.url)
	}))
	defer attacker.Close()
	ctx := browsertest.New(t, exe)
	// The attacker's page is on localhost, the server on 127.0.0.1: two sites.
	page := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)
	var title string
	if err := chromedp.Run(ctx, chromedp.Navigate(page), chromedp.Poll(`document.title == "sent"`, nil), chromedp.Sleep(time.Second), chromedp.Title(&title)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	after, _ := f.p.Documents(t.Context(), "")
	if len(after) != len(before) {
		t.Errorf("a cross-site upload was stored: %d documents before, %d after", len(before), len(after))
	}
	if entries, _ := os.ReadDir(filepath.Join(f.dir, "uploads")); len(entries) > 0 {
		t.Errorf("a cross-site upload left %d file(s) in the upload folder", len(entries))
	}
}
