package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeIngestStatus runs `serve --watch` as a process and reads each
// round of the watched folder from GET /v1/ingest/status: the first
// ingest, then a file saved while serving.
func TestServeIngestStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := initProject(t)
	notes := filepath.Join(dir, "notes")
	os.MkdirAll(notes, 0o755)
	os.WriteFile(filepath.Join(notes, "a.md"), []byte("# A\n\nApples are red.\n"), 0o644)
	cmd, url := startServe(t, dir, "--insecure-local", "--watch", notes)
	type source struct {
		Kind, Source, State string
		Rounds, Added       int
		Error               string
	}
	until := func(what string, cond func(source) bool) source {
		t.Helper()
		var last string
		for range 500 {
			res, err := http.Get(url + "/v1/ingest/status")
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Sources []source }
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			for _, s := range body.Sources {
				if s.Kind == "watch" && cond(s) {
					return s
				}
			}
			b, _ := json.Marshal(body)
			last = string(b)
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: not in %s", what, last)
		return source{}
	}
	first := until("the first round", func(s source) bool { return s.Rounds >= 1 && s.State == "idle" })
	if first.Source != "notes/" || first.Added != 1 || first.Error != "" || strings.Contains(first.Source, dir) {
		t.Errorf("first round %+v", first)
	}
	os.WriteFile(filepath.Join(notes, "b.md"), []byte("# B\n\nBananas are yellow.\n"), 0o644)
	until("a round for a saved file", func(s source) bool { return s.Rounds >= 2 && s.State == "idle" && s.Added == 1 })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("graceful shutdown: %v", err)
	}
}
