package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readmeUse returns the command lines of the README's Use section, their
// comments cut off.
func readmeUse(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Use\n.*?```sh\n(.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatal("the README has no Use section with a sh block")
	}
	var lines []string
	for _, l := range strings.Split(string(m[1]), "\n") {
		if i := strings.Index(l, "  #"); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestReadmeUse runs the README's Use section line by line, as a
// newcomer would in a clone: in a directory holding only a copy of docs/
// and examples/, with bin/ragtune being this test binary. Every line must
// succeed; serve must come up, answer /healthz and stop on an interrupt.
func TestReadmeUse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README command")
	}
	dir := t.TempDir()
	for _, sub := range []string{"docs", "examples"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join("../..", sub))); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	wrapper := fmt.Sprintf("#!/bin/sh\nRAGTUNE_TEST_AS_CLI=1 exec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(dir, "bin", "ragtune"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, ".cache"))
	lines := readmeUse(t)
	if len(lines) < 10 {
		t.Fatalf("only %d lines in the Use section", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "bin/ragtune ") {
			t.Errorf("a Use line that is not a bin/ragtune command: %q", line)
			continue
		}
		if strings.HasPrefix(line, "bin/ragtune serve") {
			serveUntilInterrupted(t, dir, env, line)
			continue
		}
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README line %q failed: %v\n%s", line, err, out)
		}
	}
}

// serveUntilInterrupted starts a serve line, waits for /healthz to answer
// on the default address and stops it with SIGINT.
func serveUntilInterrupted(t *testing.T, dir string, env []string, line string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "exec "+line)
	cmd.Dir, cmd.Env = dir, env
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ok := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(out.String(), "address already in use") {
			t.Skipf("127.0.0.1:8080 is taken on this machine: %s", out.String())
		}
		res, err := http.Get("http://127.0.0.1:8080/healthz")
		if err == nil {
			res.Body.Close()
			ok = res.StatusCode == 200
			break
		}
	}
	if !ok {
		t.Fatalf("%q did not answer /healthz: %s", line, out.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("%q after an interrupt: %v\n%s", line, err, out.String())
	}
}

// lockedBuffer is a buffer a child process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
