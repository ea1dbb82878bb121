package answer

import (
	"regexp"
	"strings"
)

// sentenceWithMarkers is a sentence and the citation markers after it.
var sentenceWithMarkers = regexp.MustCompile(`[^.!?]*[.!?]?(?:\s*\[\d+\])+|[^.!?]+[.!?]?`)

var citationMarker = regexp.MustCompile(`\[\d+\]`)

// UnsourcedMark is what MarkUnsourced puts after a sentence that cites
// nothing.
const UnsourcedMark = "[no source]"

// MarkUnsourced marks every sentence of an answer that cites no passage
// (a chat model's sentence whose citation was dropped as unsupported, or
// that never had one), so a reader does not take it for a sourced one.
// It returns the text and how many sentences it marked.
func MarkUnsourced(text string) (string, int) {
	if strings.TrimSpace(text) == Declined {
		return text, 0
	}
	marked := 0
	out := sentenceWithMarkers.ReplaceAllStringFunc(text, func(s string) string {
		if strings.TrimSpace(s) == "" || citationMarker.MatchString(s) {
			return s
		}
		marked++
		trimmed := strings.TrimRight(s, " \t\n")
		return trimmed + " " + UnsourcedMark + s[len(trimmed):]
	})
	return out, marked
}
