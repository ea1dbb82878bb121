package chunk

import (
	"unicode"
	"unicode/utf8"
)

// This file is a hand-written scanner for cl100k_base's split pattern as
// tiktoken-go runs it (regexp2, .NET semantics: leftmost alternative
// wins, greedy quantifiers backtrack):
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Classes as regexp2 decides them: \s is unicode.IsSpace, \p{L} and
// \p{N} are Go's unicode.L and unicode.N tables. Every rune is exactly
// one of letter, number, space or other, and every position starts a
// match, so the pieces tile the text.

// Rune classes.
const (
	clOther = iota
	clLetter
	clNumber
	clSpace
)

// asciiClass classifies the ASCII runes without a table lookup.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		t[r] = slowClass(r)
	}
	return t
}()

func slowClass(r rune) uint8 {
	switch {
	case unicode.Is(unicode.L, r):
		return clLetter
	case unicode.Is(unicode.N, r):
		return clNumber
	case unicode.IsSpace(r):
		return clSpace
	}
	return clOther
}

// runeAt decodes the rune at s[i] and its class. s must be valid UTF-8.
func runeAt(s string, i int) (rune, int, uint8) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return r, n, slowClass(r)
}

// classRun returns the end of the run of class cl starting at i, at most
// max runes long (max < 0: unbounded).
func classRun(s string, i int, cl uint8, max int) int {
	for ; i < len(s) && max != 0; max-- {
		_, n, c := runeAt(s, i)
		if c != cl {
			break
		}
		i += n
	}
	return i
}

// nextPiece returns the end of the piece that starts at s[i], i < len(s).
func nextPiece(s string, i int) int {
	r, n, cl := runeAt(s, i)
	if r == '\'' {
		if j := contraction(s, i+1); j > 0 {
			return j
		}
	}
	switch cl {
	case clLetter:
		return classRun(s, i+n, clLetter, -1)
	case clNumber:
		return classRun(s, i+n, clNumber, 2)
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+ with the optional rune present.
	if r != '\r' && r != '\n' {
		if j := classRun(s, i+n, clLetter, -1); j > i+n {
			return j
		}
	}
	if j, ok := punctuation(s, i, r); ok {
		return j
	}
	return spaces(s, i)
}

// contraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d) after the apostrophe
// at j-1, returning the match's end or 0. Only ASCII letters lower-case
// to these letters (TestContractionFolding), so folding ASCII suffices.
func contraction(s string, j int) int {
	at := func(k int) byte {
		if k < len(s) && 'A' <= s[k] && s[k] <= 'Z' {
			return s[k] + 'a' - 'A'
		} else if k < len(s) {
			return s[k]
		}
		return 0
	}
	switch c := at(j); {
	case c == 's' || c == 't' || c == 'm' || c == 'd':
		return j + 1
	case (c == 'r' || c == 'v') && at(j+1) == 'e', c == 'l' && at(j+1) == 'l':
		return j + 2
	}
	return 0
}

// punctuation matches ` ?[^\s\p{L}\p{N}]+[\r\n]*` at i.
func punctuation(s string, i int, r rune) (int, bool) {
	j := i
	if r == ' ' {
		j++
	}
	k := classRun(s, j, clOther, -1)
	if k == j {
		return 0, false
	}
	for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
		k++
	}
	return k, true
}

// spaces matches `\s*[\r\n]+|\s+(?!\S)|\s+` at i, where s[i] is a space.
func spaces(s string, i int) int {
	end := classRun(s, i, clSpace, -1)
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1 // \s* backs off to the last line break
		}
	}
	if end == len(s) {
		return end
	}
	// \s+(?!\S) backs off one rune so the next piece can take it.
	_, last := utf8.DecodeLastRuneInString(s[i:end])
	if back := end - last; back > i {
		return back
	}
	return end
}
