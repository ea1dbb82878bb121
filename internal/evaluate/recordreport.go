package evaluate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// RecordReport rebuilds a stored run's report from what the history
// keeps: every metric, the recall (or has_answer) curve from the metrics
// at the curve's cutoffs, and the per-query scores with their texts
// (texts, from QueryTexts, may be empty). Latencies and retrieved
// sources are not stored, so the report has none.
func RecordReport(r Record, texts map[string]string) RunReport {
	title := fmt.Sprintf("%s run %s on %s", r.Kind, r.ID, r.Dataset)
	rep := RunReport{Title: title, Kind: r.Kind, Metrics: r.Metrics}
	curve := "recall@"
	rep.CurveName = "recall@k"
	if r.Kind == "qa" {
		curve, rep.CurveName = "has_answer@", "has_answer@k"
	}
	var ks []int
	for name := range r.Metrics {
		if k, err := strconv.Atoi(strings.TrimPrefix(name, curve)); err == nil && strings.HasPrefix(name, curve) {
			ks = append(ks, k)
		}
	}
	sort.Ints(ks)
	for _, k := range ks {
		rep.CurveK = append(rep.CurveK, float64(k))
		rep.Curve = append(rep.Curve, r.Metrics[fmt.Sprintf("%s%d", curve, k)])
	}
	rep.Columns = recordColumns(r)
	ids := make([]string, 0, len(r.PerQuery))
	for id := range r.PerQuery {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		row := ReportRow{ID: id, Text: texts[id]}
		for _, c := range rep.Columns {
			row.Scores = append(row.Scores, r.PerQuery[id][c])
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep
}

// recordColumns are the per-query scores a run's table shows: the
// report's usual columns when the run has them, else every score it
// kept (at most six).
func recordColumns(r Record) []string {
	want := []string{"ndcg@10", "recall@100", "mrr@10"}
	if r.Kind == "qa" {
		want = []string{"contains", "f1"}
	}
	have := map[string]bool{}
	for _, s := range r.PerQuery {
		for k := range s {
			have[k] = true
		}
	}
	var cols []string
	for _, c := range want {
		if have[c] {
			cols = append(cols, c)
		}
	}
	if len(cols) > 0 {
		return cols
	}
	for c := range have {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols[:min(6, len(cols))]
}
