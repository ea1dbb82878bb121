package answer

import (
	"regexp"
	"strings"
)

var citationMarker = regexp.MustCompile(`\[\d+\]`)

// leadingMarkers are the citation markers right after a sentence's end.
var leadingMarkers = regexp.MustCompile(`^(?:\s*\[\d+\])+`)

// UnsourcedMark is what MarkUnsourced puts after a sentence that cites
// nothing.
const UnsourcedMark = "[no source]"

// answerSentences cuts text after each sentence and the citation markers that
// follow it. A sentence ends at . ! or ? followed by white space or the
// end, so "ask?" inside quotes does not end one.
func answerSentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		if i+1 < len(text) && text[i+1] != ' ' && text[i+1] != '\n' && text[i+1] != '\t' {
			continue
		}
		end := i + 1 + len(leadingMarkers.FindString(text[i+1:]))
		out = append(out, text[start:end])
		start, i = end, end-1
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// MarkUnsourced marks every sentence of an answer that cites no passage
// (a chat model's sentence whose citation was dropped as unsupported, or
// that never had one), so a reader does not take it for a sourced one.
// It returns the text and how many sentences it marked.
func MarkUnsourced(text string) (string, int) {
	if strings.TrimSpace(text) == Declined {
		return text, 0
	}
	var b strings.Builder
	marked := 0
	for _, s := range answerSentences(text) {
		if strings.TrimSpace(s) == "" || citationMarker.MatchString(s) {
			b.WriteString(s)
			continue
		}
		marked++
		trimmed := strings.TrimRight(s, " \t\n")
		b.WriteString(trimmed + " " + UnsourcedMark + s[len(trimmed):])
	}
	return b.String(), marked
}
