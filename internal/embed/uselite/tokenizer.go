package uselite

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// The tokenizer reproduces the reference implementation
// (@energetic-ai/embeddings, after tfjs-models' universal-sentence-encoder)
// step for step, quirks included, since the model was trained on its ids:
// NFKC, spaces to "▁", Viterbi over a trie of SentencePiece pieces where
// later candidates win ties, unknown characters as id 0 (runs merged), and
// back-tracking by the piece's UTF-16 length.

const (
	separator        = "\u2581"
	reservedSymbols  = 6
	unknownID        = 0
	maxTokensPerText = 128 // the graph clips longer inputs the same way
)

type piece struct {
	text  string
	score float64
}

type trieNode struct {
	children map[rune]*trieNode
	end      bool
	score    float64
	index    int
	depth    int
}

type tokenizer struct {
	vocab []piece
	root  *trieNode
}

func loadTokenizer(path string) (*tokenizer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries [][2]any
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("parsing vocabulary: %w", err)
	}
	t := &tokenizer{root: &trieNode{children: map[rune]*trieNode{}}}
	for i, e := range entries {
		text, ok1 := e[0].(string)
		score, ok2 := e[1].(float64)
		if e[1] == nil {
			score, ok2 = 0, true // JavaScript adds null as 0
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("vocabulary entry %d is not [piece, score]", i)
		}
		t.vocab = append(t.vocab, piece{text, score})
		if i >= reservedSymbols {
			t.insert(text, score, i)
		}
	}
	if len(t.vocab) <= reservedSymbols {
		return nil, fmt.Errorf("vocabulary has only %d entries", len(t.vocab))
	}
	return t, nil
}

func (t *tokenizer) insert(word string, score float64, index int) {
	n := t.root
	for _, r := range word {
		c, ok := n.children[r]
		if !ok {
			c = &trieNode{children: map[rune]*trieNode{}, depth: n.depth + 1}
			n.children[r] = c
		}
		n = c
	}
	n.end, n.score, n.index = true, score, index
}

type match struct {
	length int // in code points
	score  float64
	index  int
}

// prefixes lists the pieces that start s, shortest first; an unknown
// character yields itself as id 0.
func (t *tokenizer) prefixes(s []rune) []match {
	var out []match
	n := t.root.children[s[0]]
	for i := 0; i < len(s) && n != nil; i++ {
		if n.end {
			out = append(out, match{n.depth, n.score, n.index})
		}
		if i+1 < len(s) {
			n = n.children[s[i+1]]
		} else {
			n = nil
		}
	}
	if len(out) == 0 {
		out = append(out, match{1, 0, unknownID})
	}
	return out
}

// encode tokenizes input. Long inputs are tokenized only as far as the
// model reads: no piece has "▁" past its first symbol, so the best
// segmentation up to a space does not depend on the text after it, and
// the ids of a prefix cut at a space equal the first ids of the whole.
func (t *tokenizer) encode(input string) []int32 {
	for limit := 8 * maxTokensPerText; ; limit *= 2 {
		prefix, cut := cutAtSpace(input, limit)
		ids := t.encodeAll(prefix)
		if !cut || len(ids) > maxTokensPerText {
			return ids
		}
	}
}

// cutAtSpace returns s up to the last space before its limit-th rune, and
// whether anything was cut.
func cutAtSpace(s string, limit int) (string, bool) {
	n := 0
	for i := range s {
		if n == limit {
			if sp := strings.LastIndexByte(s[:i], ' '); sp > 0 {
				return s[:sp], true
			}
			return s, false
		}
		n++
	}
	return s, false
}

type latticeEntry struct {
	start int
	m     match
}

func (t *tokenizer) encodeAll(input string) []int32 {
	input = norm.NFKC.String(input)
	if input == "" {
		return nil
	}
	symbols := []rune(separator + strings.ReplaceAll(input, " ", separator))
	n := len(symbols)
	// lattice[end] lists the pieces ending at end, by ascending start
	// (the order the reference visits them in).
	lattice := make([][]latticeEntry, n+1)
	for i := 0; i < n; i++ {
		for _, m := range t.prefixes(symbols[i:]) {
			end := i + m.length
			lattice[end] = append(lattice[end], latticeEntry{i, m})
		}
	}
	best := make([]float64, n+1)
	words := make([]int, n+1)
	for end := 0; end <= n; end++ {
		for _, e := range lattice[end] {
			score := e.m.score + best[end-e.m.length]
			if best[end] == 0 || score >= best[end] {
				best[end], words[end] = score, e.m.index
			}
		}
	}
	var ids []int32
	for i := n; i > 0; {
		id := words[i]
		ids = append(ids, int32(id))
		i -= len(utf16.Encode([]rune(t.vocab[id].text)))
	}
	merged := ids[:0]
	prevUnknown := false
	for _, id := range ids {
		if !(prevUnknown && id == unknownID) {
			merged = append(merged, id)
		}
		prevUnknown = id == unknownID
	}
	for a, b := 0, len(merged)-1; a < b; a, b = a+1, b-1 {
		merged[a], merged[b] = merged[b], merged[a]
	}
	return merged
}
