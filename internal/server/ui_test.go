package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ragtune/ragtune/internal/browsertest"
)

// TestWebUIInBrowser is in webapp_test.go.

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

// TestMarkdownRendererBounds renders, under node, inputs that made the
// renderer's inline pattern backtrack for minutes and its quotes recurse
// past the stack; it must come back with every input rendered (the
// command's context bounds the wait).
func TestMarkdownRendererBounds(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	md, err := filepath.Abs("ui/md.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "testdata/mdbounds.mjs", "file://"+md).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]int
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 5 || got["plain"] != 1 {
		t.Fatalf("rendered %s (%v)", out, err)
	}
}
