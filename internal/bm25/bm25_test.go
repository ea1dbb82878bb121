package bm25

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// corpus is a random collection with Zipf-distributed terms, so some
// terms are in most documents and most in few, as in text.
type corpus struct {
	docs  map[uint32][]string
	cache *struct{ st *corpusStats } // set once the docs stop changing
}

func randomCorpus(seed uint64, n, vocab int) corpus {
	rng := rand.New(rand.NewPCG(seed, 1))
	z := rand.NewZipf(rng, 1.1, 2, uint64(vocab-1))
	c := corpus{docs: map[uint32][]string{}}
	for i := range n {
		doc := uint32(1 + i*3 + rng.IntN(3)) // gaps, as deleted rowids leave
		words := make([]string, rng.IntN(60))
		for j := range words {
			words[j] = fmt.Sprintf("t%d", z.Uint64())
		}
		c.docs[doc] = words
	}
	return c
}

func (c corpus) build(t testing.TB) *Index {
	b := NewBuilder()
	for d, words := range c.docs {
		b.Doc(d, uint32(len(words)))
		for _, w := range words {
			b.Add(w, d, 1)
		}
	}
	x, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// brute scores every document by the formula, independently of Index.
func (c corpus) brute(phrases []string, k int) []Hit { return c.bruteAllow(phrases, k, nil) }

func (c corpus) bruteAllow(phrases []string, k int, allow func(uint32) bool) []Hit {
	st := c.stats()
	var hits []Hit
	for d, tf := range st.tf {
		if allow != nil && !allow(d) {
			continue
		}
		s, match := 0.0, false
		for _, ph := range phrases {
			if tf[ph] == 0 {
				continue
			}
			match = true
			idf := ln((float64(st.n-st.df[ph]) + 0.5) / (float64(st.df[ph]) + 0.5))
			if idf <= 0 {
				idf = 1e-6
			}
			f := float64(tf[ph])
			s += idf * ((f * (K1 + 1.0)) / (f + K1*(1-B+B*float64(st.dl[d])/st.avgdl)))
		}
		if match {
			hits = append(hits, Hit{d, s})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return worse(hits[j], hits[i]) })
	return hits[:min(k, len(hits))]
}

type corpusStats struct {
	n     int
	avgdl float64
	df    map[string]int
	dl    map[uint32]int
	tf    map[uint32]map[string]int
}

func (c corpus) stats() *corpusStats {
	if c.cache != nil && c.cache.st != nil {
		return c.cache.st
	}
	st := &corpusStats{n: len(c.docs), df: map[string]int{}, dl: map[uint32]int{}, tf: map[uint32]map[string]int{}}
	total := 0
	for d, words := range c.docs {
		total += len(words)
		st.dl[d] = len(words)
		tf := map[string]int{}
		for _, w := range words {
			if tf[w] == 0 {
				st.df[w]++
			}
			tf[w]++
		}
		st.tf[d] = tf
	}
	st.avgdl = float64(total) / float64(st.n)
	if c.cache != nil {
		c.cache.st = st
	}
	return st
}

func randomQuery(rng *rand.Rand, vocab int) []string {
	q := make([]string, 1+rng.IntN(12))
	for i := range q {
		// Mostly common terms, some rare, some unknown, some repeats.
		switch r := rng.IntN(10); {
		case r < 6:
			q[i] = fmt.Sprintf("t%d", rng.IntN(30))
		case r < 8:
			q[i] = fmt.Sprintf("t%d", rng.IntN(vocab+50))
		case i > 0:
			q[i] = q[i-1]
		default:
			q[i] = "t0"
		}
	}
	return q
}

func TestTopKIsExact(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n, vocab int
	}{
		{"small", 40, 30},
		{"medium", 2000, 500},
		{"common terms", 3000, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := randomCorpus(uint64(tc.n), tc.n, tc.vocab)
			x := c.build(t)
			c.cache = &struct{ st *corpusStats }{}
			rng := rand.New(rand.NewPCG(7, uint64(tc.n)))
			for range 150 {
				q := randomQuery(rng, tc.vocab)
				for _, k := range []int{1, 10, 100} {
					want := c.brute(q, k)
					got, err := x.TopK(context.Background(), Query{Phrases: q, K: k})
					if err != nil {
						t.Fatal(err)
					}
					if !sameHits(got, want) {
						t.Fatalf("query %v k=%d:\n got %v\nwant %v", q, k, got, want)
					}
					// A filter admitting one document in seven.
					allow := func(d uint32) bool { return d%7 == 3 }
					want = c.bruteAllow(q, k, allow)
					got, err = x.TopK(context.Background(), Query{Phrases: q, K: k, Allow: allow})
					if err != nil || !sameHits(got, want) {
						t.Fatalf("filtered query %v k=%d:\n got %v\nwant %v", q, k, got, want)
					}
				}
			}
		})
	}
}

// sameHits: the same documents in the same order with scores equal to
// the last few bits (brute sums in a different order than FTS5).
func sameHits(a, b []Hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Doc != b[i].Doc || math.Abs(a[i].Score-b[i].Score) > 1e-9*math.Abs(b[i].Score) {
			return false
		}
	}
	return true
}

func TestTiesBreakOnLowerDocument(t *testing.T) {
	b := NewBuilder()
	for d := uint32(10); d > 0; d-- {
		b.Doc(d, 3)
		b.Add("same", d, 1)
	}
	b.Doc(11, 3)
	x, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := x.TopK(context.Background(), Query{Phrases: []string{"same"}, K: 3})
	if len(got) != 3 || got[0].Doc != 1 || got[1].Doc != 2 || got[2].Doc != 3 {
		t.Fatalf("got %v, want documents 1, 2, 3", got)
	}
}

func TestEmptyQueriesAndIndex(t *testing.T) {
	x, err := NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{{K: 10}, {Phrases: []string{"a"}, K: 10}, {Phrases: []string{"a"}}} {
		if got, err := x.TopK(context.Background(), q); err != nil || len(got) != 0 {
			t.Errorf("%+v: got %v, %v", q, got, err)
		}
	}
	if _, err := NewBuilder().Build(); err != nil {
		t.Fatal(err)
	}
	b := NewBuilder()
	b.Add("a", 5, 1)
	if _, err := b.Build(); err == nil {
		t.Fatal("a posting of a document without a length was accepted")
	}
}

func TestMergeEqualsRebuild(t *testing.T) {
	c := randomCorpus(3, 1500, 300)
	old := c.build(t)
	// Drop a third, change some (same number, new words: a reused
	// rowid), add new ones past the end.
	rng := rand.New(rand.NewPCG(9, 9))
	extra := randomCorpus(4, 400, 350)
	var drop []uint32
	add := corpus{docs: map[uint32][]string{}}
	for d := range c.docs {
		switch rng.IntN(6) {
		case 0, 1:
			drop = append(drop, d)
			delete(c.docs, d)
		case 2:
			drop = append(drop, d)
			c.docs[d] = randomQuery(rng, 400)
			add.docs[d] = c.docs[d]
		}
	}
	for d, words := range extra.docs {
		c.docs[d+10000] = words
		add.docs[d+10000] = words
	}
	merged, err := Merge(old, add.build(t), drop)
	if err != nil {
		t.Fatal(err)
	}
	fresh := c.build(t)
	if !reflect.DeepEqual(merged.Encode("s"), fresh.Encode("s")) {
		t.Fatal("merged index differs from one built from scratch")
	}
	if _, err := Merge(old, old, nil); err == nil {
		t.Fatal("merging a document that is both kept and added was accepted")
	}
}

func TestFileRoundTrip(t *testing.T) {
	x := randomCorpus(5, 500, 200).build(t)
	path := filepath.Join(t.TempDir(), "lexical.bm25")
	if err := x.WriteFile(path, "gen 7", 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("written with %v, %v; want 0640", fi.Mode(), err)
	}
	y, stamp, err := ReadFile(path)
	if err != nil || stamp != "gen 7" {
		t.Fatalf("stamp %q, %v", stamp, err)
	}
	if !reflect.DeepEqual(x.Encode(""), y.Encode("")) || !reflect.DeepEqual(x.norm, y.norm) {
		t.Fatal("index read back differs")
	}
	data := x.Encode("gen 7")
	for _, bad := range [][]byte{nil, data[:10], data[:len(data)-1], append([]byte("XX"), data[2:]...), flip(data, len(data)/2)} {
		if _, _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d bytes: err = %v, want ErrCorrupt", len(bad), err)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

func TestTopKStopsWhenCancelled(t *testing.T) {
	x := randomCorpus(6, 3000, 40).build(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.TopK(ctx, Query{Phrases: []string{"t0", "t1"}, K: 10}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func FuzzDecode(f *testing.F) {
	enc := randomCorpus(8, 20, 10).build(f).Encode("s")
	f.Add(enc[:len(enc)-4])
	f.Add([]byte("RTBM25\x00\x01"))
	f.Fuzz(func(t *testing.T, body []byte) {
		// A valid checksum, so the parser behind it gets the input.
		data := binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, castagnoli))
		x, _, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must search without panicking.
		x.TopK(context.Background(), Query{Phrases: []string{"t0", "t1", "t2"}, K: 5})
	})
}
