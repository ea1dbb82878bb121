// Package browsertest starts headless Chromium for tests that look at a
// page as a person would, and keeps their screenshots as CI artefacts.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds Debian's browser (installed by .ci/run), or skips the
// test.
func Chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH; .ci/run installs Debian's chromium package")
	return ""
}

// New starts headless Chromium with a fresh profile and no background
// networking, for one test of at most a minute.
func New(t *testing.T, exe string) context.Context {
	t.Helper()
	return NewFor(t, exe, time.Minute)
}

// NewFor is New for a test that may take up to limit.
func NewFor(t *testing.T, exe string, limit time.Duration) context.Context {
	t.Helper()
	// Not t.TempDir: the browser may still write its profile while the
	// test cleans up, so removal is best effort.
	profile, err := os.MkdirTemp("", "ragtune-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// SaveArtifact keeps a file a test made (a screenshot) in
// $RAGTUNE_ARTIFACTS, the CI artefacts directory, or else in the test's
// temporary directory, and returns its path.
func SaveArtifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("RAGTUNE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artefact: %s", path)
	return path
}
