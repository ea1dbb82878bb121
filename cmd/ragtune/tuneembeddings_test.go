package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/embed/adapter"
	"github.com/ragtune/ragtune/internal/store"
)

// TestTuneEmbeddings trains a query adapter on a real BEIR slice, checks
// the before/after report, and toggles it.
func TestTuneEmbeddings(t *testing.T) {
	dir := initProject(t)
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte("[embed]\nprovider = \"builtin\"\n"), 0o644)
	data, _ := filepath.Abs("../../examples/squad-mini")
	out, errOut, code := cli(t, dir, "tune", "embeddings", data, "--held-out", "0.4", "--epochs", "3", "--json")
	if code != 0 {
		t.Fatalf("tune embeddings: exit %d %s", code, errOut)
	}
	rep := decode(t, out)
	hasKeys(t, "tune embeddings", rep, "store", "embedder", "enabled", "fingerprint", "report")
	r := rep["report"].(map[string]any)
	if r["train_pairs"].(float64) < 10 || r["held_out_queries"].(float64) < 5 || len(r["epochs"].([]any)) != 4 {
		t.Errorf("report %v", r)
	}
	before, after := r["before"].(map[string]any), r["after"].(map[string]any)
	for _, k := range []string{"dense ndcg@10", "hybrid ndcg@10", "dense recall@100", "hybrid mrr@10"} {
		if before[k] == nil || after[k] == nil {
			t.Errorf("missing held-out figure %q: %v / %v", k, before, after)
		}
	}
	if enabled := rep["enabled"].(bool); enabled != (after["dense ndcg@10"].(float64) > before["dense ndcg@10"].(float64)) {
		t.Errorf("enabled = %v but held-out dense nDCG@10 went %v → %v", enabled, before["dense ndcg@10"], after["dense ndcg@10"])
	}
	out, _, code = cli(t, dir, "tune", "embeddings", data, "--disable", "--json")
	if code != 0 || decode(t, out)["enabled"].(bool) {
		t.Errorf("--disable: exit %d %s", code, out)
	}
	out, _, code = cli(t, dir, "tune", "embeddings", data, "--status")
	if code != 0 || !strings.Contains(out, "stored but OFF") || !strings.Contains(out, "dense ndcg@10") {
		t.Errorf("--status: exit %d\n%s", code, out)
	}
}

// TestQueryAdapterIsUsed stores a known adapter (W = −I, which turns the
// dense ranking upside down) and checks that search uses it only while
// it is enabled and embed.adapter allows it.
func TestQueryAdapterIsUsed(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte("[embed]\nprovider = \"builtin\"\n"), 0o644)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	top := func(extra ...string) string {
		t.Helper()
		out, errOut, code := cli(t, dir, append([]string{"search", "How are sentences weighted when deciding to decline?", "--mode", "dense", "--json"}, extra...)...)
		if code != 0 {
			t.Fatalf("search: %s", errOut)
		}
		h := decode(t, out)["hits"].([]any)[0].(map[string]any)
		return h["chunk_id"].(string)
	}
	plain := top()
	st, err := store.Open(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sqlite.Open(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := c.Identity(t.Context())
	c.Close()
	flip := adapter.Identity(id.Embedder, id.Dim)
	for i := range flip.W {
		flip.W[i] = -flip.W[i]
	}
	flip.Enabled = true
	if err := adapter.Save(t.Context(), st, flip); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if got := top(); got == plain {
		t.Errorf("the enabled adapter was not applied: top chunk %s both times", got)
	}
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte("[embed]\nprovider = \"builtin\"\nadapter = \"off\"\n"), 0o644)
	if got := top(); got != plain {
		t.Errorf("embed.adapter = off still used the adapter: %s, want %s", got, plain)
	}
}
