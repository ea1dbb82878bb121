package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus/weaviate/weaviatetest"
	"github.com/ragtune/ragtune/internal/embed"
)

// TestServeReplicasShareTheCluster runs two `ragtune serve` processes,
// on 127.0.0.2 and 127.0.0.3, each with its own project directory, over
// one three-node cluster (every shard on every node), each talking to a
// different node: a key added once works on both, a document uploaded
// through one is found through the other as soon as the upload returns,
// and a revoked key is refused by both.
func TestServeReplicasShareTheCluster(t *testing.T) {
	if os.Getenv("RAGTUNE_WEAVIATE_CLUSTER") == "0" {
		t.Skip("RAGTUNE_WEAVIATE_CLUSTER=0: three-node replica test skipped")
	}
	nodes := weaviatetest.StartCluster(t, 3)
	type replica struct {
		dir, url string
		env      []string
	}
	newReplica := func(node *weaviatetest.Node) *replica {
		dir := t.TempDir()
		env := []string{"RAGTUNE_MODEL_DIR=" + embed.DefaultModelDir(os.Getenv),
			"RAGTUNE_STORE=weaviate", "RAGTUNE_WEAVIATE_URL=" + node.URL,
			"RAGTUNE_STORE_WEAVIATE_PREFIX=Replicas", "RAGTUNE_STORE_WEAVIATE_REPLICATION=3"}
		return &replica{dir: dir, env: env}
	}
	a, b := newReplica(nodes[0]), newReplica(nodes[1])
	ragtune := func(r *replica, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(t.Context(), append([]string{"--config", filepath.Join(r.dir, "ragtune.toml")}, args...),
			streams{stdout: &out, stderr: &errb}, append([]string{"HOME=" + r.dir}, r.env...))
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	ragtune(a, "init")
	ragtune(b, "init")
	key := func(r *replica, name, scopes string) string {
		return decode(t, ragtune(r, "keys", "add", name, "--scope", scopes, "--json"))["key"].(string)
	}
	// Added once, through a's project; b's project lists it.
	user := key(a, "user", "read,write")
	admin := key(a, "ops", "admin")
	if ks := decode(t, ragtune(b, "keys", "list", "--json"))["keys"].([]any); len(ks) != 2 {
		t.Fatalf("keys seen through b: %v", ks)
	}
	serve := func(r *replica, host string) {
		cmd := process(t, r.dir, "serve", "--addr", host+":0")
		cmd.Env = append(cmd.Env, r.env...)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		var log []string
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			log = append(log, sc.Text())
			if _, after, ok := strings.Cut(sc.Text(), "serving on "); ok {
				r.url = after
				break
			}
		}
		if r.url == "" {
			t.Fatalf("serve on %s did not report its address: %s", host, strings.Join(log, "\n"))
		}
		go io.Copy(io.Discard, stderr)
	}
	serve(a, "127.0.0.2")
	serve(b, "127.0.0.3")
	call := func(r *replica, method, path, key, contentType string, body io.Reader) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, r.url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		raw, _ := io.ReadAll(resp.Body)
		json.Unmarshal(raw, &v)
		if v == nil {
			v = map[string]any{"body": string(raw)}
		}
		return resp.StatusCode, v
	}
	search := func(r *replica, key, query string) (int, []any) {
		t.Helper()
		code, v := call(r, "POST", "/v1/search", key, "application/json", strings.NewReader(`{"query":`+quote(query)+`}`))
		hits, _ := v["hits"].([]any)
		return code, hits
	}
	for _, r := range []*replica{a, b} {
		if code, _ := search(r, user, "leader election"); code != http.StatusOK {
			t.Fatalf("the key added once, at %s: status %d", r.url, code)
		}
	}

	// Upload through a; search through b right after the call returns.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "raft.md")
	fw.Write([]byte("# Raft\n\nRaft elects a leader by majority vote. The leader replicates log entries to followers.\n"))
	mw.Close()
	if code, v := call(a, "POST", "/v1/ingest", user, mw.FormDataContentType(), &form); code != http.StatusOK {
		t.Fatalf("upload through a: %d %v", code, v)
	}
	code, hits := search(b, user, "how does raft elect a leader")
	if code != http.StatusOK || len(hits) == 0 || !strings.HasSuffix(hits[0].(map[string]any)["doc"].(string), "raft.md") {
		t.Fatalf("search through b right after the upload through a: %d %v", code, hits)
	}

	// Revoked over HTTP through b: refused by both.
	if code, v := call(b, "DELETE", "/v1/keys/user", admin, "", nil); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("revoking through b: %d %v", code, v)
	}
	for _, r := range []*replica{a, b} {
		if code, _ := search(r, user, "leader"); code != http.StatusUnauthorized {
			t.Fatalf("a key revoked through b, at %s: status %d, want 401", r.url, code)
		}
	}
	// Revoked with `ragtune keys revoke` in a's project: refused by both.
	ragtune(a, "keys", "revoke", "ops")
	for _, r := range []*replica{a, b} {
		if code, v := call(r, "DELETE", "/v1/keys/nobody", admin, "", nil); code != http.StatusUnauthorized {
			t.Fatalf("a key revoked with keys revoke, at %s: status %d %v, want 401", r.url, code, v)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
