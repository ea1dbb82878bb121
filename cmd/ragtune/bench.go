package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) benchCommand() *cobra.Command {
	var mode string
	var queries int
	cmd := &cobra.Command{
		Use:   "bench DATASET",
		Short: "Measure the whole pipeline on a BEIR directory: ingest rate, search and ask latency, memory",
		Long: `bench indexes the corpus of a BEIR directory into a fresh temporary store
(chunking, and embedding when [embed] is on), then runs its queries through
search and through ask with the configured answerer, one at a time, and
reports throughput, latency percentiles and heap size. Ingest speed is also
given as a multiple of the time it takes merely to hash the same text,
measured in the same run, so figures compare across machines.`,
		Example: "  ragtune bench ../shared/datasets/scifact\n  ragtune bench ../shared/datasets/cranfield --mode hybrid --json",
		Args:    exactArgs(1, "one BEIR directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := mustExist(args[0]); err != nil {
				return err
			}
			cfg, err := a.configWithMode(cmd, mode)
			if err != nil {
				return err
			}
			ds, err := evaluate.LoadBEIR(args[0], "test")
			if err != nil {
				return err
			}
			p, err := a.openForEval(cmd, cfg)
			if err != nil {
				return err
			}
			defer p.Close()
			progress, done := a.progress()
			rep, err := p.Bench(cmd.Context(), project.BenchRequest{Dataset: ds, Queries: queries, Progress: progress})
			done()
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(rep)
			}
			fmt.Fprintf(a.stdout, "%s: %d documents (%.1f MB), %d chunks, mode %s, embedder %s, %d CPUs\n", rep.Dataset, rep.Documents,
				float64(rep.Bytes)/1e6, rep.Chunks, rep.Mode, rep.Embedder, rep.CPUs)
			fmt.Fprintf(a.stdout, "ingest  %.1f s: %.0f docs/s, %.2f MB/s (%.1fx the time of hashing the text)\n", rep.Ingest.Seconds, rep.Ingest.DocsPS, rep.Ingest.MBPS, rep.Ingest.XBaseline)
			for _, l := range []struct {
				name string
				l    evaluate.Throughput
			}{{"search", rep.Search}, {"ask", rep.Ask}} {
				fmt.Fprintf(a.stdout, "%-7s %d queries, %.0f/s, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n", l.name, l.l.Queries, l.l.QPS, l.l.P50, l.l.P95, l.l.P99)
			}
			if y := rep.SearchYardstick; y != nil {
				fmt.Fprintf(a.stdout, "        search p50 is %.2fx the engine's plain top-k on the same queries (p50 %.1f ms)\n", rep.XYardstick, y.P50)
			}
			fmt.Fprintf(a.stdout, "heap    %.0f MiB\n", rep.HeapMiB)
			return nil
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "", "lexical | dense | hybrid (default retrieve.mode)")
	cmd.Flags().IntVar(&queries, "queries", 0, "queries to run (default all)")
	return cmd
}
