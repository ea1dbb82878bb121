package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mcpSDKVersion is the official MCP TypeScript SDK release the test pins.
const mcpSDKVersion = "1.32.2"

// npmPackage installs pkg@version once into the user cache and returns
// the folder to run scripts from. Without Node.js or the registry it
// skips, unless RAGTUNE_REQUIRE_NODE_SDK=1 (CI) makes that a failure.
func npmPackage(t *testing.T, pkg, version string) string {
	t.Helper()
	need := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("RAGTUNE_REQUIRE_NODE_SDK") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("node"); err != nil {
		need("node is not installed")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		need("no cache directory: %v", err)
	}
	dir := filepath.Join(cache, "ragtune", "npm-"+strings.ReplaceAll(strings.TrimPrefix(pkg, "@"), "/", "-")+"-"+version)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"ragtune-sdk-test","private":true,"type":"module"}`), 0o644)
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", pkg+"@"+version)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			need("installing %s@%s from npm: %v\n%s", pkg, version, err, out)
		}
	}
	return dir
}

// TestMCPWithTheOfficialClient: the official MCP TypeScript SDK lists
// ragtune's tools and gets a cited answer, a refusal, a tool error and a
// resource, over stdio (ragtune mcp) and over streamable HTTP (serve's
// /mcp behind an API key).
func TestMCPWithTheOfficialClient(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	sdk := npmPackage(t, "@modelcontextprotocol/sdk", mcpSDKVersion)
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := cli(t, dir, "keys", "add", "agent", "--scope", "read", "--json")
	if code != 0 {
		t.Fatal(errOut)
	}
	key := decode(t, out)["key"].(string)
	serve := process(t, dir, "serve", "--addr", "127.0.0.1:0")
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
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
	script, _ := filepath.Abs("testdata/mcp-client.mjs")
	data, _ := os.ReadFile(script)
	os.WriteFile(filepath.Join(sdk, "mcp-probe.mjs"), data, 0o644)
	self, _ := os.Executable()
	node := exec.CommandContext(t.Context(), "node", "mcp-probe.mjs")
	node.Dir = sdk
	node.Env = append(os.Environ(), "RAGTUNE_BIN="+self, "RAGTUNE_CONFIG="+filepath.Join(dir, "ragtune.toml"),
		"RAGTUNE_URL="+url, "RAGTUNE_KEY="+key, "HOME="+dir)
	got, err := node.CombinedOutput()
	if err != nil {
		t.Fatalf("the MCP SDK client: %v\n%s", err, got)
	}
	if !strings.Contains(string(got), `"transport":"stdio"`) || !strings.Contains(string(got), `"transport":"http"`) {
		t.Errorf("probe output: %s", got)
	}
	t.Logf("@modelcontextprotocol/sdk@%s: %s", mcpSDKVersion, got)
	serve.Process.Signal(syscall.SIGTERM)
	serve.Wait()
}
