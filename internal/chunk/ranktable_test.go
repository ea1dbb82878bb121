package chunk

import (
	"testing"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// TestRankTableMatchesMap: every cl100k_base token has its rank in the
// table, and strings near tokens (one byte more or less) are found only
// when they are tokens themselves.
func TestRankTableMatchesMap(t *testing.T) {
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
	if err != nil {
		t.Fatal(err)
	}
	table := newRankTable(ranks)
	check := func(s string) {
		want, wok := ranks[s]
		if got, ok := table.rank(s); ok != wok || got != want && wok {
			t.Fatalf("rank(%q) = %d, %v; map %d, %v", s, got, ok, want, wok)
		}
	}
	for tok := range ranks {
		check(tok)
		check(tok + "\x00")
		check(tok + "q")
		check(tok[1:])
	}
	for _, s := range []string{"", "\x00", "\x00\x00", "0123456789abcde", "0123456789abcdef", "0123456789abcdefg"} {
		check(s)
	}
}

func TestPackTokenIsInjective(t *testing.T) {
	cases := []string{"a", "a\x00", "\x00a", "\x00", "\x00\x00", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefg\x00i", "123456789012345"}
	seen := map[[2]uint64]string{}
	for _, s := range cases {
		k0, k1 := packToken(s)
		if prev, ok := seen[[2]uint64{k0, k1}]; ok {
			t.Errorf("%q and %q pack alike", prev, s)
		}
		seen[[2]uint64{k0, k1}] = s
	}
}
