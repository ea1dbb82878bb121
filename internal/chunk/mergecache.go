package chunk

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// Merge cache bounds: at most mergeSlots pieces of at most maxCachedPiece
// bytes, so hostile input cannot grow it.
const (
	mergeSlots     = 1 << 15
	maxCachedPiece = 64
)

// mergeCache remembers how many tokens recently merged pieces came to.
// It is direct-mapped and lock-free: each slot holds an immutable entry
// that a later piece hashing to the same slot replaces whole, so
// concurrent counters never wait on each other.
type mergeCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[mergeEntry]
}

type mergeEntry struct {
	piece string
	count int
}

func newMergeCache() *mergeCache {
	return &mergeCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[mergeEntry], mergeSlots)}
}

// count returns piece's token count, merging it unless it is cached.
func (c *mergeCache) count(piece string, ranks *rankTable) int {
	if len(piece) > maxCachedPiece {
		return mergeCount(piece, ranks)
	}
	slot := &c.slots[maphash.String(c.seed, piece)&(mergeSlots-1)]
	if e := slot.Load(); e != nil && e.piece == piece {
		return e.count
	}
	n := mergeCount(piece, ranks)
	slot.Store(&mergeEntry{strings.Clone(piece), n}) // not the caller's text
	return n
}
