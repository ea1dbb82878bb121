package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoTestSetToDecision is the path of a team with documents and no test
// set, offline: generate a set, review it, measure, compare, decide.
func TestNoTestSetToDecision(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, errOut)
	}
	set := filepath.Join(dir, "testsets", "generated.jsonl")
	out, errOut, code := cli(t, dir, "eval", "generate", "--size", "24", "--unanswerable", "0.25", "--json")
	if code != 0 {
		t.Fatalf("generate exit %d: %s", code, errOut)
	}
	gen := decode(t, out)
	rep := gen["report"].(map[string]any)
	if gen["file"] != set || rep["items"].(float64) < 20 || !strings.HasPrefix(rep["generator"].(string), "offline/") {
		t.Fatalf("generate: %v", gen)
	}
	if _, _, code := cli(t, dir, "eval", "generate"); code != exitUsage {
		t.Errorf("generate over an existing set: exit %d, want %d (decisions would be lost)", code, exitUsage)
	}

	// Review: show one beside its passage, reject one, edit one, accept the rest.
	out, _, code = cli(t, dir, "eval", "review", "show", set, "gen-1", "--json")
	shown := decode(t, out)
	passages, _ := shown["passages"].([]any)
	if code != 0 || len(passages) == 0 || passages[0].(map[string]any)["text"] == "" {
		t.Fatalf("review show: exit %d %v", code, shown)
	}
	if _, errOut, code := cli(t, dir, "eval", "review", "reject", set, "gen-2", "--note", "vague"); code != 0 {
		t.Fatalf("reject: exit %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, dir, "eval", "review", "edit", set, "gen-3", "--question", "What does ragtune answer with?", "--answer", "numbered citations"); code != 0 {
		t.Fatalf("edit: exit %d %s", code, errOut)
	}
	if _, _, code := cli(t, dir, "eval", "review", "accept", set, "gen-999"); code != exitUsage {
		t.Errorf("accept an unknown item: exit %d, want %d", code, exitUsage)
	}
	// Nothing accepted yet but the edit: --accepted-only runs on it alone.
	out, _, code = cli(t, dir, "eval", "run", set, "--accepted-only", "--json")
	if code != 0 || decode(t, out)["queries"].(float64) != 1 {
		t.Fatalf("--accepted-only before review: exit %d %s", code, out)
	}
	if _, errOut, code := cli(t, dir, "eval", "review", "accept", set, "--all-proposed"); code != 0 {
		t.Fatalf("accept all: exit %d %s", code, errOut)
	}
	out, _, _ = cli(t, dir, "eval", "review", "list", set, "--json")
	sum := decode(t, out)["summary"].(map[string]any)["by_status"].(map[string]any)
	if sum["rejected"].(float64) != 1 || sum["proposed"] != nil {
		t.Fatalf("after review: %v", sum)
	}
	raw, _ := os.ReadFile(set)
	if !strings.Contains(string(raw), `"note":"vague"`) || !strings.Contains(string(raw), `"original":{`) {
		t.Fatalf("decisions not kept in the file:\n%s", raw)
	}

	// Measure on the reviewed set: the rejected item is not asked.
	out, errOut, code = cli(t, dir, "eval", "run", set, "--accepted-only", "--json")
	if code != 0 {
		t.Fatalf("eval run: exit %d %s", code, errOut)
	}
	run := decode(t, out)
	if int(run["queries"].(float64)) != int(rep["items"].(float64))-1 {
		t.Fatalf("eval run asked %v questions of %v (one rejected)", run["queries"], rep["items"])
	}
	contains := run["answer"].(map[string]any)["contains"].(float64)
	if contains < 0.5 {
		t.Errorf("contains %.3f on questions written from the store's own sentences", contains)
	}

	// Compare settings on it, then decide.
	grid := filepath.Join(dir, "grid.toml")
	os.WriteFile(grid, []byte("qa = \"testsets/generated.jsonl\"\nprimary = \"contains\"\n[grid]\n\"retrieve.k\" = [1, 4]\n"), 0o644)
	out, errOut, code = cli(t, dir, "eval", "compare", "--grid", grid, "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d %s", code, errOut)
	}
	var res struct {
		Comparison struct {
			Winner string `json:"winner"`
			Cells  []struct {
				Label string `json:"label"`
			} `json:"cells"`
		} `json:"comparison"`
	}
	err := json.Unmarshal([]byte(out), &res)
	if cmp := res.Comparison; err != nil || len(cmp.Cells) != 2 || cmp.Winner == "" {
		t.Fatalf("compare: %v %s", err, out)
	}
	report := filepath.Join(dir, "decision")
	if _, errOut, code := cli(t, dir, "advise", "--knowledge-changes", "yes", "--behavior-change", "no", "--attribution", "yes", "--report", report); code != 0 {
		t.Fatalf("advise: exit %d %s", code, errOut)
	}
	md, err := os.ReadFile(filepath.Join(report, "decision.md"))
	if err != nil || !strings.Contains(string(md), "## Recommendation") || !strings.Contains(string(md), "generated.jsonl") {
		t.Fatalf("decision.md: %v\n%s", err, md)
	}
}
