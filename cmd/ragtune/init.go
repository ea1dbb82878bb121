package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/store"
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
			st, err := store.Create(cmd.Context(), cfg.StoreDir())
			if err != nil {
				return err
			}
			defer st.Close()
			// With a cluster backend, init also creates its collections.
			if err := a.attachCorpus(cmd.Context(), cfg, st); err != nil {
				return err
			}
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

// configAndStore loads the configuration and opens its store; the caller
// closes the store.
func (a *app) configAndStore(cmd *cobra.Command) (config.Config, *store.Store, error) {
	cfg, err := a.config()
	if err != nil {
		return cfg, nil, err
	}
	st, err := a.openStore(cmd, cfg)
	return cfg, st, err
}

// withStore runs fn on the configured store and closes it afterwards.
func (a *app) withStore(cmd *cobra.Command, fn func(st *store.Store) error) error {
	_, st, err := a.configAndStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// openStore opens the configured store with a message that says how to
// create one when it is missing.
func (a *app) openStore(cmd *cobra.Command, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(cmd.Context(), cfg.StoreDir())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no store at %s: run `ragtune init` in your project directory first", cfg.StoreDir())
	}
	if err != nil {
		return nil, err
	}
	if err := a.attachCorpus(cmd.Context(), cfg, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// cacheDir is where ragtune keeps rebuildable data (compiled PDF engine,
// evaluation indexes and runs): $RAGTUNE_CACHE_DIR, else
// $XDG_CACHE_HOME/ragtune, else ~/.cache/ragtune.
func (a *app) cacheDir(sub string) string {
	if d := a.getenv("RAGTUNE_CACHE_DIR"); d != "" {
		return filepath.Join(d, sub)
	}
	if d := a.getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ragtune", sub)
	}
	if h := a.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ragtune", sub)
	}
	return filepath.Join(os.TempDir(), "ragtune-cache", sub)
}
