package evaluate

import (
	"fmt"
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
func MetricNames(metrics map[string]float64) []string {
	names := make([]string, 0, len(metrics))
	for k := range metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
