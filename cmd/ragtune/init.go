package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) initCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create ragtune.toml and the embedded store in this directory",
		Long: `init writes a commented ragtune.toml (unless one exists) and creates the
embedded store it points to (./.ragtune by default). Running it again is
harmless: an existing config and store are kept.`,
		Example: `  ragtune init
  ragtune init --force          # rewrite ragtune.toml with the defaults
  ragtune init --config /srv/kb/ragtune.toml`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := a.configPath
			if path == "" {
				path = config.FileName
			}
			written := true
			err := config.WriteDefault(path, force)
			if errors.Is(err, fs.ErrExist) {
				written = false
			} else if err != nil {
				return err
			}
			a.configPath = path
			cfg, err := a.config()
			if err != nil {
				return err
			}
			// With a cluster backend, init also creates its collections.
			p, err := project.Init(cmd.Context(), cfg, a.env())
			if err != nil {
				return err
			}
			defer p.Close()
			abs, _ := filepath.Abs(path)
			if a.jsonOut {
				return a.printJSON(map[string]any{"config": abs, "config_written": written, "store": cfg.StoreDir()})
			}
			if written {
				fmt.Fprintf(a.stdout, "Wrote %s\n", abs)
			} else {
				fmt.Fprintf(a.stdout, "Kept existing %s (use --force to rewrite it)\n", abs)
			}
			fmt.Fprintf(a.stdout, "Store ready at %s\nNext: ragtune ingest <directory>\n", cfg.StoreDir())
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing ragtune.toml")
	return cmd
}
