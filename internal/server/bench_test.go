package server

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServe drives /v1/search and /v1/ask (built-in answerer) with
// 8 concurrent clients over loopback for a bounded number of requests,
// reporting requests/s, latency percentiles and failures (which must be
// zero).
func BenchmarkServe(b *testing.B) {
	for _, route := range []struct{ path, body string }{
		{"/v1/search", `{"query":"rotate signing keys"}`},
		{"/v1/ask", `{"question":"How often do signing keys rotate?"}`},
	} {
		b.Run(strings.TrimPrefix(route.path, "/v1/"), func(b *testing.B) {
			f := newFixture(b, Options{})
			const clients = 8
			var failed atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			began := time.Now()
			var wg sync.WaitGroup
			next := atomic.Int64{}
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := &http.Client{Timeout: 10 * time.Second}
					for next.Add(1) <= int64(b.N) {
						req, _ := http.NewRequest("POST", f.url+route.path, strings.NewReader(route.body))
						req.Header.Set("Authorization", "Bearer "+f.read)
						t0 := time.Now()
						res, err := client.Do(req)
						d := time.Since(t0)
						if err != nil || res.StatusCode != 200 {
							failed.Add(1)
						}
						if res != nil {
							res.Body.Close()
						}
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(began)
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(failed.Load()), "failed")
			if failed.Load() > 0 {
				b.Errorf("%d requests failed", failed.Load())
			}
		})
	}
}
