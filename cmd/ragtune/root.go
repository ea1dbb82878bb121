package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ragtune/ragtune/internal/config"
)

// Exit codes; DESIGN.md fixes them for every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitGate    = 3
)

// app carries what every command shares: streams, flags, environment.
// One is made per run, so nothing is global.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string

	configPath string
	storeDir   string
	jsonOut    bool
	verbose    bool
	quiet      bool

	log *slog.Logger
}

// usageError marks mistakes in how a command was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code for an error already reported.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

// streams are a run's standard input, output and error.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(ctx context.Context, args []string, s streams, environ []string) int {
	a := &app{stdin: s.stdin, stdout: s.stdout, stderr: s.stderr, environ: environ}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(s.stdout)
	root.SetErr(s.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ue) || isCobraUsage(err):
		code = exitUsage
	}
	a.reportError(err, code)
	return code
}

// isCobraUsage recognises cobra's own argument and flag errors, which it
// returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "required flag", "accepts ", "requires at least"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

func (a *app) reportError(err error, code int) {
	if a.jsonOut {
		enc := json.NewEncoder(a.stderr)
		enc.SetEscapeHTML(false)
		enc.Encode(map[string]any{"error": err.Error(), "exit_code": code})
		return
	}
	fmt.Fprintln(a.stderr, "ragtune:", err)
	if code == exitUsage {
		fmt.Fprintln(a.stderr, "Run 'ragtune --help' for usage.")
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ragtune",
		Short: "Grounded answers over your documents, measured; and whether fine-tuning would help",
		Long: `ragtune ingests your documents into a local store, retrieves the passages
that match a question, and answers with numbered citations to them, or says
"I do not have information about that." when they do not cover it.

Everything runs offline by default: an embedded store in ./.ragtune, BM25
search, and an extractive answerer that only quotes what it retrieved.`,
		Example: `  ragtune init
  ragtune ingest ./docs
  ragtune search "key rotation"
  ragtune ask "How do I rotate keys?"
  ragtune status --json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if a.verbose {
				level = slog.LevelDebug
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", "", "config file (default ./ragtune.toml, or $RAGTUNE_CONFIG)")
	pf.StringVar(&a.storeDir, "store", "", "store directory (overrides store.path)")
	pf.BoolVar(&a.jsonOut, "json", false, "print machine-readable JSON")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log details to stderr")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "no progress reports (bars on a terminal, a log line every 15 s elsewhere)")
	root.AddCommand(a.initCommand(), a.ingestCommand(), a.searchCommand(), a.askCommand(), a.statusCommand(), a.evalCommand(), a.serveCommand(), a.keysCommand(), a.benchCommand(), a.adviseCommand(), a.tuneCommand(), a.storeCommand(), a.mcpCommand())
	return root
}

// group makes cmd a command that only holds subcommands: without one it
// prints its help; with an unknown one it is a usage error (exit 2) that
// suggests the nearest names or lists the subcommands.
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			return usagef("%s has no command %q; did you mean %s?", c.CommandPath(), args[0], strings.Join(s, " or "))
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		return usagef("%s has no command %q; it has: %s", c.CommandPath(), args[0], strings.Join(names, ", "))
	}
	return cmd
}

// config loads the configuration: file, then environment; the caller
// applies flags.
func (a *app) config() (config.Config, error) {
	cfg, err := config.Find(a.configPath, a.environ)
	if err == nil && a.storeDir != "" {
		cfg.Store.Path = a.storeDir
	}
	return cfg, err
}

func (a *app) getenv(key string) string {
	for _, kv := range a.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// interactive reports whether progress bars make sense: a terminal on
// stderr and no machine output requested.
func (a *app) interactive() bool {
	if a.jsonOut {
		return false
	}
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exactArgs is cobra.ExactArgs with a usage exit code and a clearer text.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// maxArgs is cobra.MaximumNArgs with a usage exit code and a clearer text.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
