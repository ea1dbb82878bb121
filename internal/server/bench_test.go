package server

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
)

// load sends requests POSTs of body to path from clients concurrent
// clients over loopback and reports requests/s, latency percentiles and
// failures (which must be zero). It is bounded by its request count.
func load(b *testing.B, f *fixture, path, body string, clients, requests int) {
	b.Helper()
	var failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	began := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for next.Add(1) <= int64(requests) {
				req, _ := http.NewRequest("POST", f.url+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+f.read)
				req.Header.Set("Content-Type", "application/json")
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
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(failed.Load()), "failed")
	if failed.Load() > 0 {
		b.Errorf("%d of %d requests failed", failed.Load(), requests)
	}
}

// BenchmarkServe drives /v1/search and /v1/ask (built-in answerer) with
// 8 concurrent clients.
func BenchmarkServe(b *testing.B) {
	for _, route := range []struct{ path, body string }{
		{"/v1/search", `{"query":"rotate signing keys"}`},
		{"/v1/ask", `{"question":"How often do signing keys rotate?"}`},
	} {
		b.Run(strings.TrimPrefix(route.path, "/v1/"), func(b *testing.B) {
			f := newFixture(b, Options{})
			for range b.N {
				load(b, f, route.path, route.body, 8, 500)
			}
		})
	}
}

// manyDocuments stores n documents of generated prose.
func manyDocuments(b *testing.B, f *fixture, n int) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	vocab := strings.Fields("key rotation backup restore signing index shard replica cluster node ingest chunk vector query answer citation store cache policy audit token schedule nightly weekly region disk memory network latency throughput error retry timeout")
	var docs []corpus.Document
	for i := range n {
		var words []string
		for range 120 {
			words = append(words, vocab[r.IntN(len(vocab))])
		}
		text := strings.Join(words, " ")
		path := fmt.Sprintf("gen/%04d.md", i)
		docs = append(docs, corpus.Document{Path: path, Title: path, Chunks: []corpus.Chunk{{ID: corpus.ChunkID(path, 0, text), Text: text}}})
	}
	upsert(b, f.p, docs...)
}

// BenchmarkSearchClients measures /v1/search on 1,000 documents with 1
// and with 32 clients, 2,000 requests each: more clients must get more
// answers, not fewer.
func BenchmarkSearchClients(b *testing.B) {
	f := newFixture(b, Options{RateLimit: -1})
	manyDocuments(b, f, 1000)
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			for range b.N {
				load(b, f, "/v1/search", `{"query":"signing key rotation schedule","k":10}`, clients, 2000)
			}
		})
	}
}

// BenchmarkSearchDuringIngest measures /v1/search p99 with 8 clients on
// 1,000 documents, alone and while the same documents are rewritten
// without pause in 64-document batches (as an ingest of changed files
// writes them), so the corpus keeps its size.
func BenchmarkSearchDuringIngest(b *testing.B) {
	f := newFixture(b, Options{RateLimit: -1})
	manyDocuments(b, f, 1000)
	c, err := f.p.Corpus(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	docs, err := c.Documents(b.Context(), "gen/")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("alone", func(b *testing.B) {
		for range b.N {
			load(b, f, "/v1/search", `{"query":"signing key rotation schedule","k":10}`, 8, 1000)
		}
	})
	b.Run("during-writes", func(b *testing.B) {
		stop := make(chan struct{})
		var writes atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var batch []corpus.Document
				for j := range 64 {
					d, err := c.Document(b.Context(), docs[(i*64+j)%len(docs)].Path)
					if err != nil {
						b.Error(err)
						return
					}
					d.Hash = fmt.Sprint("rewrite-", i)
					batch = append(batch, d)
				}
				if err := c.Upsert(b.Context(), batch); err != nil {
					b.Error(err)
					return
				}
				writes.Add(int64(len(batch)))
			}
		}()
		for range b.N {
			load(b, f, "/v1/search", `{"query":"signing key rotation schedule","k":10}`, 8, 1000)
		}
		close(stop)
		wg.Wait()
		b.ReportMetric(float64(writes.Load()), "docs-written")
	})
}
