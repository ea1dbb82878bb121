// Package npmtest installs npm packages for tests that drive ragtune
// with clients nobody here wrote (the official OpenAI and MCP SDKs).
package npmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Package installs pkg@version once into the user cache and returns
// the folder to run scripts from. Without Node.js or the registry it
// skips, unless RAGTUNE_REQUIRE_NODE_SDK=1 (CI) makes that a failure.
func Package(t *testing.T, pkg, version string) string {
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
