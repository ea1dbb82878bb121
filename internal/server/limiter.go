package server

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limiter is a token bucket per API key ("" when authentication is off).
type limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	if burst <= 0 {
		burst = max(1, int(rate))
	}
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

func (l *limiter) allow(key string) bool { return l.take(key, true) }

// take refills key's bucket and reports whether it holds a token, spending
// it when spend is set.
func (l *limiter) take(key string, spend bool) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	if spend {
		b.tokens--
	}
	return true
}

// guessLimiter slows key guessing: each client address may present 10
// invalid keys, then one a second; past that its requests are refused
// (429) before any key is checked. Valid keys never use it up.
type guessLimiter struct{ l *limiter }

func newGuessLimiter() *guessLimiter { return &guessLimiter{newLimiter(1, 10)} }

// allow reports whether addr may present a key now.
func (g *guessLimiter) allow(addr string) bool { return g.l.take(addr, false) }

// failed spends one of addr's guesses.
func (g *guessLimiter) failed(addr string) { g.l.allow(addr) }

// clientIP is the request's remote address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
