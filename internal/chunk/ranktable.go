package chunk

import "math/bits"

// maxPacked is the longest token a rankTable slot holds inline.
const maxPacked = 15

// rankTable maps tokens to ranks like the map[string]int it is built
// from, laid out for the byte-pair merge's many short lookups: a token of
// up to 15 bytes is packed with its length into two words, so finding it
// reads one slot of an open-addressing table instead of a map group, a
// string header and the string. Longer tokens stay in a map. Read-only
// once built.
type rankTable struct {
	slots []rankSlot
	shift uint // 64 - log2(len(slots))
	long  map[string]int
}

// rankSlot is one token; k1 == 0 marks an empty slot (a packed key's
// length byte is never 0).
type rankSlot struct {
	k0, k1 uint64
	rank   int32
}

func newRankTable(ranks map[string]int) *rankTable {
	size := 1 << bits.Len(uint(2*len(ranks))) // load factor at most 1/2
	t := &rankTable{slots: make([]rankSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size))), long: map[string]int{}}
	for tok, r := range ranks {
		if len(tok) == 0 || len(tok) > maxPacked {
			t.long[tok] = r
			continue
		}
		k0, k1 := packToken(tok)
		i := t.home(k0, k1)
		for t.slots[i].k1 != 0 {
			i = (i + 1) & (len(t.slots) - 1)
		}
		t.slots[i] = rankSlot{k0, k1, int32(r)}
	}
	return t
}

// packToken packs 1 to 15 bytes and their length into two words.
func packToken(s string) (k0, k1 uint64) {
	k1 = uint64(len(s)) << 56
	if len(s) > 8 {
		for i := len(s) - 1; i >= 8; i-- {
			k1 |= uint64(s[i]) << (8 * (i - 8))
		}
		s = s[:8]
	}
	for i := len(s) - 1; i >= 0; i-- {
		k0 = k0<<8 | uint64(s[i])
	}
	return k0, k1
}

func (t *rankTable) home(k0, k1 uint64) int {
	h := (k0*0x9E3779B97F4A7C15 ^ k1) * 0xC2B2AE3D27D4EB4F
	return int(h >> t.shift)
}

// rank returns s's rank and whether s is a token.
func (t *rankTable) rank(s string) (int, bool) {
	if len(s) == 0 || len(s) > maxPacked {
		r, ok := t.long[s]
		return r, ok
	}
	k0, k1 := packToken(s)
	for i := t.home(k0, k1); ; i = (i + 1) & (len(t.slots) - 1) {
		sl := &t.slots[i]
		if sl.k1 == k1 && sl.k0 == k0 {
			return int(sl.rank), true
		}
		if sl.k1 == 0 {
			return 0, false
		}
	}
}
