package bm25

import (
	"container/heap"
	"context"
	"math"
	"sort"
)

// Hit is a document and its score.
type Hit struct {
	Doc   uint32
	Score float64
}

// Query is a list of phrases, each one term, in the order FTS5 would
// sum them: a term repeated counts once per repeat.
type Query struct {
	Phrases []string
	K       int
	// Allow, when set, admits only the documents it returns true for
	// (a filter); the others are passed over, never ranked.
	Allow func(doc uint32) bool
}

// end is past every document.
const end = math.MaxUint32

// cursor walks one query term's postings.
type cursor struct {
	docs, freq []uint32
	bmax       []float32
	idf        float64
	weight     float64 // idf × the term's phrases in the query
	ub         float64 // weight × its best block
	pos        int
	blk        int // the block the shallow pointer is at
	doc        uint32
}

func (c *cursor) cur() uint32 {
	if c.pos < len(c.docs) {
		return c.docs[c.pos]
	}
	return end
}

// seek moves to the first posting at or after doc (galloping, then a
// binary search inside the range found).
func (c *cursor) seek(doc uint32) {
	if c.doc >= doc {
		return
	}
	lo, step := c.pos, 1
	hi := lo + step
	for hi < len(c.docs) && c.docs[hi] < doc {
		lo, step = hi, step*2
		hi = lo + step
	}
	hi = min(hi, len(c.docs))
	c.pos = lo + sort.Search(hi-lo, func(i int) bool { return c.docs[lo+i] >= doc })
	c.doc = c.cur()
	c.blk = max(c.blk, c.pos/BlockSize)
}

func (c *cursor) next() {
	c.pos++
	c.doc = c.cur()
	c.blk = max(c.blk, c.pos/BlockSize)
}

// shallow moves the block pointer to the block that would hold doc.
func (c *cursor) shallow(doc uint32) {
	for c.blk < len(c.bmax) && c.docs[min((c.blk+1)*BlockSize, len(c.docs))-1] < doc {
		c.blk++
	}
}

// blockBound is the best score a document of the current block can
// take from this term, and the last document of the block.
func (c *cursor) blockBound() (float64, uint32) {
	if c.blk >= len(c.bmax) {
		return 0, end
	}
	return c.weight * float64(c.bmax[c.blk]), c.docs[min((c.blk+1)*BlockSize, len(c.docs))-1]
}

// TopK returns the q.K best documents, best first, ties on the lower
// document. It checks ctx every few thousand candidates.
func (x *Index) TopK(ctx context.Context, q Query) ([]Hit, error) {
	cs, order := x.cursors(q)
	if len(cs) == 0 || q.K <= 0 {
		return nil, nil
	}
	top := &hitHeap{}
	theta := math.Inf(-1)
	live := make([]*cursor, len(cs))
	for i := range cs {
		live[i] = &cs[i]
	}
	for steps := 0; ; steps++ {
		if steps%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		sortCursors(live)
		p, ok := pivot(live, theta)
		if !ok {
			break
		}
		pd := live[p].doc
		bound := 0.0
		for _, c := range live[:p+1] {
			c.shallow(pd)
			b, _ := c.blockBound()
			bound += b
		}
		switch {
		case bound <= theta:
			skipBlocks(live, p, pd)
		case live[0].doc == pd:
			if q.Allow == nil || q.Allow(pd) {
				if s := x.score(cs, order, pd); s > theta {
					theta = top.offer(Hit{pd, s}, q.K)
				}
			}
			for _, c := range live[:p+1] {
				c.next()
			}
		default:
			// Bring the term with the most to give up to the pivot.
			best := 0 // live[0] is before the pivot
			for i, c := range live[:p] {
				if c.doc < pd && c.ub > live[best].ub {
					best = i
				}
			}
			live[best].seek(pd)
		}
	}
	return top.sorted(), nil
}

// pivot is the first cursor at which the terms' bounds so far could beat
// theta, extended over cursors at the same document.
func pivot(live []*cursor, theta float64) (int, bool) {
	acc := 0.0
	for i, c := range live {
		if c.doc == end {
			return 0, false
		}
		acc += c.ub
		if acc > theta {
			for i+1 < len(live) && live[i+1].doc == c.doc {
				i++
			}
			return i, true
		}
	}
	return 0, false
}

// skipBlocks moves past documents that cannot beat theta: up to the end
// of the nearest block among the pivot's terms, or the next term's
// document. It moves the term with the most to give.
func skipBlocks(live []*cursor, p int, pd uint32) {
	next := uint32(end)
	if p+1 < len(live) {
		next = live[p+1].doc
	}
	best := 0
	for i, c := range live[:p+1] {
		_, last := c.blockBound()
		if last != end {
			next = min(next, last+1)
		}
		if c.ub > live[best].ub {
			best = i
		}
	}
	next = max(next, pd+1)
	live[best].seek(next)
}

func sortCursors(live []*cursor) {
	for i := 1; i < len(live); i++ {
		for j := i; j > 0 && live[j].doc < live[j-1].doc; j-- {
			live[j], live[j-1] = live[j-1], live[j]
		}
	}
}

// cursors opens a cursor per distinct query term the index holds, and
// order maps each phrase to its cursor (-1: not in the index).
func (x *Index) cursors(q Query) ([]cursor, []int) {
	at := map[string]int{}
	var cs []cursor
	order := make([]int, len(q.Phrases))
	for i, ph := range q.Phrases {
		if k, ok := at[ph]; ok {
			order[i] = k
			if k >= 0 {
				cs[k].weight += cs[k].idf
			}
			continue
		}
		t, ok := x.terms[ph]
		if !ok {
			at[ph], order[i] = -1, -1
			continue
		}
		l := x.list(t)
		idf := x.IDF(len(l.docs))
		at[ph], order[i] = len(cs), len(cs)
		cs = append(cs, cursor{docs: l.docs, freq: l.freq, bmax: x.bmax[x.boff[t]:x.boff[t+1]], idf: idf, weight: idf})
	}
	for i := range cs {
		c := &cs[i]
		best := float32(0)
		for _, b := range c.bmax {
			best = max(best, b)
		}
		c.ub = c.weight * float64(best)
		c.doc = c.cur()
	}
	return cs, order
}

// score is doc's bm25: each phrase's IDF × frequency part, summed in the
// query's order as FTS5 sums them. Cursors not at doc give nothing.
func (x *Index) score(cs []cursor, order []int, doc uint32) float64 {
	s := 0.0
	for _, k := range order {
		if k < 0 {
			continue // a term no document holds: FTS5 adds its zero
		}
		c := &cs[k]
		if c.doc != doc {
			continue
		}
		s += c.idf * x.part(c.freq[c.pos], doc)
	}
	return s
}

// hitHeap keeps the best k hits with the worst on top; of equal
// scores the higher document is worse.
type hitHeap []Hit

func worse(a, b Hit) bool { return a.Score < b.Score || a.Score == b.Score && a.Doc > b.Doc }

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(v any)        { *h = append(*h, v.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// offer keeps hit if it is among the k best and returns the score a
// document must now beat (-Inf until k are kept).
func (h *hitHeap) offer(hit Hit, k int) float64 {
	switch {
	case h.Len() < k:
		heap.Push(h, hit)
	case worse((*h)[0], hit):
		(*h)[0] = hit
		heap.Fix(h, 0)
	}
	if h.Len() < k {
		return math.Inf(-1)
	}
	return (*h)[0].Score
}

func (h *hitHeap) sorted() []Hit {
	out := make([]Hit, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(Hit)
	}
	return out
}
