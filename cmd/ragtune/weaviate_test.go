package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus/weaviate/weaviatetest"
	"github.com/ragtune/ragtune/internal/embed"
)

// TestWeaviateBackendCLI runs the everyday commands with the corpus on a
// real Weaviate server, chosen by the two environment variables a
// deployment sets, and compares the evaluation with the embedded store's.
func TestWeaviateBackendCLI(t *testing.T) {
	node := weaviatetest.Start(t)
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "RAGTUNE_MODEL_DIR=" + embed.DefaultModelDir(os.Getenv),
		"RAGTUNE_STORE=weaviate", "RAGTUNE_WEAVIATE_URL=" + node.URL}
	wv := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(t.Context(), append([]string{"--config", filepath.Join(dir, "ragtune.toml")}, args...), streams{stdout: &out, stderr: &errb}, env)
		return out.String(), errb.String(), code
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, code := wv(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	mustRun("init")
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "raft.md"), []byte("# Raft\n\nRaft elects a leader by majority vote. The leader replicates log entries to followers.\n"), 0o644)
	os.WriteFile(filepath.Join(docs, "tea.md"), []byte("# Tea\n\nGreen tea is steamed or pan-fired soon after picking to stop oxidation.\n"), 0o644)
	ingest := decode(t, mustRun("ingest", docs, "--json"))
	if ingest["added"].(float64) != 2 {
		t.Fatalf("ingest: %v", ingest)
	}
	hits := decode(t, mustRun("search", "how is a leader elected", "--json"))["hits"].([]any)
	if len(hits) == 0 || !strings.HasSuffix(hits[0].(map[string]any)["doc"].(string), "raft.md") {
		t.Fatalf("search hits: %v", hits)
	}
	ans := decode(t, mustRun("ask", "How does Raft elect a leader?", "--json"))
	if ans["abstained"].(bool) || !strings.Contains(ans["answer"].(string), "majority") {
		t.Fatalf("ask: %v", ans)
	}
	status := decode(t, mustRun("status", "--verify", "--json"))
	if status["documents"].(float64) != 2 {
		t.Fatalf("status: %v", status)
	}
	// Incremental: nothing changed, nothing written.
	if again := decode(t, mustRun("ingest", docs, "--json")); again["unchanged"].(float64) != 2 {
		t.Fatalf("second ingest: %v", again)
	}

	data := "../../examples/scifact-mini"
	onWeaviate := decode(t, mustRun("eval", "run", data, "--json"))["metrics"].(map[string]any)["ndcg@10"].(float64)
	embedded, errOut, code := cli(t, initProject(t), "eval", "run", data, "--json")
	if code != 0 {
		t.Fatalf("embedded eval: %s", errOut)
	}
	local := decode(t, embedded)["metrics"].(map[string]any)["ndcg@10"].(float64)
	if d := onWeaviate - local; d > 0.05 || d < -0.05 {
		t.Fatalf("nDCG@10 on Weaviate %.4f vs embedded %.4f", onWeaviate, local)
	}
	t.Logf("scifact-mini nDCG@10: weaviate %.4f, embedded %.4f", onWeaviate, local)
}

// TestLocalCommandsWithClusterDown configures the Weaviate backend at an
// address where nothing listens: the commands that only touch the local
// project database (fine-tuning jobs, advise, eval history) must work,
// and a search, or a keys command (the keys live in the cluster, shared
// by every serve replica), must fail naming the address.
func TestLocalCommandsWithClusterDown(t *testing.T) {
	dir := initProject(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	env := []string{"HOME=" + dir, "RAGTUNE_STORE=weaviate", "RAGTUNE_WEAVIATE_URL=" + down}
	wv := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(t.Context(), append([]string{"--config", filepath.Join(dir, "ragtune.toml")}, args...), streams{stdout: &out, stderr: &errb}, env)
		return out.String(), errb.String(), code
	}
	for _, args := range [][]string{
		{"tune", "list", "--json"},
		{"advise", "--knowledge-changes", "yes", "--behavior-change", "no", "--attribution", "yes", "--json"},
		{"eval", "history", "--json"},
	} {
		if _, errOut, code := wv(args...); code != 0 {
			t.Errorf("%v with the cluster down: exit %d: %s", args, code, errOut)
		}
	}
	for _, args := range [][]string{{"search", "anything"}, {"keys", "add", "laptop", "--scope", "read"}, {"keys", "list"}} {
		_, errOut, code := wv(args...)
		if code != exitFailure || !strings.Contains(errOut, ln.Addr().String()) {
			t.Errorf("%v with the cluster down: exit %d, %q; want exit 1 naming %s", args, code, errOut, down)
		}
	}
}
