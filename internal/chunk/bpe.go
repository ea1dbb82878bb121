package chunk

import (
	"fmt"
	"math"
	"sync"
	"unicode/utf8"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// cl100kRanks is cl100k_base's rank table, read once from the embedded
// copy tiktoken-go-loader ships (no network) and never written after.
var cl100kRanks = sync.OnceValues(func() (*rankTable, error) {
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
	if err != nil {
		return nil, fmt.Errorf("reading ranks: %w", err)
	}
	return newRankTable(ranks), nil
})

// bpeCounter counts cl100k_base tokens the way tiktoken-go's
// EncodeOrdinary does, without building token ids or a rune copy of the
// text. merges (nil: none) remembers pieces that needed merging.
type bpeCounter struct {
	ranks  *rankTable
	merges *mergeCache
}

func (b bpeCounter) count(s string) int {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // tiktoken-go sees each bad byte as U+FFFD
	}
	n := 0
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		n += b.pieceCount(s[i:j])
		i = j
	}
	return n
}

// pieceCount is the number of tokens byte-pair merging gives one piece.
func (b bpeCounter) pieceCount(piece string) int {
	if _, ok := b.ranks.rank(piece); ok || len(piece) == 1 {
		return 1
	}
	if b.merges == nil {
		return mergeCount(piece, b.ranks)
	}
	return b.merges.count(piece, b.ranks)
}

// part is a merge boundary: where a part starts and the rank of merging
// it with the next part (math.MaxInt: no such token).
type part struct{ start, rank int }

// mergeCount runs tiktoken-go's bytePairMerge (lowest rank first, leftmost
// on ties) and returns how many parts remain.
func mergeCount(piece string, ranks *rankTable) int {
	var buf [64]part
	parts := buf[:0]
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, part{i, math.MaxInt})
	}
	for i := 0; i+2 < len(parts); i++ {
		parts[i].rank = pairRank(piece, parts, i, 0, ranks)
	}
	for len(parts) > 1 {
		best := 0
		for i := 1; i < len(parts)-1; i++ {
			if parts[i].rank < parts[best].rank {
				best = i
			}
		}
		if parts[best].rank == math.MaxInt {
			break
		}
		parts[best].rank = pairRank(piece, parts, best, 1, ranks)
		if best > 0 {
			parts[best-1].rank = pairRank(piece, parts, best-1, 1, ranks)
		}
		parts = append(parts[:best+1], parts[best+2:]...)
	}
	return len(parts) - 1
}

// pairRank is the rank of the bytes from parts[i] to parts[i+skip+2].
func pairRank(piece string, parts []part, i, skip int, ranks *rankTable) int {
	if i+skip+2 >= len(parts) {
		return math.MaxInt
	}
	if r, ok := ranks.rank(piece[parts[i].start:parts[i+skip+2].start]); ok {
		return r
	}
	return math.MaxInt
}
