package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) evalCompareCommand() *cobra.Command {
	var gridPath, reportDir, failUnder string
	cmd := &cobra.Command{
		Use:   "compare --grid GRID.toml",
		Short: "Evaluate every combination of settings in a grid and pick a winner",
		Long: `compare runs one eval per combination of the settings listed in a grid
file and ranks them by a primary metric (tie-break: a second metric, then
speed). It shows every configuration side by side, names the winner with
the reason, and lists the queries the winner wins and loses against the
runner-up. Configurations that share chunking share one index.

Each figure comes with its 95% bootstrap interval over the queries, and
the best is tested against every other configuration per query (paired
randomisation test, Holm-adjusted): a lead over the runner-up that is not
significant at 0.05 is reported as a tie ("tie": true, "tied_with" in
--json), and the winner is then the best by the metric only.

A grid file:

  dataset = "../shared/datasets/scifact"   # BEIR directory; or qa = "qa.jsonl" with corpus = "dir"
  primary = "ndcg@10"
  tie_break = "recall@100"
  [grid]
  "chunk.size" = [128, 256, 512]
  "chunk.strategy" = ["recursive", "sentence"]
  "retrieve.k" = [3, 4, 5]                  # QA sets: chunks given to the answerer

Every run is stored; --report writes compare.md and a self-contained
compare.html with charts. --fail-under gates the winner (exit 3).`,
		Example: "  ragtune eval compare --grid grid.toml\n  ragtune eval compare --grid grid.toml --report out/ --json",
		Args:    exactArgs(0, "no arguments (the grid comes from --grid)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if gridPath == "" {
				return usagef("eval compare needs --grid FILE")
			}
			if err := mustExist(gridPath); err != nil {
				return err
			}
			gates, err := evaluate.ParseGates(failUnder)
			if err != nil {
				return usageError{err}
			}
			grid, err := evaluate.LoadGrid(gridPath)
			if err == nil {
				err = gates.CheckNames(grid.Kind())
			}
			if err != nil {
				return usageError{err}
			}
			cmp, err := a.compare(cmd, grid)
			if errors.Is(err, project.ErrBadGrid) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if reportDir != "" {
				if err := evaluate.WriteCompareReport(reportDir, "ragtune eval compare: "+filepath.Base(grid.Dataset+grid.QA), cmp); err != nil {
					return err
				}
			}
			failed := gates.Check(cmp.Cells[0].Metrics)
			if a.jsonOut {
				if err := a.printJSON(map[string]any{"kind": grid.Kind(), "comparison": cmp, "report_dir": reportDir, "gates_failed": failed}); err != nil {
					return err
				}
			} else {
				cmp.WriteText(a.stdout, reportDir)
			}
			if len(failed) > 0 {
				return exitError{exitGate, fmt.Errorf("quality gate failed for the winner: %s", strings.Join(failed, "; "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&gridPath, "grid", "", "grid file (TOML)")
	cmd.Flags().StringVar(&reportDir, "report", "", "write compare.md and compare.html into this directory")
	cmd.Flags().StringVar(&failUnder, "fail-under", "", "quality gates for the winner, e.g. ndcg@10=0.6")
	return cmd
}

func (a *app) compare(cmd *cobra.Command, grid *evaluate.Grid) (evaluate.Comparison, error) {
	cfg, err := a.config()
	if err != nil {
		return evaluate.Comparison{}, err
	}
	p, err := a.openForEval(cmd, cfg)
	if err != nil {
		return evaluate.Comparison{}, err
	}
	defer p.Close()
	progress, done := a.progress()
	defer done()
	cmp, err := p.Compare(cmd.Context(), grid, progress)
	return cmp, a.noStoreHint(err, cfg)
}
