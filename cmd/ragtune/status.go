package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
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
			stats, err := p.Status(cmd.Context(), project.StatusRequest{Verify: check, Documents: listDocs})
			if err != nil {
				return err
			}
			problems, docs := stats.Problems, stats.DocumentList
			quick := ""
			if !check {
				// A small store is checked without being asked.
				ran, found := p.QuickCheck(cmd.Context(), stats.Chunks)
				problems = found
				switch {
				case !ran && stats.Chunks > project.QuickCheckLimit:
					quick = fmt.Sprintf("not run (over %d chunks: ragtune status --verify checks the whole store)", project.QuickCheckLimit)
				case len(found) > 0:
					quick = "damaged; ragtune store repair rebuilds the indexes"
				}
			}
			if a.jsonOut {
				out := map[string]any{"config": cfg.File, "store": cfg.StoreDir(), "documents": stats.Documents, "chunks": stats.Chunks,
					"tokens": stats.Tokens, "store_bytes": stats.Bytes, "index_identity": stats.Identity}
				if listDocs {
					out["document_list"] = docs
				}
				if check || len(problems) > 0 {
					out["problems"] = problems
				}
				if err := a.printJSON(out); err != nil {
					return err
				}
				return verifyResult(problems)
			}
			fmt.Fprintf(a.stdout, "store      %s (%s on disk)\n", cfg.StoreDir(), human(stats.Bytes))
			if cfg.File != "" {
				fmt.Fprintf(a.stdout, "config     %s\n", cfg.File)
			}
			if stats.Identity["backend"] == "weaviate" {
				fmt.Fprintf(a.stdout, "corpus     weaviate at %s (%s; consistency %s)\n", stats.Identity["weaviate"], stats.Identity["collections"], stats.Identity["consistency"])
			}
			fmt.Fprintf(a.stdout, "documents  %d\nchunks     %d (%d tokens)\n", stats.Documents, stats.Chunks, stats.Tokens)
			fmt.Fprintf(a.stdout, "lexical    %s\nembedder   %s (dimension %s)\n", stats.Identity["lexical"], stats.Identity["embedder"], stats.Identity["dimension"])
			for _, d := range docs {
				fmt.Fprintf(a.stdout, "  %-50s %-8s %4d chunks  %s\n", d.Path, d.Format, d.Chunks, human(d.Size))
			}
			if quick != "" {
				fmt.Fprintf(a.stdout, "check      %s\n", quick)
			}
			for _, pr := range problems {
				if !check {
					fmt.Fprintf(a.stdout, "problem    %s\n", pr)
				}
			}
			if check {
				if len(problems) == 0 {
					fmt.Fprintln(a.stdout, "check      ok (integrity, full-text index, chunk counts, vectors)")
				}
				for _, p := range problems {
					fmt.Fprintf(a.stdout, "problem    %s\n", p)
				}
			}
			return verifyResult(problems)
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

func human(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
