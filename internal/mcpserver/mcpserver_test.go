package mcpserver_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/mcpserver"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// session connects the Go SDK's client to the MCP server of a real
// project holding two documents.
func session(t *testing.T) *mcp.ClientSession {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Dir, cfg.Store.Path = dir, filepath.Join(dir, ".ragtune")
	p, err := project.Init(t.Context(), cfg, project.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	os.WriteFile(filepath.Join(dir, "keys.md"), []byte("# Keys\n\nSigning keys rotate every ninety days. Rotation is automatic.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "backups.md"), []byte("# Backups\n\nBackups run every night at two in the morning.\n"), 0o644)
	if _, err := p.Ingest(t.Context(), project.IngestRequest{Roots: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	server := mcpserver.New(p, mcpserver.Options{Mode: retrieve.Lexical, K: 4})
	st, ct := mcp.NewInMemoryTransports()
	if _, err := server.Connect(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestTools(t *testing.T) {
	cs := session(t)
	ctx := t.Context()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || tool.InputSchema == nil {
			t.Errorf("tool %s lacks a description or schema", tool.Name)
		}
	}
	if strings.Join(names, ",") != "ask,get_document,list_documents,search" {
		t.Errorf("tools: %v", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"query": "How often do signing keys rotate?"}})
	if err != nil || res.IsError || !strings.Contains(text(res), "ninety days") || !strings.Contains(text(res), "[1] keys.md") {
		t.Fatalf("ask: %v %+v %q", err, res, text(res))
	}
	// The structured result carries the built-in answerer's judgement.
	if sc, _ := json.Marshal(res.StructuredContent); !strings.Contains(string(sc), `"answerability":`) || !strings.Contains(string(sc), `"short_answer":"ninety days"`) {
		t.Errorf("ask structured content %s; want answerability and the short answer", sc)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"query": "Who won the 1998 world cup?"}})
	if err != nil || !strings.Contains(text(res), "I do not have information about that.") {
		t.Errorf("ask off the documents: %v %q", err, text(res))
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "backups night", "k": 1}})
	if err != nil || res.IsError || !strings.Contains(text(res), `"doc":"backups.md"`) {
		t.Errorf("search: %v %q", err, text(res))
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_document", Arguments: map[string]any{"path": "keys.md"}})
	if err != nil || !strings.Contains(text(res), "Rotation is automatic") {
		t.Errorf("get_document: %v %q", err, text(res))
	}
	// Bad input is a tool error the model can read, never a crash.
	for _, args := range []map[string]any{{"query": "  "}, {"query": "x", "mode": "sideways"}, {"query": "x", "k": 500}} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: args})
		if err != nil || !res.IsError {
			t.Errorf("search %v: %v, %+v; want a tool error", args, err, res)
		}
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_document", Arguments: map[string]any{"path": "nope.md"}}); err != nil || !res.IsError {
		t.Errorf("get_document of a missing path: %v %+v", err, res)
	}
	page, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_documents", Arguments: map[string]any{"limit": 1}})
	if err != nil || !strings.Contains(text(page), `"total":2`) || !strings.Contains(text(page), `"next_offset":1`) {
		t.Errorf("list_documents: %v %q", err, text(page))
	}
	doc, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "ragtune://document/keys.md"})
	if err != nil || len(doc.Contents) != 1 || !strings.Contains(doc.Contents[0].Text, "ninety days") {
		t.Errorf("resource: %v %+v", err, doc)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "ragtune://document/nope.md"}); err == nil {
		t.Error("a missing document resource was read")
	}
}
