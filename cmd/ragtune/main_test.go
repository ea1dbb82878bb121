package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus/sqlite"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/finetune/finetunetest"
	"github.com/ragtune/ragtune/internal/rerank/reranktest"
	"github.com/ragtune/ragtune/internal/store"
)

// TestMain lets the test binary act as the ragtune binary, so reliability
// tests can run it as a separate process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("RAGTUNE_TEST_AS_CLI") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr}, os.Environ())
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// cli runs ragtune in-process in dir and returns stdout, stderr and the
// exit code.
func cli(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := []string{"HOME=" + dir}
	// The model is installed once per user (make model), not per test.
	env = append(env, "RAGTUNE_MODEL_DIR="+embed.DefaultModelDir(os.Getenv))
	code := run(t.Context(), append([]string{"--config", filepath.Join(dir, "ragtune.toml")}, args...), streams{stdout: &out, stderr: &errb}, env)
	return out.String(), errb.String(), code
}

// process starts ragtune as a child process in dir.
func process(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--config", filepath.Join(dir, "ragtune.toml")}, args...)...)
	cmd.Env = append(os.Environ(), "RAGTUNE_TEST_AS_CLI=1")
	cmd.Dir = dir
	return cmd
}

func initProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, errOut, code := cli(t, dir, "init"); code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	return dir
}

func copyDocs(t *testing.T, dir string) {
	t.Helper()
	if err := os.CopyFS(filepath.Join(dir, "docs"), os.DirFS("../../docs")); err != nil {
		t.Fatal(err)
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

func hasKeys(t *testing.T, what string, v map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := v[k]; !ok {
			t.Errorf("%s lacks %q: %v", what, k, v)
		}
	}
}

func TestJSONContracts(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	out, _, code := cli(t, dir, "ingest", filepath.Join(dir, "docs"), "--json")
	if code != 0 {
		t.Fatalf("ingest exit %d", code)
	}
	ing := decode(t, out)
	hasKeys(t, "ingest", ing, "added", "updated", "unchanged", "deleted", "skipped", "failed", "chunks")
	docs, _ := filepath.Glob("../../docs/*.md")
	if int(ing["added"].(float64)) != len(docs) || ing["chunks"].(float64) < float64(len(docs)) {
		t.Errorf("ingest = %v", ing)
	}

	out, _, code = cli(t, dir, "search", "unchanged file skipped", "--json")
	if code != 0 {
		t.Fatalf("search exit %d", code)
	}
	hits := decode(t, out)["hits"].([]any)
	if len(hits) == 0 {
		t.Fatal("no hits")
	}
	first := hits[0].(map[string]any)
	hasKeys(t, "hit", first, "rank", "score", "doc", "chunk_id", "heading", "text")
	if first["rank"].(float64) != 1 || first["doc"] != "docs/concepts.md" {
		t.Errorf("first hit = %v", first)
	}

	out, _, code = cli(t, dir, "ask", "Why is an unchanged file skipped on the next ingest?", "--json")
	if code != 0 {
		t.Fatalf("ask exit %d", code)
	}
	ans := decode(t, out)
	hasKeys(t, "ask", ans, "answer", "abstained", "abstain_reason", "citations", "retrieved")
	if ans["abstained"] != false || ans["abstain_reason"] != nil || !strings.Contains(ans["answer"].(string), "[1]") {
		t.Errorf("ask = %v", ans)
	}
	cit := ans["citations"].([]any)[0].(map[string]any)
	hasKeys(t, "citation", cit, "n", "doc", "chunk_id", "heading", "lines")
	if lines := cit["lines"].([]any); len(lines) != 2 || lines[0].(float64) < 1 || lines[1].(float64) < lines[0].(float64) {
		t.Errorf("citation lines = %v", lines)
	}

	out, _, _ = cli(t, dir, "ask", "Who designed the ragtune logo?", "--json")
	dec := decode(t, out)
	if dec["answer"] != "I do not have information about that." || dec["abstained"] != true || dec["abstain_reason"] == nil {
		t.Errorf("unanswerable question = %v", dec)
	}
	if c := dec["citations"].([]any); len(c) != 0 {
		t.Errorf("declined answer has citations %v", c)
	}

	out, _, code = cli(t, dir, "status", "--json")
	st := decode(t, out)
	hasKeys(t, "status", st, "documents", "chunks", "store_bytes", "index_identity")
	if code != 0 || int(st["documents"].(float64)) != len(docs) {
		t.Errorf("status = %v (exit %d)", st, code)
	}
}

func TestExitCodes(t *testing.T) {
	dir := initProject(t)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"search"}, exitUsage, "needs a query"},
		{[]string{"ask", "x", "--mode", "sideways"}, exitUsage, "unknown retrieval mode"},
		{[]string{"ingest", "--chunk-size", "lots", "x"}, exitUsage, "invalid argument"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"ingest", filepath.Join(dir, "missing")}, exitUsage, "missing does not exist"},
		{[]string{"eval", "run", filepath.Join(dir, "no-such-set")}, exitUsage, "no-such-set does not exist"},
		{[]string{"eval", "compare", "--grid", "nogrid.toml"}, exitUsage, "nogrid.toml does not exist"},
		{[]string{"eval", "arms", "../../examples/squad-mini/qa.jsonl", "--against", "rag"}, exitUsage, "--against must be one of base, base+rag"},
		{[]string{"ingest", dir, "--dry-run"}, exitUsage, "--dry-run goes with --prune"},
		{[]string{"keys", "remove", "laptop"}, exitUsage, "did you mean revoke?"},
		{[]string{"eval", "bogus"}, exitUsage, "it has: arms, compare, diff, feedback, generate, history, review, run"},
		{[]string{"tune", "embedings"}, exitUsage, "did you mean embeddings?"},
		{[]string{"store", "bogus"}, exitUsage, "it has: migrate"},
		{[]string{"keys", "revoke", "nobody"}, exitUsage, `no API key is called "nobody"`},
		{[]string{"ask", "anything", "--mode", "dense"}, exitFailure, "need embeddings"},
		{[]string{"--store", filepath.Join(dir, "nowhere"), "status"}, exitFailure, "run `ragtune init`"},
	}
	for _, tc := range tests {
		_, errOut, code := cli(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("ragtune %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
	_, errOut, code := cli(t, dir, "search", "--json")
	if code != exitUsage || decode(t, errOut)["exit_code"].(float64) != exitUsage {
		t.Errorf("--json error: exit %d, stderr %q", code, errOut)
	}
}

// writeCorpus writes n text files of pseudo-random prose: enough work that an
// ingest takes a while and can be interrupted part-way.
func writeCorpus(t *testing.T, dir string, n int) {
	t.Helper()
	words := strings.Fields("key rotation backup restore cluster node shard replica index query latency token chunk " +
		"vector lexical answer citation source document heading section policy schedule storage engine")
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "# Document %d\n\n", i)
		for p := range 6 {
			for range 60 {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "marker%d para%d.\n\n", i, p)
		}
		p := filepath.Join(dir, "docs", fmt.Sprintf("d%02d", i%20), fmt.Sprintf("doc%04d.md", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type docState struct {
	Path   string `json:"path"`
	Hash   string `json:"hash"`
	Chunks int    `json:"chunks"`
}

func storedDocs(t *testing.T, dir string) []docState {
	t.Helper()
	out, errOut, code := cli(t, dir, "status", "--documents", "--json")
	if code != 0 {
		t.Fatalf("status: %s", errOut)
	}
	var st struct {
		Docs []docState `json:"document_list"`
	}
	json.Unmarshal([]byte(out), &st)
	return st.Docs
}

func verify(t *testing.T, dir string) {
	t.Helper()
	c, err := sqlite.Open(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	problems, err := c.Verify(t.Context())
	if err != nil || len(problems) > 0 {
		t.Fatalf("store inconsistent: %v %q", err, problems)
	}
}

// TestKillDuringIngest kills ingest with SIGKILL at random moments. Each
// time the store must be consistent, and a final rerun must produce exactly
// what an uninterrupted ingest produces.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const files = 1500
	// A first, finished ingest leaves a keyword index file, so the
	// killed ones also test its change log (verify compares the index
	// with the full-text index each round).
	seed := func(dir string) {
		os.MkdirAll(filepath.Join(dir, "seed"), 0o755)
		for i := range 3 {
			os.WriteFile(filepath.Join(dir, "seed", fmt.Sprintf("s%d.md", i)), []byte(fmt.Sprintf("# Seed %d\n\nkey rotation runs weekly on node %d.\n", i, i)), 0o644)
		}
		if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "seed")); code != 0 {
			t.Fatalf("seed ingest: %s", errOut)
		}
	}
	ref := initProject(t)
	writeCorpus(t, ref, files)
	seed(ref)
	if _, errOut, code := cli(t, ref, "ingest", filepath.Join(ref, "docs")); code != 0 {
		t.Fatalf("reference ingest: %s", errOut)
	}
	want := storedDocs(t, ref)

	dir := initProject(t)
	writeCorpus(t, dir, files)
	seed(dir)
	if _, err := os.Stat(filepath.Join(dir, ".ragtune", "keywords.bm25")); err != nil {
		t.Fatalf("no keyword index after a finished ingest: %v", err)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	partial := 0
	for round := range 4 {
		cmd := process(t, dir, "ingest", "docs", "--quiet")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(50+r.IntN(600)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		verify(t, dir)
		n := len(storedDocs(t, dir))
		t.Logf("round %d: killed after %v with %d/%d documents stored", round, delay, n, files)
		if n < files {
			partial++
		}
	}
	if partial == 0 {
		t.Log("every ingest finished before its kill; the kill moments missed the work")
	}
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatalf("final ingest: %s", errOut)
	}
	verify(t, dir)
	got := storedDocs(t, dir)
	if len(got) != len(want) {
		t.Fatalf("after recovery %d documents, uninterrupted run %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("document %d differs: %+v vs %+v", i, got[i], want[i])
		}
	}
}

// TestSearchDuringIngest searches from this process while another process
// ingests into the same store.
func TestSearchDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := initProject(t)
	writeCorpus(t, dir, 1500)
	cmd := process(t, dir, "ingest", "docs", "--quiet")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	searches, withHits := 0, 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ingest failed: %v\n%s", err, errb.String())
			}
			if searches == 0 {
				t.Fatal("ingest finished before any search ran")
			}
			t.Logf("%d searches during ingest, %d with hits", searches, withHits)
			return
		default:
		}
		out, errOut, code := cli(t, dir, "search", "rotation replica", "--json")
		if code != 0 {
			t.Fatalf("search during ingest failed (exit %d): %s", code, errOut)
		}
		searches++
		if len(decode(t, out)["hits"].([]any)) > 0 {
			withHits++
		}
	}
}

func TestEvalRunContractAndGates(t *testing.T) {
	dir := initProject(t)
	data := "../../examples/scifact-mini"
	runFile := filepath.Join(dir, "run.trec")
	out, errOut, code := cli(t, dir, "eval", "run", data, "--json", "--run-file", runFile, "--fail-under", "ndcg@10=0.3")
	if code != 0 {
		t.Fatalf("eval run exit %d: %s", code, errOut)
	}
	res := decode(t, out)
	hasKeys(t, "eval run", res, "dataset", "queries", "mode", "metrics", "run_file")
	hasKeys(t, "metrics", res["metrics"].(map[string]any), "ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100")
	if res["queries"].(float64) != 12 || res["mode"] != "lexical" || res["run_file"] != runFile {
		t.Errorf("eval run = %v", res)
	}
	if fi, err := os.Stat(runFile); err != nil || fi.Size() == 0 {
		t.Errorf("run file: %v", err)
	}
	_, errOut, code = cli(t, dir, "eval", "run", data, "--run-file", runFile, "--fail-under", "ndcg@10=0.99")
	if code != exitGate || !strings.Contains(errOut, "ndcg@10") {
		t.Errorf("failing gate: exit %d, %s", code, errOut)
	}
	// A misspelt gate is a usage error before any work, not a failed gate after it.
	_, errOut, code = cli(t, dir, "eval", "run", data, "--run-file", runFile, "--fail-under", "ndcg@10=0.3,recal@10=0.1")
	if code != exitUsage || !strings.Contains(errOut, `unknown metric "recal@10"`) {
		t.Errorf("misspelt gate: exit %d, %s", code, errOut)
	}
	if _, _, code = cli(t, dir, "eval", "run", data, "--fail-under", "ndcg"); code != exitUsage {
		t.Errorf("malformed gate: exit %d, want %d", code, exitUsage)
	}
}

func TestEvalHistoryAndDiff(t *testing.T) {
	dir := initProject(t)
	data := "../../examples/scifact-mini"
	var ids []string
	for _, size := range []string{"256", "64"} {
		out, errOut, code := cli(t, dir, "eval", "run", data, "--json", "--run-file", filepath.Join(dir, size+".trec"))
		if code != 0 {
			t.Fatalf("eval run: %s", errOut)
		}
		ids = append(ids, decode(t, out)["run_id"].(string))
		os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte("[chunk]\nsize = 64\noverlap = 8\n"), 0o644)
	}
	out, _, code := cli(t, dir, "eval", "history", "--json")
	runs := decode(t, out)["runs"].([]any)
	if code != 0 || len(runs) != 2 || runs[0].(map[string]any)["id"] != ids[1] {
		t.Fatalf("history (newest first) = %v, ids %v", runs, ids)
	}
	out, _, code = cli(t, dir, "eval", "diff", ids[0], ids[1], "--json")
	d := decode(t, out)
	changes := d["config_changes"].(map[string]any)
	if code != 0 || changes["chunk_size"] == nil || d["same_corpus"] != true || len(d["metrics"].([]any)) < 5 {
		t.Errorf("diff = %v", d)
	}
	// The paired test covers every query both runs scored.
	test := d["test"].(map[string]any)
	moved := func(k string) int { v, _ := d[k].([]any); return len(v) } // null when none
	scored := moved("improved") + moved("worsened") + int(d["unchanged"].(float64))
	if test["metric"] != "ndcg@10" || int(test["queries"].(float64)) != scored || scored == 0 {
		t.Errorf("diff test %v over %d queries", test, scored)
	}
	if out, _, _ := cli(t, dir, "eval", "diff", ids[0], ids[1]); !strings.Contains(out, "significant at 0.05") {
		t.Errorf("diff text says nothing of significance:\n%s", out)
	}
	if _, errOut, code := cli(t, dir, "eval", "diff", ids[0], "nope"); code != exitUsage || !strings.Contains(errOut, "no such eval run") {
		t.Errorf("diff with unknown run: exit %d %s", code, errOut)
	}
}

func TestEvalCompareWithReport(t *testing.T) {
	dir := initProject(t)
	data, _ := filepath.Abs("../../examples/squad-mini")
	grid := filepath.Join(dir, "grid.toml")
	os.WriteFile(grid, []byte(fmt.Sprintf("qa = %q\ncorpus = %q\nprimary = \"contains\"\ntie_break = \"abstention_f1\"\n[grid]\n\"answer.max_sentences\" = [1, 2]\n\"retrieve.k\" = [3, 4]\n",
		filepath.Join(data, "qa.jsonl"), data)), 0o644)
	out, errOut, code := cli(t, dir, "eval", "compare", "--grid", grid, "--report", filepath.Join(dir, "report"), "--json")
	if code != 0 {
		t.Fatalf("compare exit %d: %s", code, errOut)
	}
	cmp := decode(t, out)["comparison"].(map[string]any)
	cells := cmp["cells"].([]any)
	if len(cells) != 4 || cmp["winner"] == "" || cmp["reason"] == "" {
		t.Fatalf("comparison = %v", cmp)
	}
	first, second := cells[0].(map[string]any)["metrics"].(map[string]any), cells[1].(map[string]any)["metrics"].(map[string]any)
	if first["contains"].(float64) < second["contains"].(float64) {
		t.Errorf("cells not ranked by contains: %v then %v", first["contains"], second["contains"])
	}
	// The winner's lead is tested: a tie names the cells not
	// significantly worse, a significant lead names none; the runner-up
	// carries its p-value against the best.
	tied, _ := cmp["tied_with"].([]any)
	if cmp["tie"] == cmp["significant"] || (cmp["tie"] == true) != (len(tied) > 0) || (cmp["tie"] == true) != strings.HasPrefix(cmp["reason"].(string), "tie:") {
		t.Errorf("tie %v, significant %v, tied with %v, reason %q", cmp["tie"], cmp["significant"], tied, cmp["reason"])
	}
	runnerUp := cells[1].(map[string]any)
	if p, ok := runnerUp["p_value_vs_best"].(float64); !ok || p <= 0 || p > 1 || runnerUp["ci"].(map[string]any)["contains"] == nil {
		t.Errorf("runner-up: %v", runnerUp)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report", "compare.html"))
	page := string(html)
	if err != nil || !strings.Contains(page, "<svg") || strings.Contains(page, "<script") || strings.Contains(page, "src=") || strings.Contains(page, "<link") {
		t.Errorf("compare.html must be self-contained with inline SVG: %v", err)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "report", "compare.md")); err != nil || !strings.Contains(string(md), "**Winner:**") || !strings.Contains(string(md), "| contains [95% CI] |") {
		t.Errorf("compare.md: %v", err)
	}
	out, _, _ = cli(t, dir, "eval", "history", "--json")
	if n := len(decode(t, out)["runs"].([]any)); n != 4 {
		t.Errorf("history has %d runs, want the 4 grid cells", n)
	}
}

// TestDenseAndHybrid ingests with the built-in embedder and searches by
// vectors and by both; then checks that a store built with one embedder
// refuses queries from another.
func TestDenseAndHybrid(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	env := "[embed]\nprovider = \"builtin\"\n"
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(env), 0o644)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatalf("ingest with embeddings: %s", errOut)
	}
	verify(t, dir)
	for _, mode := range []string{"dense", "hybrid"} {
		out, errOut, code := cli(t, dir, "search", "How are sentences weighted when deciding to decline?", "--mode", mode, "--json")
		if code != 0 {
			t.Fatalf("%s search: %s", mode, errOut)
		}
		hits := decode(t, out)["hits"].([]any)
		if len(hits) != 4 || hits[0].(map[string]any)["rank"].(float64) != 1 {
			t.Errorf("%s hits = %v", mode, hits)
		}
	}
	st, err := store.Open(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	st.SetMeta(t.Context(), "embedder", "another-model@1")
	st.Close()
	_, errOut, code := cli(t, dir, "search", "anything", "--mode", "dense")
	if code != exitFailure || !strings.Contains(errOut, "another-model@1") {
		t.Errorf("mismatched embedder: exit %d, %s", code, errOut)
	}
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != exitFailure || !strings.Contains(errOut, "bound to another-model@1") {
		t.Errorf("ingest into a store of another embedder: exit %d, %s", code, errOut)
	}
}

func TestTagFilters(t *testing.T) {
	dir := initProject(t)
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "keys.md"), []byte("---\ntags: [Security]\n---\n# Keys\n\nRotate signing keys every ninety days.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "backups.md"), []byte("# Backups\n\nBackups of signing keys run nightly.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b", "other.md"), []byte("# Other\n\nOther teams rotate signing keys too.\n"), 0o644)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "a"), "--tag", "handbook"); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "b")); code != 0 {
		t.Fatal(errOut)
	}
	docs := func(args ...string) []string {
		out, errOut, code := cli(t, dir, append([]string{"search", "signing keys", "--json"}, args...)...)
		if code != 0 {
			t.Fatal(errOut)
		}
		var got []string
		for _, h := range decode(t, out)["hits"].([]any) {
			got = append(got, h.(map[string]any)["doc"].(string))
		}
		return got
	}
	if got := docs(); len(got) != 3 {
		t.Fatalf("unfiltered hits %v", got)
	}
	if got := docs("--tag", "handbook"); len(got) != 2 || strings.HasPrefix(got[0], "b/") || strings.HasPrefix(got[1], "b/") {
		t.Errorf("--tag handbook: %v", got)
	}
	if got := docs("--tag", "handbook", "--tag", "security"); len(got) != 1 || got[0] != "a/keys.md" {
		t.Errorf("two tags: %v", got)
	}
	out, _, _ := cli(t, dir, "status", "--documents", "--json")
	if !strings.Contains(out, `"security"`) {
		t.Errorf("status does not list front-matter tags: %s", out)
	}
}

// TestAskWithChatModel answers through an OpenAI-compatible streaming
// endpoint (an httptest server speaking the SSE wire format).
func TestAskWithChatModel(t *testing.T) {
	var gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"An unchanged file is skipped", " on the next ingest [1].", " The logo is purple [1]."} {
			b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": piece}, "finish_reason": nil}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":900,"completion_tokens":12,"total_tokens":912}}`+"\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	dir := initProject(t)
	copyDocs(t, dir)
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(fmt.Sprintf("[generate.openai]\nbase_url = %q\napi_key_env = \"MY_LLM_KEY\"\n", srv.URL+"/v1")), 0o644)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"--config", filepath.Join(dir, "ragtune.toml"), "ask", "Why is an unchanged file skipped on the next ingest?", "--model", "m", "--json"},
		streams{stdout: &out, stderr: &errb}, []string{"HOME=" + dir, "MY_LLM_KEY=sk-abc"})
	if code != 0 {
		t.Fatalf("ask --model: %s", errb.String())
	}
	res := decode(t, out.String())
	if res["generator"] != "openai:m" || !strings.Contains(res["answer"].(string), "[1]") || len(res["citations"].([]any)) != 1 {
		t.Errorf("answer = %v", res)
	}
	if u := res["usage"].(map[string]any); u["prompt_tokens"].(float64) != 900 {
		t.Errorf("usage = %v", u)
	}
	if gotKey != "Bearer sk-abc" {
		t.Errorf("key header %q", gotKey)
	}
	// In the text output, the sentence whose citation was dropped is marked.
	out.Reset()
	errb.Reset()
	run(t.Context(), []string{"--config", filepath.Join(dir, "ragtune.toml"), "ask", "Why is an unchanged file skipped on the next ingest?", "--model", "m"},
		streams{stdout: &out, stderr: &errb}, []string{"HOME=" + dir, "MY_LLM_KEY=sk-abc"})
	if text := out.String(); !strings.Contains(text, "The logo is purple. [no source]") || !strings.Contains(text, "1 citation(s) removed") {
		t.Errorf("text answer does not mark the unsupported sentence:\n%s", text)
	}
	if cfg, _ := os.ReadFile(filepath.Join(dir, "ragtune.toml")); strings.Contains(string(cfg), "sk-abc") {
		t.Error("the API key was written to the config file")
	}
	// The same model answers a QA eval; its token usage is measured.
	data, _ := filepath.Abs("../../examples/squad-mini")
	out.Reset()
	errb.Reset()
	code = run(t.Context(), []string{"--config", filepath.Join(dir, "ragtune.toml"), "eval", "run", filepath.Join(data, "qa.jsonl"), "--corpus", data,
		"--limit", "3", "--model", "m", "--json"}, streams{stdout: &out, stderr: &errb}, []string{"HOME=" + dir, "MY_LLM_KEY=sk-abc"})
	if code != 0 {
		t.Fatalf("eval --model: %s", errb.String())
	}
	ev := decode(t, out.String())
	if ev["generator"] != "openai:m" || ev["answer"].(map[string]any)["tokens_in"].(float64) != 900 {
		t.Errorf("eval with a chat model: %v", ev)
	}
	// The model's own declines are measured as the built-in answerer's
	// are; it gives no answerability score to rank by.
	a := ev["answer"].(map[string]any)
	for _, k := range []string{"abstain_rate_answerable", "abstain_rate_unanswerable", "answer_or_decline_accuracy", "squad2_f1"} {
		if _, ok := a[k].(float64); !ok {
			t.Errorf("eval with a chat model: %s = %v", k, a[k])
		}
	}
	if a["answerability_auc"] != nil {
		t.Errorf("a chat model has no answerability score, yet answerability_auc = %v", a["answerability_auc"])
	}
}

// TestServeProcess runs `ragtune serve` as a real process on loopback,
// queries it, and stops it with SIGTERM (graceful shutdown, exit 0).
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := cli(t, dir, "serve", "--insecure-local", "--addr", "0.0.0.0:0"); code != exitUsage || !strings.Contains(errOut, "loopback") {
		t.Errorf("insecure on all interfaces: exit %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, dir, "serve", "--insecure-local", "--collection", "hr"); code != exitUsage || !strings.Contains(errOut, "NAME=path") {
		t.Errorf("malformed --collection: exit %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, dir, "serve", "--insecure-local", "--collection", "hr="+filepath.Join(dir, "nope.toml")); code != exitFailure || !strings.Contains(errOut, "does not exist") {
		t.Errorf("missing collection config: exit %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, dir, "serve", "--addr", "127.0.0.1:0"); code != exitFailure || !strings.Contains(errOut, "keys add") {
		t.Errorf("serve without keys: exit %d %s", code, errOut)
	}
	cmd, url := startServe(t, dir, "--insecure-local")
	res, err := http.Post(url+"/v1/ask", "application/json", strings.NewReader(`{"question":"Why is an unchanged file skipped on the next ingest?"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || body["abstained"] != false {
		t.Errorf("ask over HTTP: %d %v", res.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("graceful shutdown: %v", err)
	}
}

func TestBenchAndVerify(t *testing.T) {
	dir := initProject(t)
	out, errOut, code := cli(t, dir, "bench", "../../examples/scifact-mini", "--json")
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	rep := decode(t, out)
	hasKeys(t, "bench", rep, "ingest", "search", "ask", "heap_mib", "documents", "search_yardstick", "x_yardstick")
	if rep["documents"].(float64) != 71 || rep["search"].(map[string]any)["queries"].(float64) != 12 {
		t.Errorf("bench = %v", rep)
	}
	// Lexical search is reported against FTS5's own top-k on the same
	// queries, measured in the same run.
	if y := rep["search_yardstick"].(map[string]any); y["queries"].(float64) != 12 || rep["x_yardstick"].(float64) <= 0 {
		t.Errorf("bench yardstick = %v, x %v", y, rep["x_yardstick"])
	}
	out, _, code = cli(t, dir, "status", "--verify", "--json")
	if code != 0 || len(decode(t, out)["problems"].([]any)) != 0 {
		t.Errorf("verify on a fresh store: exit %d %s", code, out)
	}
}

func TestAdvise(t *testing.T) {
	dir := initProject(t)
	out, errOut, code := cli(t, dir, "advise", "--knowledge-changes", "yes", "--behavior-change", "yes", "--attribution", "no", "--monthly-requests", "5000", "--json")
	if code != 0 {
		t.Fatalf("advise: %s", errOut)
	}
	res := decode(t, out)
	hasKeys(t, "advise", res, "recommendation", "reasons", "next_step", "monthly_cost_usd", "break_even_requests_per_month")
	costs := res["monthly_cost_usd"].(map[string]any)
	if res["recommendation"] != "hybrid" || costs["rag"].(float64) >= costs["fine-tune"].(float64) {
		t.Errorf("advise = %v", res)
	}
	if _, errOut, code := cli(t, dir, "advise", "--knowledge-changes", "maybe"); code != exitUsage || !strings.Contains(errOut, "yes or no") {
		t.Errorf("bad answer: exit %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, dir, "advise", "--knowledge-changes", "no"); code != exitUsage || !strings.Contains(errOut, "--behavior-change") {
		t.Errorf("missing answers without a terminal: exit %d %s", code, errOut)
	}
	// With a QA eval run whose answers are poor, retrieval comes first.
	data, _ := filepath.Abs("../../examples/squad-mini")
	out, _, _ = cli(t, dir, "eval", "run", filepath.Join(data, "qa.jsonl"), "--corpus", data, "--json")
	run := decode(t, out)["run_id"].(string)
	out, errOut, code = cli(t, dir, "advise", "--knowledge-changes", "no", "--behavior-change", "yes", "--attribution", "no", "--from-eval", run, "--json")
	if code != 0 || !strings.Contains(out, run) {
		t.Fatalf("advise --from-eval: exit %d %s %s", code, out, errOut)
	}
}

// TestAdviseFromIngestHistory: every ingest is recorded, and a history of
// frequent changes answers the knowledge question and sets the retraining
// rate of the fine-tuning cost.
func TestAdviseFromIngestHistory(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	st, err := store.Open(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.IngestRuns(t.Context())
	if err != nil || len(runs) != 1 || runs[0].Added == 0 || runs[0].Documents != runs[0].Added {
		t.Fatalf("ingest history %+v %v", runs, err)
	}
	// Two more months of weekly ingests, every other one changing a file.
	root := runs[0].Root
	for week := 1; week <= 8; week++ {
		st.RecordIngest(t.Context(), store.IngestRun{FinishedAt: runs[0].FinishedAt.AddDate(0, 0, 7*week), Root: root, Updated: week % 2, Documents: runs[0].Documents})
	}
	st.Close()
	advise := func(args ...string) map[string]any {
		out, errOut, code := cli(t, dir, append([]string{"advise", "--behavior-change", "no", "--attribution", "no", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("advise: exit %d %s", code, errOut)
		}
		return decode(t, out)
	}
	res := advise()
	churn := res["churn"].(map[string]any)
	if churn["changing_ingests"].(float64) != 4 || res["answers"].(map[string]any)["knowledge_changes"] != true || res["recommendation"] != "rag" {
		t.Errorf("history of 4 changes in 8 weeks: %v", res)
	}
	if !strings.Contains(fmt.Sprint(res["reasons"]), "ingest history") || res["workload"].(map[string]any)["retrains_per_year"].(float64) != 12 {
		t.Errorf("reasons/workload: %v %v", res["reasons"], res["workload"])
	}
	if res := advise("--ingest-history=false", "--knowledge-changes", "no"); res["churn"] != nil || res["workload"].(map[string]any)["retrains_per_year"].(float64) != 0 {
		t.Errorf("--ingest-history=false still read it: %v", res)
	}
}

func TestTunePrepare(t *testing.T) {
	dir := initProject(t)
	in, _ := filepath.Abs("../../internal/finetune/testdata/examples.jsonl")
	out, _, code := cli(t, dir, "tune", "prepare", in, "--out", filepath.Join(dir, "ft"), "--json")
	rep := decode(t, out)
	hasKeys(t, "tune prepare", rep, "examples", "valid", "errors", "warnings", "tokens", "epochs", "billed_tokens", "estimated_cost_usd", "files")
	if code != exitFailure || len(rep["errors"].([]any)) != 8 || len(rep["files"].(map[string]any)) != 0 {
		t.Errorf("invalid lines must fail without writing: exit %d, %v", code, rep)
	}
	out, _, code = cli(t, dir, "tune", "prepare", in, "--out", filepath.Join(dir, "ft"), "--drop-invalid", "--json")
	files := decode(t, out)["files"].(map[string]any)
	if code != 0 || files["train"] == nil || files["modelfile"] == nil {
		t.Errorf("--drop-invalid: exit %d, files %v", code, files)
	}
}

// TestTuneJobs runs start, status --follow, events, list and cancel
// against a fake of the fine-tuning API; the job survives in the store
// and its fine-tuned model is listed.
func TestTuneJobs(t *testing.T) {
	fake := finetunetest.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := initProject(t)
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(fmt.Sprintf("[generate.openai]\nbase_url = %q\napi_key_env = \"FT_KEY\"\n", srv.URL+"/v1")), 0o644)
	train := filepath.Join(dir, "train.jsonl")
	os.WriteFile(train, []byte(`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}`+"\n"), 0o644)
	ft := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(t.Context(), append([]string{"--config", filepath.Join(dir, "ragtune.toml")}, args...), streams{stdout: &out, stderr: &errb},
			[]string{"HOME=" + dir, "FT_KEY=sk-test"})
		return out.String(), errb.String(), code
	}
	out, errOut, code := ft("tune", "start", train, "--suffix", "support", "--json")
	if code != 0 {
		t.Fatalf("start: %s", errOut)
	}
	id := decode(t, out)["id"].(string)
	out, errOut, code = ft("tune", "status", id, "--follow", "--every", "1ms", "--json")
	job := decode(t, out)
	if code != 0 || job["status"] != "succeeded" || job["fine_tuned_model"] == "" {
		t.Fatalf("status --follow: exit %d %v %s", code, job, errOut)
	}
	out, _, _ = ft("tune", "list", "--json")
	if jobs := decode(t, out)["jobs"].([]any); len(jobs) != 1 || jobs[0].(map[string]any)["fine_tuned_model"] != job["fine_tuned_model"] {
		t.Errorf("list: %v", jobs)
	}
	out, _, _ = ft("tune", "events", id, "--json")
	if evs := decode(t, out)["events"].([]any); len(evs) != 5 {
		t.Errorf("events: %v", evs)
	}
	out, _, _ = ft("tune", "start", train, "--suffix", "broken", "--json")
	bad := decode(t, out)["id"].(string)
	if _, errOut, code := ft("tune", "status", bad, "--follow", "--every", "1ms"); code != exitFailure || !strings.Contains(errOut, "no assistant") {
		t.Errorf("failed job: exit %d %s", code, errOut)
	}
	out, _, _ = ft("tune", "start", train, "--json")
	other := decode(t, out)["id"].(string)
	if out, errOut, code := ft("tune", "cancel", other, "--json"); code != 0 || decode(t, out)["status"] != "cancelled" {
		t.Errorf("cancel: exit %d %s %s", code, out, errOut)
	}
	dpo := filepath.Join(dir, "dpo.jsonl")
	os.WriteFile(dpo, []byte(`{"input":{"messages":[{"role":"user","content":"q"}]},"preferred_output":[{"role":"assistant","content":"good [1]"}],"non_preferred_output":[{"role":"assistant","content":"bad"}]}`+"\n"), 0o644)
	out, errOut, code = ft("tune", "start", dpo, "--beta", "0.2", "--epochs", "2", "--json")
	if code != 0 || decode(t, out)["method"] != "dpo" {
		t.Fatalf("DPO start: exit %d %s %s", code, out, errOut)
	}
	body := fake.Created[len(fake.Created)-1]
	m := body["method"].(map[string]any)
	hp := m["dpo"].(map[string]any)["hyperparameters"].(map[string]any)
	if m["type"] != "dpo" || hp["beta"] != 0.2 || hp["n_epochs"] != 2.0 {
		t.Errorf("job request method %v", m)
	}
	if _, errOut, code := ft("tune", "start", train, "--method", "dpo"); code != exitUsage || !strings.Contains(errOut, "holds supervised examples") {
		t.Errorf("--method dpo on chat data: exit %d %s", code, errOut)
	}
	if _, errOut, code := ft("tune", "status", "ftjob-unknown"); code != exitUsage || !strings.Contains(errOut, "no such fine-tuning job") {
		t.Errorf("unknown job: exit %d %s", code, errOut)
	}
}

func TestTunePrepareWithContext(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	var lines []string
	for i := range 12 {
		lines = append(lines, fmt.Sprintf(`{"question":"Why is an unchanged file skipped (%d)?","answer":"An unchanged file is skipped on the next ingest because its SHA-256 hash is the same."}`, i))
	}
	in := filepath.Join(dir, "pairs.jsonl")
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	out, errOut, code := cli(t, dir, "tune", "prepare", in, "--with-context", "--leave-out", "0", "--out", filepath.Join(dir, "ft"), "--json")
	if code != 0 {
		t.Fatalf("prepare --with-context: %s %s", out, errOut)
	}
	train, _ := os.ReadFile(decode(t, out)["files"].(map[string]any)["train"].(string))
	if !strings.Contains(string(train), "Context passages:") || !strings.Contains(string(train), "docs/concepts.md") || !strings.Contains(string(train), "same. [") {
		t.Errorf("training data lacks passages or citations:\n%.600s", train)
	}
}

func TestKeys(t *testing.T) {
	dir := initProject(t)
	out, errOut, code := cli(t, dir, "keys", "add", "ci", "--scope", "read", "--json")
	if code != 0 || !strings.HasPrefix(decode(t, out)["key"].(string), "rt_") {
		t.Fatalf("keys add: exit %d %s %s", code, out, errOut)
	}
	if _, errOut, code := cli(t, dir, "keys", "add", "ci"); code != exitUsage || !strings.Contains(errOut, "exists already") {
		t.Errorf("duplicate key name: exit %d %s", code, errOut)
	}
	out, _, _ = cli(t, dir, "keys", "list", "--json")
	keys := decode(t, out)["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["name"] != "ci" || strings.Contains(out, "rt_") {
		t.Errorf("keys list must show names and scopes, never keys: %s", out)
	}
	if out, errOut, code := cli(t, dir, "keys", "revoke", "ci", "--json"); code != 0 || decode(t, out)["revoked"] != "ci" {
		t.Fatalf("keys revoke: exit %d %s %s", code, out, errOut)
	}
	out, _, _ = cli(t, dir, "keys", "list", "--json")
	if n := len(decode(t, out)["keys"].([]any)); n != 0 {
		t.Errorf("%d keys left after revoking the only one", n)
	}
}

// TestTermDuringIngest sends SIGTERM to a running ingest: it must end
// within a few seconds, keep what it processed, say it was interrupted
// (exit 1, no file reported failed), and a rerun must finish the job.
func TestTermDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := initProject(t)
	// Enough files that the ingest is still running when the signal
	// comes (1,500 took 0.45 s here), and the signal early.
	const files = 6000
	writeCorpus(t, dir, files)
	cmd := process(t, dir, "ingest", "docs", "--quiet", "--workers", "1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	took := time.Since(sent)
	if took > 10*time.Second {
		t.Errorf("ingest took %s to stop after SIGTERM", took)
	}
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code == 0 || strings.Contains(out.String(), fmt.Sprintf("%d added", files)) {
		// Finished (and perhaps then killed while exiting) before the signal.
		t.Skip("the ingest finished before the signal; the machine is too fast for this test")
	}
	if code != exitFailure || !strings.Contains(errb.String(), "ingest interrupted") || strings.Contains(out.String(), "failed   ") {
		t.Fatalf("after SIGTERM: exit %d\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
	verify(t, dir)
	stored := len(storedDocs(t, dir))
	o, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs"), "--json")
	if code != 0 {
		t.Fatalf("rerun: exit %d %s", code, errOut)
	}
	rep := decode(t, o)
	if int(rep["added"].(float64))+int(rep["unchanged"].(float64)) != files || int(rep["unchanged"].(float64)) < stored-1 {
		t.Errorf("rerun after %d stored: %v", stored, rep)
	}
}

// TestRepairFullTextIndex damages the full-text index of a real store:
// plain status and ingest notice it (exit 1), status --verify lists it,
// store repair rebuilds it, and search works again.
func TestRepairFullTextIndex(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, ".ragtune", "ragtune.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Remove a chunk's terms from the index with the wrong text: the index
	// no longer matches its content.
	if _, err := db.Exec(`INSERT INTO chunks_fts(chunks_fts, rowid, title, text) SELECT 'delete', rowid, title, 'unrelated words entirely' FROM chunks LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM chunks_fts_data WHERE id IN (SELECT id FROM chunks_fts_data WHERE id > 10 LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, _, code := cli(t, dir, "status")
	if code != exitFailure || !strings.Contains(out, "problem    full-text index") {
		t.Fatalf("status on a damaged index: exit %d\n%s", code, out)
	}
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != exitFailure || !strings.Contains(errOut, "ragtune store repair") {
		t.Errorf("ingest into a damaged store: exit %d %s", code, errOut)
	}
	out, _, code = cli(t, dir, "status", "--verify", "--json")
	if code != exitFailure || len(decode(t, out)["problems"].([]any)) == 0 {
		t.Errorf("status --verify: exit %d %s", code, out)
	}
	if out, errOut, code := cli(t, dir, "store", "repair"); code != 0 {
		t.Fatalf("store repair: exit %d %s %s", code, out, errOut)
	}
	verify(t, dir)
	out, _, code = cli(t, dir, "search", "unchanged file skipped", "--json")
	if code != 0 || len(decode(t, out)["hits"].([]any)) == 0 {
		t.Errorf("search after repair: exit %d %s", code, out)
	}
}

// TestReadOnlyStore: a user who may read a store but not write it can
// search, ask and see its status; writes say why they cannot happen.
// As root (which may write anything) the commands run as "nobody".
func TestReadOnlyStore(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir, err := os.MkdirTemp("", "ragtune-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if _, errOut, code := cli(t, dir, "init"); code != 0 {
		t.Fatal(errOut)
	}
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	store := filepath.Join(dir, ".ragtune")
	os.Chmod(dir, 0o755)
	os.Chmod(store, 0o555)
	os.Chmod(filepath.Join(store, "ragtune.db"), 0o444)
	os.Chmod(filepath.Join(store, "keywords.bm25"), 0o444) // searches use the keyword index
	t.Cleanup(func() { os.Chmod(store, 0o700) })
	self, _ := os.Executable()
	bin := filepath.Join(dir, "ragtune.test")
	data, _ := os.ReadFile(self)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	asReader := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, append([]string{"--config", filepath.Join(dir, "ragtune.toml")}, args...)...)
		cmd.Env = []string{"RAGTUNE_TEST_AS_CLI=1", "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Skipf("cannot run as another user here: %v", err)
		}
		return out.String(), errb.String(), code
	}
	out, errOut, code := asReader("search", "unchanged file skipped", "--json")
	if code != 0 || len(decode(t, out)["hits"].([]any)) == 0 {
		t.Fatalf("search in a read-only store: exit %d %s %s", code, out, errOut)
	}
	if out, errOut, code := asReader("ask", "Why is an unchanged file skipped on the next ingest?"); code != 0 || !strings.Contains(out, "[1]") {
		t.Errorf("ask in a read-only store: exit %d %s %s", code, out, errOut)
	}
	if out, errOut, code := asReader("status"); code != 0 {
		t.Errorf("status of a read-only store: exit %d %s %s", code, out, errOut)
	}
	if _, errOut, code := asReader("ingest", filepath.Join(dir, "docs")); code != exitFailure || !strings.Contains(errOut, "may read the store but not write it") {
		t.Errorf("ingest into a read-only store: exit %d %s", code, errOut)
	}
	if _, errOut, code := asReader("keys", "add", "x"); code != exitFailure || !strings.Contains(errOut, "may read the store but not write it") {
		t.Errorf("keys add in a read-only store: exit %d %s", code, errOut)
	}
}

// TestCompareWithAReranker: a reranker is a setting in eval compare
// grids like any other; the grid runs with and without one (a fake TEI
// server on loopback scoring by word overlap).
func TestCompareWithAReranker(t *testing.T) {
	srv := reranktest.Start(t, "tei")
	dir := initProject(t)
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(fmt.Sprintf("[rerank]\nbase_url = %q\ndepth = 20\n", srv.URL)), 0o644)
	data, _ := filepath.Abs("../../examples/scifact-mini")
	grid := filepath.Join(dir, "grid.toml")
	os.WriteFile(grid, []byte(fmt.Sprintf("dataset = %q\nprimary = \"ndcg@10\"\n[grid]\n\"rerank.provider\" = [\"none\", \"tei\"]\n", data)), 0o644)
	out, errOut, code := cli(t, dir, "eval", "compare", "--grid", grid, "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d %s", code, errOut)
	}
	cells := decode(t, out)["comparison"].(map[string]any)["cells"].([]any)
	if len(cells) != 2 || srv.Requests.Load() == 0 {
		t.Fatalf("cells %v, %d rerank requests", cells, srv.Requests.Load())
	}
	for _, c := range cells {
		c := c.(map[string]any)
		t.Logf("%s: ndcg@10 %.4f", c["label"], c["metrics"].(map[string]any)["ndcg@10"])
	}
}

// TestIngestWatch runs `ingest --watch` as a process: a file saved under
// the folder becomes searchable without another ingest, and SIGTERM ends
// the watch cleanly.
func TestIngestWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := initProject(t)
	copyDocs(t, dir)
	cmd := process(t, dir, "ingest", "docs", "--watch", "--quiet")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	searchable := func(word string) bool {
		out, _, code := cli(t, dir, "search", word, "--json")
		return code == 0 && len(decode(t, out)["hits"].([]any)) > 0
	}
	deadline := time.Now().Add(20 * time.Second)
	for !searchable("unchanged") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(dir, "docs", "watched.md"), []byte("# Watched\n\nQuokkas live on Rottnest Island.\n"), 0o644)
	saved := time.Now()
	for !searchable("quokkas") {
		if time.Since(saved) > 10*time.Second {
			t.Fatalf("a saved file was not searchable within 10 s; stderr: %s", errb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("saved to searchable: %s", time.Since(saved))
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("ingest --watch after SIGTERM: %v; stderr: %s", err, errb.String())
	}
}

// TestIngestWebPage ingests a page from a real HTTP server on loopback
// and finds it by its URL; a second ingest finds it unchanged (304).
func TestIngestWebPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/handbook.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "<html><head><title>Handbook</title></head><body><h1>Leave</h1><p>Annual leave is thirty days for every employee.</p></body></html>")
	}))
	defer srv.Close()
	dir := initProject(t)
	out, errOut, code := cli(t, dir, "ingest", srv.URL+"/handbook.html", "--json")
	if code != 0 || decode(t, out)["added"].(float64) != 1 {
		t.Fatalf("ingest URL: exit %d %s %s", code, out, errOut)
	}
	out, _, _ = cli(t, dir, "search", "annual leave", "--json")
	if hits := decode(t, out)["hits"].([]any); len(hits) != 1 || hits[0].(map[string]any)["doc"] != srv.URL+"/handbook.html" {
		t.Errorf("search finds the page by its URL: %v", hits)
	}
	out, _, _ = cli(t, dir, "ingest", srv.URL+"/handbook.html", "--json")
	if decode(t, out)["unchanged"].(float64) != 1 {
		t.Errorf("second ingest: %s", out)
	}
	if _, errOut, code := cli(t, dir, "ingest", srv.URL+"/handbook.html", filepath.Join(dir, "docs")); code != exitUsage {
		t.Errorf("URLs and paths together: exit %d %s", code, errOut)
	}
}

// startServe starts `ragtune serve` on a free loopback port as a process
// and returns it with the URL it reported; the process is killed when
// the test ends.
func startServe(t *testing.T, dir string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := process(t, dir, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	url := ""
	for sc := bufio.NewScanner(stderr); sc.Scan(); {
		if _, after, ok := strings.Cut(sc.Text(), "serving on "); ok {
			url = after
			break
		}
	}
	if url == "" {
		t.Fatal("serve did not report its address")
	}
	go io.Copy(io.Discard, stderr)
	return cmd, url
}
