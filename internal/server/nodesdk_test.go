package server

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ragtune/ragtune/internal/npmtest"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// openaiNodeVersion is the official SDK release the test pins (the last
// major that runs on Node.js 20, which the machines have).
const openaiNodeVersion = "6.49.0"

// TestOfficialNodeSDK drives a real server with the official openai npm
// package: models, a completion with real usage, the stream word by word
// with usage, an unknown model as the SDK's NotFoundError, embeddings in
// the SDK's default base64 form, and a refused dimensions.
func TestOfficialNodeSDK(t *testing.T) {
	sdk := npmtest.Package(t, "openai", openaiNodeVersion)
	p, dir := embeddingProject(t)
	os.WriteFile(filepath.Join(dir, "keys.md"), []byte("# Keys\n\nSigning keys rotate every ninety days. Rotation is automatic.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "backups.md"), []byte("# Backups\n\nBackups run every night at two in the morning.\n"), 0o644)
	if _, err := p.Ingest(t.Context(), project.IngestRequest{Roots: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	key, _ := p.Store().CreateAPIKey(t.Context(), "node", []string{"read"})
	ts := httptest.NewServer(New(Backend{Collection: p, Keys: p.Store(), Mode: retrieve.Lexical}, Options{}).Handler())
	defer ts.Close()
	script, _ := filepath.Abs("testdata/openai-sdk.mjs")
	os.WriteFile(filepath.Join(sdk, "probe.mjs"), mustRead(t, script), 0o644)
	cmd := exec.CommandContext(t.Context(), "node", "probe.mjs")
	cmd.Dir = sdk
	cmd.Env = append(os.Environ(), "RAGTUNE_URL="+ts.URL, "RAGTUNE_KEY="+key)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("the openai SDK found: %v\n%s%s", err, out, stderr)
	}
	var found map[string]any
	if err := json.Unmarshal(out, &found); err != nil {
		t.Fatalf("probe output %q: %v", out, err)
	}
	t.Logf("openai@%s: %s", openaiNodeVersion, out)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
