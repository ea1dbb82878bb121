package main

import (
	"fmt"

	"github.com/ragtune/ragtune/internal/project"
	"github.com/spf13/cobra"
)

func (a *app) statusCommand() *cobra.Command {
	var listDocs, check bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the store holds: documents, chunks, index identity, size",
		Example: `  ragtune status
  ragtune status --documents --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			p, err := a.openProject(cmd, cfg)
			if err != nil {
				return err
			}
			defer p.Close()
			stats, err := p.Status(cmd.Context(), project.StatusRequest{Verify: check, Quick: true, Documents: listDocs})
			if err != nil {
				return err
			}
			if !a.jsonOut {
				stats.WriteText(a.stdout, cfg.StoreDir(), cfg.File)
				return verifyResult(stats.Problems)
			}
			out := map[string]any{"config": cfg.File, "store": cfg.StoreDir(), "documents": stats.Documents, "chunks": stats.Chunks,
				"tokens": stats.Tokens, "store_bytes": stats.Bytes, "index_identity": stats.Identity}
			if listDocs {
				out["document_list"] = stats.DocumentList
			}
			if check || len(stats.Problems) > 0 {
				out["problems"] = stats.Problems
			}
			if err := a.printJSON(out); err != nil {
				return err
			}
			return verifyResult(stats.Problems)
		},
	}
	cmd.Flags().BoolVar(&listDocs, "documents", false, "also list every document")
	cmd.Flags().BoolVar(&check, "verify", false, "check the store's consistency (exit 1 on problems)")
	return cmd
}

func verifyResult(problems []string) error {
	if len(problems) > 0 {
		return exitError{exitFailure, fmt.Errorf("the store has %d problem(s)", len(problems))}
	}
	return nil
}
