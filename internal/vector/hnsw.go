// Package vector holds nearest-neighbour indexes over unit-length
// float32 vectors, scored by inner product (cosine similarity). HNSW
// (Malkov & Yashunin, 2018) gives sub-linear search for large stores; the
// store's exact scan stays the reference it is measured against.
package vector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/viterin/vek/vek32"
)

// Params shape an HNSW graph.
type Params struct {
	M              int // links per node above layer 0 (layer 0 keeps 2M)
	EfConstruction int // candidates considered while inserting
	EfSearch       int // candidates considered while searching (at least k)
	Seed           uint64
}

// DefaultParams are the usual choices for text embeddings of a few
// hundred dimensions.
func DefaultParams() Params { return Params{M: 16, EfConstruction: 200, EfSearch: 96, Seed: 1} }

type hnode struct {
	id      uint64
	vec     []float32
	links   [][]int32 // per layer
	deleted bool
}

// HNSW is a hierarchical navigable small-world graph. Searches may run
// concurrently with each other; writes take an exclusive lock.
type HNSW struct {
	mu       sync.RWMutex
	p        Params
	dim      int
	nodes    []hnode
	byID     map[uint64]int32
	entry    int32
	maxLevel int
	live     int
	rng      *rand.Rand
	// visitsPool holds *visits for searchLayer.
	visitsPool sync.Pool
	// During a parallel AddBatch: a lock per node's link lists, and one
	// for the entry point.
	locks   []sync.Mutex
	entryMu sync.Mutex
}

// NewHNSW returns an empty graph for vectors of dimension dim.
func NewHNSW(dim int, p Params) *HNSW {
	if p.M <= 1 {
		p = DefaultParams()
	}
	h := &HNSW{p: p, dim: dim, byID: map[uint64]int32{}, entry: -1, rng: rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))}
	h.visitsPool.New = func() any { return &visits{} }
	return h
}

// Len is the number of live vectors.
func (h *HNSW) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.live
}

// SetEfSearch changes how many candidates a search considers: recall
// against speed (DefaultParams: 96).
func (h *HNSW) SetEfSearch(ef int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.p.EfSearch = max(ef, 1)
}

// Dim is the vector dimension.
func (h *HNSW) Dim() int { return h.dim }

// Has reports whether id is indexed and live.
func (h *HNSW) Has(id uint64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	k, ok := h.byID[id]
	return ok && !h.nodes[k].deleted
}

// Vector returns the vector indexed for id when id is live.
func (h *HNSW) Vector(id uint64) ([]float32, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	k, ok := h.byID[id]
	if !ok || h.nodes[k].deleted {
		return nil, false
	}
	return h.nodes[k].vec, true
}

// IDs lists the live ids.
func (h *HNSW) IDs() []uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]uint64, 0, h.live)
	for _, n := range h.nodes {
		if !n.deleted {
			out = append(out, n.id)
		}
	}
	return out
}

func (h *HNSW) sim(a int32, q []float32) float32 { return vek32.Dot(h.nodes[a].vec, q) }

func (h *HNSW) randomLevel() int {
	ml := 1 / math.Log(float64(h.p.M))
	return int(-math.Log(1-h.rng.Float64()) * ml)
}

func (h *HNSW) maxLinks(layer int) int {
	if layer == 0 {
		return 2 * h.p.M
	}
	return h.p.M
}

// ErrDimension means a vector has the wrong length.
var ErrDimension = errors.New("vector dimension does not match the index")

// Add inserts or replaces the vector for id.
func (h *HNSW) Add(id uint64, vec []float32) error {
	return h.AddBatch(context.Background(), []uint64{id}, [][]float32{vec}, 1)
}

// AddBatch inserts or replaces many vectors, with up to workers
// goroutines linking them into the graph at once (each node's link lists
// behind its own lock while they do). Searches wait for the batch. The
// levels are drawn in order, so only the interleaving of the links varies
// from one parallel build to another.
func (h *HNSW) AddBatch(ctx context.Context, ids []uint64, vecs [][]float32, workers int) error {
	if len(ids) != len(vecs) {
		return fmt.Errorf("%d ids for %d vectors", len(ids), len(vecs))
	}
	for _, v := range vecs {
		if len(v) != h.dim {
			return fmt.Errorf("%w: %d, index %d", ErrDimension, len(v), h.dim)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	start := len(h.nodes)
	levels := make([]int, len(ids))
	for i, id := range ids {
		if k, ok := h.byID[id]; ok {
			h.deleteLocked(k) // an update is a delete and a fresh insert
		}
		levels[i] = h.randomLevel()
		h.byID[id] = int32(len(h.nodes))
		h.nodes = append(h.nodes, hnode{id: id, vec: append([]float32(nil), vecs[i]...), links: make([][]int32, levels[i]+1)})
		h.live++
	}
	first := 0
	if h.entry < 0 && len(ids) > 0 {
		h.entry, h.maxLevel, first = int32(start), levels[0], 1
	}
	if workers <= 1 || len(ids)-first < 2*workers {
		for i := first; i < len(ids); i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			h.insert(int32(start+i), levels[i])
		}
		return nil
	}
	h.locks = make([]sync.Mutex, len(h.nodes))
	defer func() { h.locks = nil }()
	var next atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ids) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				h.insert(int32(start+i), levels[i])
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// insert links node k, of the given level, into the graph.
func (h *HNSW) insert(k int32, level int) {
	vec := h.nodes[k].vec
	h.entryMu.Lock()
	cur, top := h.entry, h.maxLevel
	h.entryMu.Unlock()
	for l := top; l > level; l-- {
		cur = h.greedy(cur, vec, l)
	}
	for l := min(level, top); l >= 0; l-- {
		cands := h.searchLayer(vec, []int32{cur}, h.p.EfConstruction, l, false)
		neigh := h.selectNeighbors(vec, cands, h.maxLinks(l))
		h.setLinks(k, l, neigh)
		for _, n := range neigh {
			h.link(n, k, l)
		}
		cur = cands[0].node
	}
	if level > top {
		h.entryMu.Lock()
		if level > h.maxLevel {
			h.entry, h.maxLevel = k, level
		}
		h.entryMu.Unlock()
	}
}

// lock and unlock guard node n's link lists during a parallel batch.
func (h *HNSW) lock(n int32) {
	if h.locks != nil {
		h.locks[n].Lock()
	}
}

func (h *HNSW) unlock(n int32) {
	if h.locks != nil {
		h.locks[n].Unlock()
	}
}

// neighbours is node n's layer-l list: a copy into buf during a parallel
// batch (another worker may be changing it), the list itself otherwise.
func (h *HNSW) neighbours(n int32, l int, buf []int32) []int32 {
	if h.locks == nil {
		return h.nodes[n].links[l]
	}
	h.locks[n].Lock()
	buf = append(buf[:0], h.nodes[n].links[l]...)
	h.locks[n].Unlock()
	return buf
}

// setLinks gives node k its layer-l neighbours, keeping any back links
// other workers added meanwhile.
func (h *HNSW) setLinks(k int32, l int, neigh []int32) {
	h.lock(k)
	defer h.unlock(k)
	for _, x := range h.nodes[k].links[l] {
		if !slices.Contains(neigh, x) {
			neigh = append(neigh, x)
		}
	}
	h.nodes[k].links[l] = neigh
}

// link adds a back link from n to k. A list may run past its size by a
// half before it is pruned back with the neighbour heuristic: pruning
// costs a few hundred inner products, and doing it once per M/2 links
// instead of once per link is most of what building costs.
func (h *HNSW) link(n, k int32, l int) {
	h.lock(n)
	defer h.unlock(n)
	links := append(h.nodes[n].links[l], k)
	if len(links) > h.maxLinks(l)*3/2 {
		cands := make([]scored, len(links))
		for i, x := range links {
			cands[i] = scored{x, h.sim(x, h.nodes[n].vec)}
		}
		sortDesc(cands)
		links = h.selectNeighbors(h.nodes[n].vec, cands, h.maxLinks(l))
	}
	h.nodes[n].links[l] = links
}

// selectNeighbors is the paper's heuristic: take candidates best first,
// keeping one only if it is closer to q than to every one already kept,
// which spreads links in different directions; then fill up with the
// best of the rest.
func (h *HNSW) selectNeighbors(q []float32, cands []scored, m int) []int32 {
	var kept []int32
	var skipped []int32
	for _, c := range cands {
		if len(kept) >= m {
			break
		}
		good := true
		for _, k := range kept {
			if vek32.Dot(h.nodes[c.node].vec, h.nodes[k].vec) > c.score {
				good = false
				break
			}
		}
		if good {
			kept = append(kept, c.node)
		} else {
			skipped = append(skipped, c.node)
		}
	}
	for _, s := range skipped {
		if len(kept) >= m {
			break
		}
		kept = append(kept, s)
	}
	return kept
}

func (h *HNSW) greedy(cur int32, q []float32, l int) int32 {
	best := h.sim(cur, q)
	var buf []int32
	for changed := true; changed; {
		changed = false
		buf = h.neighbours(cur, l, buf)
		for _, n := range buf {
			if s := h.sim(n, q); s > best {
				best, cur, changed = s, n, true
			}
		}
	}
	return cur
}

type scored struct {
	node  int32
	score float32
}

// scoredHeap is a binary heap of scored nodes; best orders it: true
// keeps the best on top (the candidates to expand), false the worst (the
// results, whose worst is the bar to beat). Typed, so nothing is boxed.
type scoredHeap struct {
	s    []scored
	best bool
}

func (h *scoredHeap) less(i, j int) bool {
	if h.best {
		return h.s[i].score > h.s[j].score
	}
	return h.s[i].score < h.s[j].score
}

func (h *scoredHeap) push(x scored) {
	h.s = append(h.s, x)
	for i := len(h.s) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.s[i], h.s[p] = h.s[p], h.s[i]
		i = p
	}
}

func (h *scoredHeap) pop() scored {
	top := h.s[0]
	last := len(h.s) - 1
	h.s[0] = h.s[last]
	h.s = h.s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < last && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < last && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.s[i], h.s[m] = h.s[m], h.s[i]
		i = m
	}
	return top
}

// visits marks the nodes a search has seen: a stamp per node, so that
// starting a search is one increment, not a fresh map. Searches take one
// from the graph's pool, so concurrent readers never share one.
type visits struct {
	stamp []uint32
	epoch uint32
	buf   []int32 // a copy of the list being walked, during a parallel batch
}

func (v *visits) reset(n int) {
	if len(v.stamp) < n {
		v.stamp = append(v.stamp, make([]uint32, n-len(v.stamp))...)
	}
	v.epoch++
	if v.epoch == 0 { // wrapped: clear the old stamps once
		clear(v.stamp)
		v.epoch = 1
	}
}

// visit marks n and reports whether it was new.
func (v *visits) visit(n int32) bool {
	if v.stamp[n] == v.epoch {
		return false
	}
	v.stamp[n] = v.epoch
	return true
}

// searchLayer returns up to ef nodes near q on layer l, best first.
// Deleted nodes are traversed (they still connect the graph) but, when
// liveOnly is set, not returned.
func (h *HNSW) searchLayer(q []float32, entries []int32, ef, l int, liveOnly bool) []scored {
	v := h.visitsPool.Get().(*visits)
	defer h.visitsPool.Put(v)
	v.reset(len(h.nodes))
	cand := &scoredHeap{s: make([]scored, 0, ef), best: true}
	res := &scoredHeap{s: make([]scored, 0, ef+1)}
	for _, e := range entries {
		v.visit(e)
		s := scored{e, h.sim(e, q)}
		cand.push(s)
		if !liveOnly || !h.nodes[e].deleted {
			res.push(s)
		}
	}
	for len(cand.s) > 0 {
		c := cand.pop()
		if len(res.s) >= ef && c.score < res.s[0].score {
			break
		}
		list := h.neighbours(c.node, l, v.buf)
		if h.locks != nil {
			v.buf = list // our copy, reused; never the graph's own list
		}
		for _, n := range list {
			if !v.visit(n) {
				continue
			}
			s := scored{n, h.sim(n, q)}
			if len(res.s) < ef || s.score > res.s[0].score {
				cand.push(s)
				if !liveOnly || !h.nodes[n].deleted {
					res.push(s)
					if len(res.s) > ef {
						res.pop()
					}
				}
			}
		}
	}
	out := res.s
	sortDesc(out)
	return out
}

func sortDesc(s []scored) {
	slices.SortFunc(s, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
}

// Result is one neighbour.
type Result struct {
	ID    uint64
	Score float32
}

// Search returns up to k live neighbours of q, best first. keep, when
// not nil, filters ids (metadata filters); filtered-out nodes still
// guide the walk.
func (h *HNSW) Search(q []float32, k int, keep func(uint64) bool) ([]Result, error) {
	if len(q) != h.dim {
		return nil, fmt.Errorf("%w: query %d, index %d", ErrDimension, len(q), h.dim)
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.entry < 0 || h.live == 0 {
		return nil, nil
	}
	cur := h.entry
	for l := h.maxLevel; l > 0; l-- {
		cur = h.greedy(cur, q, l)
	}
	ef := max(h.p.EfSearch, k)
	if keep != nil {
		ef *= 4 // filtered searches need a wider net to fill k
	}
	var out []Result
	for _, s := range h.searchLayer(q, []int32{cur}, ef, 0, true) {
		n := h.nodes[s.node]
		if keep != nil && !keep(n.id) {
			continue
		}
		out = append(out, Result{n.id, s.score})
		if len(out) == k {
			break
		}
	}
	return out, nil
}

// Delete removes id. The node stays in the graph as a waypoint until the
// index is rebuilt; Deleted tells how many such nodes there are.
func (h *HNSW) Delete(id uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if k, ok := h.byID[id]; ok {
		h.deleteLocked(k)
	}
}

func (h *HNSW) deleteLocked(k int32) {
	if !h.nodes[k].deleted {
		h.nodes[k].deleted = true
		h.live--
	}
	delete(h.byID, h.nodes[k].id)
}

// Deleted is the number of tombstoned nodes.
func (h *HNSW) Deleted() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.nodes) - h.live
}
