package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ragtune/ragtune/internal/npmtest"
)

// mcpSDKVersion is the official MCP TypeScript SDK release the test pins.
const mcpSDKVersion = "1.32.2"

// TestMCPWithTheOfficialClient: the official MCP TypeScript SDK lists
// ragtune's tools and gets a cited answer, a refusal, a tool error and a
// resource, over stdio (ragtune mcp) and over streamable HTTP (serve's
// /mcp behind an API key).
func TestMCPWithTheOfficialClient(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	sdk := npmtest.Package(t, "@modelcontextprotocol/sdk", mcpSDKVersion)
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
	serve, url := startServe(t, dir)
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
