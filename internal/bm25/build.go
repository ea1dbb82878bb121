package bm25

import (
	"fmt"
	"slices"
	"sort"
)

// Builder collects documents and postings into an Index.
type Builder struct {
	dl    map[uint32]uint32
	lists map[string][]posting
}

type posting struct{ doc, freq uint32 }

// NewBuilder starts an empty index.
func NewBuilder() *Builder {
	return &Builder{dl: map[uint32]uint32{}, lists: map[string][]posting{}}
}

// Doc adds a document with its length in tokens. A document without
// any token still counts in N, as FTS5 counts it.
func (b *Builder) Doc(doc, length uint32) { b.dl[doc] = length }

// Add counts n occurrences of term in doc. Postings may come in any
// order; adding the same (term, doc) twice adds the counts.
func (b *Builder) Add(term string, doc, n uint32) {
	l := b.lists[term]
	if k := len(l) - 1; k >= 0 && l[k].doc == doc {
		l[k].freq += n
		return
	}
	b.lists[term] = append(l, posting{doc, n})
}

// Build makes the Index. Every posting must name a document given to
// Doc.
func (b *Builder) Build() (*Index, error) {
	for term, l := range b.lists {
		sortPostings(l)
		for _, p := range l {
			if _, ok := b.dl[p.doc]; !ok {
				return nil, fmt.Errorf("term %q names document %d, which has no length", term, p.doc)
			}
		}
	}
	return pack(b.dl, b.lists), nil
}

// sortPostings orders a list by document and folds repeats together.
func sortPostings(l []posting) []posting {
	if !sort.SliceIsSorted(l, func(i, j int) bool { return l[i].doc < l[j].doc }) {
		sort.Slice(l, func(i, j int) bool { return l[i].doc < l[j].doc })
	}
	return l
}

// pack lays lists out as an Index.
func pack(dl map[uint32]uint32, lists map[string][]posting) *Index {
	x := &Index{terms: make(map[string]int32, len(lists))}
	for t, l := range lists {
		if len(l) > 0 {
			x.names = append(x.names, t)
		}
	}
	slices.Sort(x.names)
	total := 0
	for _, t := range x.names {
		total += len(lists[t])
	}
	x.off = make([]uint32, len(x.names)+1)
	x.docs, x.freq = make([]uint32, 0, total), make([]uint32, 0, total)
	for i, t := range x.names {
		x.terms[t] = int32(i)
		x.off[i] = uint32(len(x.docs))
		for _, p := range fold(lists[t]) {
			x.docs, x.freq = append(x.docs, p.doc), append(x.freq, p.freq)
		}
	}
	x.off[len(x.names)] = uint32(len(x.docs))
	var top uint32
	for d := range dl {
		x.live = append(x.live, d)
		top = max(top, d)
	}
	slices.Sort(x.live)
	x.dl = make([]uint32, int(top)+1)
	if len(dl) == 0 {
		x.dl = nil
	}
	for d, n := range dl {
		x.dl[d] = n
	}
	x.finish()
	return x
}

// fold merges neighbouring postings of one document.
func fold(l []posting) []posting {
	out := l[:0]
	for _, p := range l {
		if k := len(out) - 1; k >= 0 && out[k].doc == p.doc {
			out[k].freq += p.freq
			continue
		}
		out = append(out, p)
	}
	return out
}

// Merge returns old without the documents in drop and with the
// documents and postings of add, which must not share a document with
// what is kept of old. old and add are left as they are. Its cost is a
// pass over old's postings: no posting is decoded or re-sorted.
func Merge(old, add *Index, drop []uint32) (*Index, error) {
	gone := newBitset(len(old.dl))
	for _, d := range drop {
		gone.set(d)
	}
	x := &Index{terms: make(map[string]int32, len(old.names)+len(add.names))}
	if err := x.mergeDocs(old, add, gone); err != nil {
		return nil, err
	}
	x.docs = make([]uint32, 0, len(old.docs)+len(add.docs))
	x.freq = make([]uint32, 0, len(old.docs)+len(add.docs))
	i, j := 0, 0
	for i < len(old.names) || j < len(add.names) {
		switch {
		case j == len(add.names) || i < len(old.names) && old.names[i] < add.names[j]:
			x.mergeTerm(old.names[i], old.list(int32(i)), postingList{}, gone)
			i++
		case i == len(old.names) || add.names[j] < old.names[i]:
			x.mergeTerm(add.names[j], postingList{}, add.list(int32(j)), gone)
			j++
		default:
			x.mergeTerm(old.names[i], old.list(int32(i)), add.list(int32(j)), gone)
			i, j = i+1, j+1
		}
	}
	x.off = append(x.off, uint32(len(x.docs)))
	x.finish()
	return x, nil
}

// mergeDocs sets x's documents and lengths: old's not gone, and add's.
func (x *Index) mergeDocs(old, add *Index, gone bitset) error {
	x.dl = make([]uint32, max(len(old.dl), len(add.dl)))
	for _, d := range old.live {
		if !gone.has(d) {
			x.dl[d] = old.dl[d]
		}
	}
	a, b := old.live, add.live
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(a) > 0 && gone.has(a[0]):
			a = a[1:]
		case len(b) == 0 || len(a) > 0 && a[0] < b[0]:
			x.live, a = append(x.live, a[0]), a[1:]
		case len(a) > 0 && a[0] == b[0]:
			return fmt.Errorf("document %d is both kept and added", b[0])
		default:
			x.live, b = append(x.live, b[0]), b[1:]
			x.dl[x.live[len(x.live)-1]] = add.dl[x.live[len(x.live)-1]]
		}
	}
	return nil
}

// postingList is one term's postings in an Index.
type postingList struct{ docs, freq []uint32 }

func (x *Index) list(t int32) postingList {
	lo, hi := x.off[t], x.off[t+1]
	return postingList{x.docs[lo:hi], x.freq[lo:hi]}
}

// mergeTerm appends the postings of a (without gone documents) and b in
// document order, and the term when any remain.
func (x *Index) mergeTerm(name string, a, b postingList, gone bitset) {
	start := len(x.docs)
	i, j := 0, 0
	for i < len(a.docs) || j < len(b.docs) {
		if j == len(b.docs) || i < len(a.docs) && a.docs[i] < b.docs[j] {
			if !gone.has(a.docs[i]) {
				x.docs, x.freq = append(x.docs, a.docs[i]), append(x.freq, a.freq[i])
			}
			i++
			continue
		}
		x.docs, x.freq = append(x.docs, b.docs[j]), append(x.freq, b.freq[j])
		j++
	}
	if len(x.docs) > start {
		x.terms[name] = int32(len(x.names))
		x.names = append(x.names, name)
		x.off = append(x.off, uint32(start))
	}
}

// bitset is a set of document numbers.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (s bitset) set(d uint32) {
	if int(d/64) < len(s) {
		s[d/64] |= 1 << (d % 64)
	}
}

func (s bitset) has(d uint32) bool { return int(d/64) < len(s) && s[d/64]&(1<<(d%64)) != 0 }
