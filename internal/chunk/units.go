package chunk

import (
	"strings"
	"unicode/utf8"

	"github.com/ragtune/ragtune/internal/document"
)

// Boundary strengths between two units, weakest first. Splitters cut at
// the strongest boundary available, the way a person would.
const (
	bWord = iota
	bClause
	bLine
	bSentence
	bParagraph
	bHeading
)

// maxUnitBytes breaks up whitespace-free runs (base64 blobs, minified
// code) so no single unit can exceed a chunk.
const maxUnitBytes = 200

// unit is a word-like span of the text with the whitespace before it.
type unit struct {
	start, end int // the non-space bytes
	tokens     int
	boundary   int  // strength of the boundary before this unit
	heading    bool // inside a heading line
}

func splitUnits(doc *document.Document, tok Counter) []unit {
	text := doc.Text
	var units []unit
	hi := 0
	i := 0
	for i < len(text) {
		ws := i
		for i < len(text) && isSpaceByte(text[i]) {
			i++
		}
		if i >= len(text) {
			break
		}
		start := i
		for i < len(text) && !isSpaceByte(text[i]) && i-start < maxUnitBytes {
			i++
		}
		for i < len(text) && !utf8.RuneStart(text[i]) {
			i++ // never cut inside a rune
		}
		u := unit{start: start, end: i, tokens: tok.Count(" " + text[start:i])}
		u.boundary = boundaryBefore(text, ws, start, units)
		hs := doc.Headings
		// Move past headings that began before this gap and do not cover
		// this unit.
		for hi < len(hs) && hs[hi].Start < ws && start >= hs[hi].End {
			hi++
		}
		if hi < len(hs) {
			h := hs[hi]
			if h.Start >= ws && h.Start <= start {
				u.boundary = bHeading
			}
			u.heading = start >= h.Start && start < h.End
		}
		units = append(units, u)
	}
	return units
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'
}

func boundaryBefore(text string, wsStart, start int, prev []unit) int {
	if len(prev) == 0 {
		return bParagraph
	}
	gap := text[wsStart:start]
	if strings.Count(gap, "\n") >= 2 {
		return bParagraph
	}
	b := bWord
	if strings.Contains(gap, "\n") {
		b = bLine
	}
	return max(b, punctuationBoundary(text[prev[len(prev)-1].start:prev[len(prev)-1].end]))
}

func punctuationBoundary(last string) int {
	last = strings.TrimRight(last, `"')]}»”’`)
	switch {
	case last == "":
		return bWord
	case strings.HasSuffix(last, ".") || strings.HasSuffix(last, "!") || strings.HasSuffix(last, "?") ||
		strings.HasSuffix(last, "。") || strings.HasSuffix(last, "…"):
		if isAbbreviation(last) {
			return bWord
		}
		return bSentence
	case strings.HasSuffix(last, ",") || strings.HasSuffix(last, ";") || strings.HasSuffix(last, ":"):
		return bClause
	}
	return bWord
}

var abbreviations = map[string]bool{
	"e.g.": true, "i.e.": true, "etc.": true, "vs.": true, "mr.": true, "mrs.": true, "ms.": true,
	"dr.": true, "prof.": true, "fig.": true, "no.": true, "al.": true, "approx.": true, "cf.": true,
	"st.": true, "jr.": true, "sr.": true, "inc.": true, "ltd.": true, "co.": true,
}

func isAbbreviation(word string) bool {
	w := strings.ToLower(word)
	if abbreviations[w] {
		return true
	}
	// Single initials ("J.") rarely end a sentence.
	return len(w) == 2 && w[1] == '.' && w[0] >= 'a' && w[0] <= 'z'
}
