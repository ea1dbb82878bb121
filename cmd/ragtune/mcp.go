package main

import (
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/mcpserver"
	"github.com/ragtune/ragtune/internal/project"
)

// version names this build to MCP clients.
const version = "0.2.0"

func (a *app) mcpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve the knowledge base to agents and editors over MCP (stdio)",
		Long: `mcp speaks the Model Context Protocol on stdin and stdout, for an agent or
editor that starts ragtune itself (Claude Desktop, Claude Code, Cursor, VS
Code). Its tools: search (passages with sources), ask (an answer citing
[n], or "I do not have information about that."), list_documents and
get_document; documents are also resources (ragtune://document/PATH).

'ragtune serve' offers the same over streamable HTTP at /mcp, behind its
API keys (read scope). Logs go to stderr; stdout carries only the protocol.`,
		Example: `  ragtune mcp --config /srv/kb/ragtune.toml
  # Claude Code:  claude mcp add kb -- ragtune mcp --config /srv/kb/ragtune.toml
  # Claude Desktop (claude_desktop_config.json):
  #   {"mcpServers": {"kb": {"command": "ragtune", "args": ["mcp", "--config", "/srv/kb/ragtune.toml"]}}}`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				mode, err := p.Config().Retrieve.ModeValue()
				if err != nil {
					return usageError{err}
				}
				s := mcpserver.New(p, mcpserver.Options{Mode: mode, K: p.Config().Retrieve.K, Version: version})
				return s.Run(cmd.Context(), &mcp.IOTransport{Reader: io.NopCloser(a.stdin), Writer: nopWriteCloser{a.stdout}})
			})
		},
	}
}

// nopWriteCloser gives the run's stdout the Close the MCP transport
// wants, leaving the process's own stdout open.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
