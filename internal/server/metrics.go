package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// metrics counts requests and their latency per route and status, and
// serves them in the Prometheus text exposition format.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]int // (route, status) → count
	seconds  map[string]float64
	count    map[string]int
	started  time.Time
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]int{}, seconds: map[string]float64{}, count: map[string]int{}, started: time.Now()}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (m *metrics) wrap(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.mu.Lock()
		m.requests[[2]string{route, fmt.Sprint(sw.status)}]++
		m.seconds[route] += time.Since(began).Seconds()
		m.count[route]++
		m.mu.Unlock()
	})
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP ragtune_http_requests_total HTTP requests by route and status.")
	fmt.Fprintln(w, "# TYPE ragtune_http_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(w, "ragtune_http_requests_total{route=%q,status=%q} %d\n", k[0], k[1], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP ragtune_http_request_seconds Time spent serving requests by route.")
	fmt.Fprintln(w, "# TYPE ragtune_http_request_seconds summary")
	routes := make([]string, 0, len(m.count))
	for k := range m.count {
		routes = append(routes, k)
	}
	sort.Strings(routes)
	for _, rt := range routes {
		fmt.Fprintf(w, "ragtune_http_request_seconds_sum{route=%q} %g\n", rt, m.seconds[rt])
		fmt.Fprintf(w, "ragtune_http_request_seconds_count{route=%q} %d\n", rt, m.count[rt])
	}
	fmt.Fprintln(w, "# HELP ragtune_uptime_seconds Seconds since the server started.")
	fmt.Fprintln(w, "# TYPE ragtune_uptime_seconds gauge")
	fmt.Fprintf(w, "ragtune_uptime_seconds %g\n", time.Since(m.started).Seconds())
}

// Hijack lets WebSocket handshakes through the status recorder.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("the connection cannot be hijacked")
	}
	if s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return hj.Hijack()
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
