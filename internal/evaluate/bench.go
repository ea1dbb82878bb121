package evaluate

import "sort"

// Throughput summarises one-at-a-time request latencies.
type Throughput struct {
	Queries int     `json:"queries"`
	QPS     float64 `json:"queries_per_second"`
	P50     float64 `json:"p50_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
}

// Summarize turns latencies in milliseconds, one request after another,
// into throughput and percentiles (nearest rank below).
func Summarize(ms []float64) Throughput {
	if len(ms) == 0 {
		return Throughput{}
	}
	var total float64
	for _, x := range ms {
		total += x
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	at := func(p float64) float64 { return s[int(p*float64(len(s)-1))] }
	return Throughput{Queries: len(ms), QPS: float64(len(ms)) / (total / 1000), P50: at(0.5), P95: at(0.95), P99: at(0.99)}
}
