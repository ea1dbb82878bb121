package testset

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Range is the byte range [Start, End) of a passage's text.
type Range struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// QuoteRanges finds each line of an item's quote in a passage's text,
// matched as generation checks quotes (up to white space, case and the
// emphasis marks * ` _), and returns where the lines found lie in text,
// so that a reviewer's page can highlight them.
func QuoteRanges(text, quote string) []Range {
	ft := foldIndex(text)
	var out []Range
	for _, line := range strings.Split(quote, "\n") {
		q := fold(line)
		if q == "" {
			continue
		}
		if i := strings.Index(ft.s, q); i >= 0 {
			out = append(out, Range{Start: ft.from[i], End: ft.to[i+len(q)-1]})
		}
	}
	return out
}

// folded is a text folded for quote matching, with the byte range of the
// original text each of its bytes came from.
type folded struct {
	s        string
	from, to []int
}

// foldIndex folds s as fold does, remembering where each byte came from.
func foldIndex(s string) folded {
	var f folded
	var b strings.Builder
	emit := func(piece string, from, to int) {
		b.WriteString(piece)
		for range len(piece) {
			f.from, f.to = append(f.from, from), append(f.to, to)
		}
	}
	space, spaceEnd := -1, 0 // a pending run of white space
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '*' || r == '`' || r == '_':
		case unicode.IsSpace(r):
			if space < 0 {
				space = i
			}
			spaceEnd = i + n
		default:
			if space >= 0 && b.Len() > 0 {
				emit(" ", space, spaceEnd)
			}
			space = -1
			emit(string(unicode.ToLower(r)), i, i+n)
		}
		i += n
	}
	f.s = b.String()
	return f
}

// fold is s with emphasis marks dropped, white space collapsed and
// trimmed, in lower case: the form in which a quote must occur in its
// passage.
func fold(s string) string { return foldIndex(s).s }
