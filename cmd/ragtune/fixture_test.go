package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestStoreFromPreviousRelease opens a store written by an earlier
// release (testdata/store-v1: docs/ ingested with the built-in embedder,
// one API key) and checks that it verifies and answers exactly as that
// release did: the golden files are that release's own output.
func TestStoreFromPreviousRelease(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/store-v1")); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(dir, "golden")
	same := func(name, got string) {
		t.Helper()
		want, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the previous release's output:\n got: %.400s\nwant: %.400s", name, got, want)
		}
	}
	queries := []string{"unchanged file skipped", "how are API keys stored", "reciprocal rank fusion weights"}
	for i, q := range queries {
		for _, mode := range []string{"lexical", "dense", "hybrid"} {
			out, errOut, code := cli(t, dir, "search", q, "--mode", mode, "--json")
			if code != 0 {
				t.Fatalf("search %q --mode %s: exit %d: %s", q, mode, code, errOut)
			}
			same("search-"+mode+"-"+string(rune('1'+i))+".json", out)
		}
	}
	out, errOut, code := cli(t, dir, "search", "chunk size", "--path-prefix", "docs/configuration", "--json")
	if code != 0 {
		t.Fatalf("search --path-prefix: exit %d: %s", code, errOut)
	}
	same("search-prefix.json", out)
	// The rest are compared as JSON, without what depends on where the
	// copy lives (config, store, store_bytes) and without fields added
	// since (an answer's answerability and short answer): the same answer
	// and the same refusal, with more said about them.
	for name, args := range map[string][]string{
		"ask-answer.json":  {"ask", "Why is an unchanged file skipped on the next ingest?", "--json"},
		"ask-refusal.json": {"ask", "Who designed the ragtune logo?", "--json"},
		"status.json":      {"status", "--verify", "--documents", "--json"},
		"keys.json":        {"keys", "list", "--json"},
	} {
		out, errOut, code := cli(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, k := range []string{"config", "store", "store_bytes", "answerability", "short_answer"} {
			delete(v, k)
		}
		raw, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%v differs from the previous release's output:\n got: %v\nwant: %v", args, v, want)
		}
	}
}
