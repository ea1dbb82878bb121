package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ragtune/ragtune/internal/browsertest"
)

// adviseReport makes a project with one QA eval run and writes the
// decision report of it into the returned directory.
func adviseReport(t *testing.T) (dir, report, run string) {
	t.Helper()
	dir = initProject(t)
	data, _ := filepath.Abs("../../examples/squad-mini")
	out, errOut, code := cli(t, dir, "eval", "run", filepath.Join(data, "qa.jsonl"), "--corpus", data, "--json")
	if code != 0 {
		t.Fatalf("eval run: exit %d %s", code, errOut)
	}
	run = decode(t, out)["run_id"].(string)
	report = filepath.Join(dir, "decision")
	out, errOut, code = cli(t, dir, "advise", "--knowledge-changes", "yes", "--behavior-change", "no", "--attribution", "yes",
		"--monthly-requests", "250000", "--report", report)
	if code != 0 || !strings.Contains(out, filepath.Join(report, "decision.html")) {
		t.Fatalf("advise --report: exit %d %s %s", code, out, errOut)
	}
	return dir, report, run
}

// TestAdviseReport: without --from-eval the newest stored QA run is the
// evidence, named with its date and figures in both files; an unknown
// run is a usage error and an unwritable directory a failure.
func TestAdviseReport(t *testing.T) {
	dir, report, run := adviseReport(t)
	md, err := os.ReadFile(filepath.Join(report, "decision.md"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(report, "decision.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Recommendation: Use RAG", "run `" + run + "`", "newest stored run", "| contains | 0.", "Cost at 250,000 requests a month", "## Next step"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("decision.md lacks %q:\n%s", want, md)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(string(page), `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("decision.html is not self-contained: it has %q", bad)
		}
	}
	out, _, code := cli(t, dir, "advise", "--knowledge-changes", "yes", "--behavior-change", "no", "--attribution", "yes", "--json")
	if ev := decode(t, out)["evidence"].(map[string]any); code != 0 || ev["qa"].(map[string]any)["id"] != run {
		t.Errorf("--json evidence: exit %d %v", code, ev)
	}
	args := []string{"advise", "--knowledge-changes", "no", "--behavior-change", "no", "--attribution", "no"}
	if _, errOut, code := cli(t, dir, append(args, "--from-eval", "nosuchrun", "--report", report)...); code != exitUsage || !strings.Contains(errOut, "nosuchrun") {
		t.Errorf("unknown run: exit %d %s", code, errOut)
	}
	blocked := filepath.Join(dir, "a-file")
	os.WriteFile(blocked, []byte("x"), 0o644)
	if _, errOut, code := cli(t, dir, append(args, "--report", filepath.Join(blocked, "decision"))...); code != exitFailure || !strings.Contains(errOut, "writing the decision report") {
		t.Errorf("unwritable report directory: exit %d %s", code, errOut)
	}
}

// TestAdviseReportInBrowser opens decision.html in headless Chromium at
// a phone's width and a laptop's: the recommendation, the cost table
// and the chart are visible, and the phone page does not scroll
// sideways. The screenshots are CI artefacts.
func TestAdviseReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := browsertest.Chromium(t)
	_, report, _ := adviseReport(t)
	ctx := browsertest.New(t, exe)
	url := "file://" + filepath.Join(report, "decision.html")
	for _, width := range []int64{375, 1280} {
		var verdict string
		var overflow bool
		var chartWidth float64
		var shot []byte
		err := chromedp.Run(ctx,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(url),
			chromedp.WaitVisible(".verdict .answer", chromedp.ByQuery),
			chromedp.WaitVisible("#costs", chromedp.ByID),
			chromedp.WaitVisible("#chart svg", chromedp.ByQuery),
			chromedp.Text(".verdict .answer", &verdict, chromedp.ByQuery),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
			chromedp.Evaluate(`document.querySelector("#chart svg").getBoundingClientRect().width`, &chartWidth),
			chromedp.FullScreenshot(&shot, 100), // 100 means PNG
		)
		if err != nil {
			t.Fatalf("at %d px: %v", width, err)
		}
		if verdict != "Use RAG" {
			t.Errorf("at %d px the verdict reads %q", width, verdict)
		}
		if overflow {
			t.Errorf("at %d px the page scrolls sideways", width)
		}
		if chartWidth < 300 || chartWidth > float64(width) {
			t.Errorf("at %d px the chart is %.0f px wide", width, chartWidth)
		}
		browsertest.SaveArtifact(t, fmt.Sprintf("decision-%d.png", width), shot)
	}
}
