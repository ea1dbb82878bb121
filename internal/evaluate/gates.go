package evaluate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Gates are quality gates: the least value each named metric may have.
type Gates map[string]float64

// ParseGates reads "ndcg@10=0.6,abstention_f1=0.8".
func ParseGates(s string) (Gates, error) {
	gates := Gates{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("--fail-under %q: want METRIC=VALUE, e.g. ndcg@10=0.6", part)
		}
		gates[strings.ToLower(strings.TrimSpace(name))] = x
	}
	return gates, nil
}

// Check lists the gates metrics fail, sorted; a gate on a metric that was
// not measured fails too, so a typo cannot pass silently.
func (g Gates) Check(metrics map[string]float64) []string {
	var failed []string
	for name, min := range g {
		v, ok := metrics[name]
		switch {
		case !ok:
			failed = append(failed, fmt.Sprintf("%s was not measured", name))
		case v < min:
			failed = append(failed, fmt.Sprintf("%s = %.4f < %.4f", name, v, min))
		}
	}
	sort.Strings(failed)
	return failed
}

// MetricNames lists the names of metrics, sorted.
func MetricNames[V any](metrics map[string]V) []string {
	names := make([]string, 0, len(metrics))
	for k := range metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// qaAnswerMetrics are the answer figures a QA eval reports (QAResult.Flat).
var qaAnswerMetrics = slices.Concat([]string{"em", "f1", "contains", "faithfulness", "citation_precision", "citation_recall",
	"abstain_rate", "abstention_precision", "abstention_recall", "abstention_f1", "behaviour_pass",
	"abstain_rate_answerable", "abstain_rate_unanswerable", "answer_precision", "answer_recall", "answer_f1",
	"answer_or_decline_accuracy", "squad2_em", "squad2_f1", "answerability_auc",
	"tokens_in", "tokens_out", "cost_usd"}, judgeMetricNames)

var qaRetrievalMetric = regexp.MustCompile(`^(has_answer|gold_doc)@[1-9][0-9]*$`)

// KnownMetric reports whether an eval of kind ("retrieval" or "qa")
// reports a metric of that name.
func KnownMetric(kind, name string) bool {
	if kind == "qa" {
		return slices.Contains(qaAnswerMetrics, name) || qaRetrievalMetric.MatchString(name)
	}
	for _, m := range DefaultMetrics {
		if m.String() == name {
			return true
		}
	}
	return false
}

// KnownMetrics lists the metric names an eval of kind reports.
func KnownMetrics(kind string) []string {
	if kind == "qa" {
		return append([]string{"has_answer@K", "gold_doc@K"}, qaAnswerMetrics...)
	}
	var out []string
	for _, m := range DefaultMetrics {
		out = append(out, m.String())
	}
	return out
}

// ErrUnknownMetric marks a metric name that an eval does not report.
var ErrUnknownMetric = errors.New("unknown metric")

// CheckNames fails with ErrUnknownMetric for a gate on a metric an eval
// of kind never reports, so a typo fails before the work, not after it.
func (g Gates) CheckNames(kind string) error {
	for _, name := range MetricNames(g) {
		if !KnownMetric(kind, name) {
			return fmt.Errorf("%w %q in --fail-under (a %s eval reports %s)", ErrUnknownMetric, name, kind, strings.Join(KnownMetrics(kind), ", "))
		}
	}
	return nil
}
