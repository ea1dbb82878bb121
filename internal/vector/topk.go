package vector

import (
	"cmp"
	"slices"
)

// TopK keeps the k best candidates seen so far in a min-heap: offering a
// candidate costs one comparison when it cannot enter, and nothing is
// allocated per candidate. Ties go to the lower position, so a scan's
// result is the same however it is split.
type TopK struct {
	k    int
	heap []Candidate // heap[0] is the worst kept
}

// NewTopK keeps up to k candidates.
func NewTopK(k int) *TopK { return &TopK{k: k, heap: make([]Candidate, 0, max(k, 0))} }

// worse orders candidates from worst to best.
func worse(a, b Candidate) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.Pos > b.Pos
}

// Floor is the score a candidate must beat to enter once k are kept.
func (t *TopK) Floor() (float32, bool) {
	if len(t.heap) < t.k || t.k == 0 {
		return 0, false
	}
	return t.heap[0].Score, true
}

// Offer considers c.
func (t *TopK) Offer(c Candidate) {
	switch {
	case t.k <= 0:
		return
	case len(t.heap) < t.k:
		t.heap = append(t.heap, c)
		t.up(len(t.heap) - 1)
	case worse(t.heap[0], c):
		t.heap[0] = c
		t.down(0)
	}
}

func (t *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(t.heap[i], t.heap[p]) {
			return
		}
		t.heap[i], t.heap[p] = t.heap[p], t.heap[i]
		i = p
	}
}

func (t *TopK) down(i int) {
	n := len(t.heap)
	for {
		l, least := 2*i+1, i
		if l < n && worse(t.heap[l], t.heap[least]) {
			least = l
		}
		if r := l + 1; r < n && worse(t.heap[r], t.heap[least]) {
			least = r
		}
		if least == i {
			return
		}
		t.heap[i], t.heap[least] = t.heap[least], t.heap[i]
		i = least
	}
}

// Best returns the kept candidates, best first; the TopK is spent.
func (t *TopK) Best() []Candidate {
	out := t.heap
	slices.SortFunc(out, func(a, b Candidate) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Pos, b.Pos)
	})
	t.heap = nil
	return out
}
