// Package conversation turns a follow-up question into one that stands on
// its own for retrieval. "And how often is that done?" retrieves nothing
// by itself; with the salient words of the turns before it, it retrieves
// the passage the conversation is about.
package conversation

import (
	"strings"

	"github.com/ragtune/ragtune/internal/lexical"
)

// Turn is one message of a conversation.
type Turn struct {
	Role string `json:"role"` // "user" or "assistant"
	Text string `json:"content"`
}

// MaxCarried bounds the words earlier turns add to a question.
const MaxCarried = 12

// Standalone is the question to retrieve for: the question itself, then
// the content words of earlier user turns that it does not already have,
// the most recent turns first, at most MaxCarried. Earlier user turns
// name the subject; answers are left out, since an answer's words would
// pull retrieval towards the passage already used rather than the one
// asked about now. The rule is offline and the same for every answerer.
func Standalone(question string, history []Turn) string {
	have := map[string]bool{}
	for _, w := range lexical.Terms(question) {
		have[lexical.Stem(w)] = true
	}
	var carried []string
	for i := len(history) - 1; i >= 0 && len(carried) < MaxCarried; i-- {
		if history[i].Role != "user" {
			continue
		}
		for _, w := range lexical.Terms(history[i].Text) {
			if s := lexical.Stem(w); !have[s] && len(carried) < MaxCarried {
				have[s] = true
				carried = append(carried, w)
			}
		}
	}
	if len(carried) == 0 {
		return question
	}
	return strings.TrimSpace(question) + " " + strings.Join(carried, " ")
}
