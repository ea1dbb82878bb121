package main

import (
	"fmt"

	"github.com/ragtune/ragtune/internal/project"
	"github.com/spf13/cobra"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage API keys for ragtune serve",
	}
	var scopes []string
	add := &cobra.Command{
		Use:     "add NAME",
		Short:   "Create an API key (shown once; only its hash is stored)",
		Example: "  ragtune keys add ci --scope read\n  ragtune keys add admin --scope read,write",
		Args:    exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				st := p.Store()
				key, err := st.CreateAPIKey(cmd.Context(), args[0], scopes)
				if err != nil {
					return usageError{err}
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"name": args[0], "scopes": scopes, "key": key})
				}
				fmt.Fprintf(a.stdout, "%s\n", key)
				fmt.Fprintf(a.stderr, "Key %q created with scopes %v. It is shown only now; store it safely.\n", args[0], scopes)
				return nil
			})
		},
	}
	add.Flags().StringSliceVar(&scopes, "scope", []string{"read"}, "read (search, ask) and/or write (ingest, delete)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (names and scopes; keys themselves are not stored)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				st := p.Store()
				keys, err := st.APIKeys(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"keys": keys})
				}
				for _, k := range keys {
					fmt.Fprintf(a.stdout, "%-20s %v  %s\n", k.Name, k.Scopes, k.CreatedAt)
				}
				return nil
			})
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}
