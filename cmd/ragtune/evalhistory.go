package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/store"
)

// openHistory opens where eval runs are kept: the project's store when
// there is one, else a history store in the cache directory, so evals on
// public datasets work before any `ragtune init`.
func (a *app) openHistory(cmd *cobra.Command) (*project.Project, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return a.openForEval(cmd, cfg)
}

func (a *app) evalHistoryCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "history",
		Short:   "List stored eval runs, newest first",
		Example: "  ragtune eval history\n  ragtune eval history --limit 5 --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.openHistory(cmd)
			if err != nil {
				return err
			}
			defer p.Close()
			st := p.Store()
			runs, err := evaluate.ListRecords(cmd.Context(), st, limit)
			if err != nil {
				return err
			}
			if runs == nil {
				runs = []evaluate.Record{}
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"runs": runs})
			}
			if len(runs) == 0 {
				fmt.Fprintln(a.stdout, "No eval runs yet. Try: ragtune eval run <dataset>")
			}
			for _, r := range runs {
				p := evaluate.PrimaryMetric(r.Kind)
				fmt.Fprintf(a.stdout, "%s  %-9s %-16s %-8v %s=%.4f\n", r.ID, r.Kind, r.Dataset, r.Config["mode"], p, r.Metrics[p])
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs to list")
	return cmd
}

func (a *app) evalDiffCommand() *cobra.Command {
	var metric string
	var top int
	cmd := &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "Show what changed between two eval runs and which queries flipped",
		Long: `diff compares two stored runs (IDs from 'ragtune eval history'; a unique
prefix is enough): the settings that differ, every metric with its change,
the queries whose score moved, largest moves first, and whether B's
difference on --metric is significant (paired randomisation test over the
queries both runs scored, with the 95% interval of the difference).`,
		Example: "  ragtune eval diff 20261124-140501 20261124-141210\n  ragtune eval diff A B --metric recall@100 --json",
		Args:    exactArgs(2, "two run IDs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var recs [2]evaluate.Record
			for i, id := range args {
				var err error
				if recs[i], err = a.loadRecord(cmd, id); err != nil {
					return err
				}
			}
			d := evaluate.DiffWithTexts(recs[0], recs[1], metric)
			if a.jsonOut {
				return a.printJSON(d)
			}
			d.WriteText(a.stdout, recs, top)
			return nil
		},
	}
	cmd.Flags().StringVar(&metric, "metric", "", "per-query metric to compare (default ndcg@10, or contains for QA runs)")
	cmd.Flags().IntVar(&top, "top", 10, "flipped queries to show each way")
	return cmd
}

// loadRecord reads one stored eval run (a unique prefix of its ID is
// enough).
func (a *app) loadRecord(cmd *cobra.Command, id string) (evaluate.Record, error) {
	p, err := a.openHistory(cmd)
	if err != nil {
		return evaluate.Record{}, err
	}
	defer p.Close()
	rec, err := evaluate.LoadRecord(cmd.Context(), p.Store(), id)
	if errors.Is(err, store.ErrNoRun) || errors.Is(err, store.ErrAmbiguousRun) {
		return rec, usageError{fmt.Errorf("%w (ragtune eval history lists them)", err)}
	}
	return rec, err
}
