package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/project"
)

// env is what a project takes from this run.
func (a *app) env() project.Env { return project.Env{Getenv: a.getenv, Log: a.log} }

// openProject opens the project cfg describes, saying how to create one
// when there is none.
func (a *app) openProject(cmd *cobra.Command, cfg config.Config) (*project.Project, error) {
	p, err := project.Open(cmd.Context(), cfg, a.env())
	return p, a.noStoreHint(err, cfg)
}

// openForEval opens the project, or the evaluation history when there
// is no project here yet.
func (a *app) openForEval(cmd *cobra.Command, cfg config.Config) (*project.Project, error) {
	p, err := project.OpenForEval(cmd.Context(), cfg, a.env())
	return p, a.noStoreHint(err, cfg)
}

func (a *app) noStoreHint(err error, cfg config.Config) error {
	switch {
	case errors.Is(err, project.ErrNoStore):
		return fmt.Errorf("no store at %s: run `ragtune init` in your project directory first", cfg.StoreDir())
	case errors.Is(err, project.ErrReadOnly):
		return fmt.Errorf("%w: run it as the store's owner, or make the store folder writable", err)
	}
	return err
}

// configAndProject loads the configuration and opens its project; the
// caller closes the project.
func (a *app) configAndProject(cmd *cobra.Command) (config.Config, *project.Project, error) {
	cfg, err := a.config()
	if err != nil {
		return cfg, nil, err
	}
	p, err := a.openProject(cmd, cfg)
	return cfg, p, err
}

// withProject loads the configuration, opens its project, runs fn and
// closes the project.
func (a *app) withProject(cmd *cobra.Command, fn func(p *project.Project) error) error {
	cfg, p, err := a.configAndProject(cmd)
	if err != nil {
		return err
	}
	defer p.Close()
	return a.noStoreHint(fn(p), cfg)
}

// configWithMode loads the configuration with a --mode flag applied and
// validates it.
func (a *app) configWithMode(cmd *cobra.Command, mode string) (config.Config, error) {
	cfg, err := a.config()
	if err != nil {
		return cfg, err
	}
	if cmd.Flags().Changed("mode") {
		cfg.Retrieve.Mode = mode
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// mustExist is a usage error naming the first path that does not exist,
// so a mistyped dataset or file fails before any work starts.
func mustExist(paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return usagef("%s does not exist", p)
		}
	}
	return nil
}
