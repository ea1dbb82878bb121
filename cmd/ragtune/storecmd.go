package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) storeCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "store",
		Short: "Manage where the corpus lives",
	})
	var to, url string
	migrate := &cobra.Command{
		Use:   "migrate --to weaviate|embedded",
		Short: "Copy the whole corpus, vectors included, to the other backend and verify it",
		Long: `migrate copies every document, chunk and vector between the embedded store
and the Weaviate cluster configured in [store.weaviate], binds the target to
the same embedder, reads every document back and compares checksums. It is
resumable: documents already copied (same hash and settings) are verified,
not written again, so an interrupted migrate is simply run again.

Nothing is deleted from the source. When it succeeds, switch store.backend
in ragtune.toml (or RAGTUNE_STORE) to the target.`,
		Example: `  ragtune store migrate --to weaviate --weaviate-url http://10.0.0.5:8080
  ragtune store migrate --to embedded`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != config.BackendWeaviate && to != config.BackendEmbedded {
				return usageError{fmt.Errorf("--to %q: want weaviate or embedded", to)}
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if url != "" {
				cfg.Store.Weaviate.URL = url
			}
			from := config.BackendEmbedded
			if to == config.BackendEmbedded {
				from = config.BackendWeaviate
			}
			rep, err := a.migrate(cmd, cfg, from, to)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"to": to, "report": rep})
			}
			fmt.Fprintf(a.stdout, "%d documents (%d chunks) at the target: %d copied, %d already there; all verified (checksum %.16s)\n",
				rep.Documents, rep.Chunks, rep.Copied, rep.Skipped, rep.Checksum)
			fmt.Fprintf(a.stdout, "Next: set backend = %q under [store] in ragtune.toml (or RAGTUNE_STORE=%s)\n", to, to)
			return nil
		},
	}
	migrate.Flags().StringVar(&to, "to", "", "target backend: weaviate or embedded")
	migrate.Flags().StringVar(&url, "weaviate-url", "", "Weaviate URL (default: store.weaviate.url / RAGTUNE_WEAVIATE_URL)")
	repair := &cobra.Command{
		Use:   "repair",
		Short: "Rebuild the full-text index and the vector graph from the stored chunks, then verify",
		Long: `repair rebuilds what the embedded store derives from its chunks: the
full-text (BM25) index and the HNSW vector graph. Run it when status or
ingest reports a damaged index. The chunks themselves are not touched; a
store whose chunks are damaged is re-created by ingesting again into a new
store (--store DIR).`,
		Example: "  ragtune store repair && ragtune status --verify",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				if err := p.Repair(cmd.Context()); errors.Is(err, corpus.ErrCannotRepair) {
					return usageError{fmt.Errorf("%w: the corpus is on a cluster, which keeps its own indexes", err)}
				} else if err != nil {
					return err
				}
				st, err := p.Status(cmd.Context(), project.StatusRequest{Verify: true})
				if err != nil {
					return err
				}
				if a.jsonOut {
					if err := a.printJSON(map[string]any{"repaired": true, "problems": st.Problems}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(a.stdout, "Rebuilt the indexes of %d chunks.\n", st.Chunks)
					for _, pr := range st.Problems {
						fmt.Fprintf(a.stdout, "problem    %s\n", pr)
					}
				}
				return verifyResult(st.Problems)
			})
		},
	}
	cmd.AddCommand(migrate, repair)
	return cmd
}

// migrate copies the corpus from one backend to the other and verifies it.
func (a *app) migrate(cmd *cobra.Command, cfg config.Config, from, to string) (corpus.CopyReport, error) {
	var rep corpus.CopyReport
	p, err := a.openProject(cmd, cfg)
	if err != nil {
		return rep, err
	}
	defer p.Close()
	src, err := p.OpenCorpusOn(cmd.Context(), from)
	if err != nil {
		return rep, err
	}
	defer src.Close()
	dst, err := p.OpenCorpusOn(cmd.Context(), to)
	if err != nil {
		return rep, err
	}
	defer dst.Close()
	stage, done := a.progress()
	defer done()
	return corpus.Copy(cmd.Context(), src, dst, stage("copying documents"))
}
