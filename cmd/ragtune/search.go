package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// retrievalFlags are shared by search and ask.
type retrievalFlags struct {
	k      int
	mode   string
	prefix string
	tags   []string
}

func (r *retrievalFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVarP(&r.k, "k", "k", 0, "number of chunks to retrieve (default retrieve.k, 4)")
	cmd.Flags().StringVar(&r.mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	cmd.Flags().StringVar(&r.prefix, "path-prefix", "", "only search documents whose path starts with this")
	cmd.Flags().StringSliceVar(&r.tags, "tag", nil, "only search documents with this tag (repeat for several: all must match)")
}

// query applies the flags to cfg and builds the query for text.
func (r *retrievalFlags) query(cmd *cobra.Command, cfg *config.Config, text string) (retrieve.Query, error) {
	if cmd.Flags().Changed("k") {
		cfg.Retrieve.K = r.k
	}
	if cmd.Flags().Changed("mode") {
		cfg.Retrieve.Mode = r.mode
	}
	if err := cfg.Validate(); err != nil {
		return retrieve.Query{}, usageError{err}
	}
	mode, err := cfg.Retrieve.ModeValue()
	if err != nil {
		return retrieve.Query{}, usageError{err}
	}
	q, err := retrieve.Request{Text: text, PathPrefix: r.prefix, Tags: r.tags}.Query(retrieve.Defaults{Mode: mode, K: cfg.Retrieve.K})
	if err != nil {
		return q, usageError{err}
	}
	return q, nil
}

func (a *app) searchCommand() *cobra.Command {
	var rf retrievalFlags
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Show the chunks that best match a query, with scores and sources",
		Long: `search runs retrieval only: the ranked chunks that ask would hand to the
answerer, each with its score, document, heading path and lines. Use it to
see why an answer came out as it did.`,
		Example: `  ragtune search "key rotation"
  ragtune search "backup schedule" -k 10 --path-prefix docs/ops/
  ragtune search "restore time" --json | jq '.hits[0].doc'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("search needs a query")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			p, q, hits, err := a.retrieve(cmd, cfg, &rf, args)
			if err != nil {
				return err
			}
			defer p.Close()
			if hits == nil {
				hits = []retrieve.Hit{}
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"query": q.Text, "mode": q.Mode, "hits": hits})
			}
			if len(hits) == 0 {
				fmt.Fprintln(a.stdout, "No matching chunks.")
			}
			for _, h := range hits {
				fmt.Fprintf(a.stdout, "%d. %s:%d-%d  score %.3f\n", h.Rank, h.DocPath, h.LineStart, h.LineEnd, h.Score)
				if h.Heading != "" {
					fmt.Fprintf(a.stdout, "   %s\n", h.Heading)
				}
				fmt.Fprintf(a.stdout, "   %s\n\n", snippet(h.Text, 240))
			}
			return nil
		},
	}
	rf.register(cmd)
	return cmd
}

// retrieve opens the project and runs the query given by args and
// flags; the caller closes the project.
func (a *app) retrieve(cmd *cobra.Command, cfg config.Config, rf *retrievalFlags, args []string) (*project.Project, retrieve.Query, []retrieve.Hit, error) {
	q, err := rf.query(cmd, &cfg, strings.Join(args, " "))
	if err != nil {
		return nil, q, nil, err
	}
	p, err := a.openProject(cmd, cfg)
	if err != nil {
		return nil, q, nil, err
	}
	hits, err := p.Search(cmd.Context(), q)
	if err != nil {
		p.Close()
		return nil, q, nil, a.noStoreHint(err, cfg)
	}
	return p, q, hits, nil
}

// snippet flattens whitespace and cuts text to about n bytes on a word.
func snippet(text string, n int) string {
	s := strings.Join(strings.Fields(text), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
	}
	return s[:cut] + " …"
}
