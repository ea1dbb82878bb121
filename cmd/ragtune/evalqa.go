package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
)

func (a *app) evalQA(cmd *cobra.Command, p *project.Project, req project.QAEval, out evalOutput) error {
	began := time.Now()
	items, err := evaluate.LoadQA(req.Path)
	if err != nil {
		return err
	}
	items = evaluate.SelectReviewed(items, req.AcceptedOnly)
	if len(items) == 0 {
		return usagef("%s has no accepted items: review them with `ragtune eval review list %s`, or drop --accepted-only", req.Path, req.Path)
	}
	req.Items = evaluate.Spread(items, req.Limit)
	progress, done := a.progress()
	req.Progress = progress
	run, err := p.EvalQA(cmd.Context(), req)
	done()
	if err != nil {
		return a.noStoreHint(err, p.Config())
	}
	res, k := run.Result, p.Config().Retrieve.K
	if out.reportDir != "" {
		title := fmt.Sprintf("ragtune eval run: %s, %s, k=%d, run %s", run.Dataset, res.Mode, k, run.RunID)
		if err := evaluate.WriteRunReport(out.reportDir, evaluate.QAReport(title, res, run.Metrics)); err != nil {
			return err
		}
		a.wroteReport(out.reportDir)
	}
	failed := out.gates.Check(run.Metrics)
	judgeFailed := judgeFailure(run)
	if a.jsonOut {
		if err := a.printJSON(map[string]any{"run_id": run.RunID, "dataset": run.Dataset, "queries": res.Items, "mode": res.Mode, "k": k,
			"metrics": res.Retrieval, "answer": res.Answer, "latency_ms": res.LatencyMS, "generator": run.Generator, "per_query_file": run.PerQueryFile,
			"seconds": time.Since(began).Seconds(), "gates_failed": failed}); err != nil {
			return err
		}
		if judgeFailed != nil {
			return judgeFailed
		}
		return gateResult(failed)
	}
	fmt.Fprintf(a.stdout, "%s: %d questions, mode %s, k=%d, answerer %s (%.1fs)\n\n", run.Dataset, res.Items, res.Mode, k, run.Generator, time.Since(began).Seconds())
	for _, name := range evaluate.MetricNames(run.Metrics) {
		fmt.Fprintf(a.stdout, "  %-22s %.4f\n", name, run.Metrics[name])
	}
	fmt.Fprintf(a.stdout, "\n  latency p50 %.1f ms, p95 %.1f ms\n", res.LatencyMS.P50, res.LatencyMS.P95)
	for _, f := range failed {
		fmt.Fprintf(a.stdout, "  GATE FAILED %s\n", f)
	}
	fmt.Fprintf(a.stdout, "  run id %s (ragtune eval history)\n", run.RunID)
	if judgeFailed != nil {
		return judgeFailed
	}
	return gateResult(failed)
}

// judgeFailure is the error of a run whose judge failed: the answers
// were scored and saved, but what was asked for — judging — did not
// happen, so the command fails (exit 1) saying both.
func judgeFailure(run *project.QARun) error {
	j := run.Result.Answer.Judge
	if j == nil || j.Failed == "" {
		return nil
	}
	return fmt.Errorf("the answers were scored and saved as run %s, but not judged: %s", run.RunID, j.Failed)
}
