package main

import (
	"errors"
	"fmt"

	"github.com/ragtune/ragtune/internal/apikey"

	"github.com/ragtune/ragtune/internal/project"
	"github.com/spf13/cobra"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "keys",
		Short: "Manage API keys for ragtune serve",
	})
	var scopes []string
	add := &cobra.Command{
		Use:     "add NAME",
		Short:   "Create an API key (shown once; only its hash is stored)",
		Example: "  ragtune keys add ci --scope read\n  ragtune keys add admin --scope read,write",
		Args:    exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				if err := p.Writable(); err != nil {
					return err
				}
				st, err := p.Keys(cmd.Context())
				if err != nil {
					return err
				}
				key, err := st.CreateAPIKey(cmd.Context(), args[0], scopes)
				if errors.Is(err, apikey.ErrInvalid) || errors.Is(err, apikey.ErrExists) {
					return usageError{err}
				} else if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"name": args[0], "scopes": scopes, "key": key})
				}
				fmt.Fprintf(a.stdout, "%s\n", key)
				fmt.Fprintf(a.stderr, "Key %q created with scopes %v in %s. It is shown only now; store it safely.\n", args[0], scopes, st.KeysLocation())
				return nil
			})
		},
	}
	add.Flags().StringSliceVar(&scopes, "scope", []string{"read"}, "read (search, ask), write (ingest, delete documents), admin (revoke keys over HTTP)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (names and scopes; keys themselves are not stored)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				st, err := p.Keys(cmd.Context())
				if err != nil {
					return err
				}
				keys, err := st.APIKeys(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"keys": keys})
				}
				fmt.Fprintf(a.stderr, "Keys live in %s.\n", st.KeysLocation())
				for _, k := range keys {
					fmt.Fprintf(a.stdout, "%-20s %v  %s\n", k.Name, k.Scopes, k.CreatedAt)
				}
				return nil
			})
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke NAME",
		Short:   "Delete an API key: requests with it are refused from then on",
		Example: "  ragtune keys revoke laptop",
		Args:    exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(p *project.Project) error {
				st, err := p.Keys(cmd.Context())
				if err != nil {
					return err
				}
				found, err := st.RevokeAPIKey(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if !found {
					return usagef("no API key is called %q (ragtune keys list shows the names)", args[0])
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"revoked": args[0]})
				}
				fmt.Fprintf(a.stdout, "Revoked key %q.\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(add, list, revoke)
	return cmd
}
