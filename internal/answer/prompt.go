package answer

import (
	"fmt"
	"strings"

	"github.com/ragtune/ragtune/internal/retrieve"
)

// DefaultSystemPrompt sets the behaviour; the grounding rules are always
// appended, so a custom prompt cannot drop them by accident.
const DefaultSystemPrompt = "You are a precise assistant that answers questions about the user's documents."

const groundingRules = `Answer only from the numbered context passages. After every sentence, cite the passages that support it as [n], for example [1] or [2][3]. Do not use outside knowledge. If the passages do not contain the answer, reply exactly: ` + Declined

// TokenCounter counts tokens for the context budget.
type TokenCounter interface{ Count(string) int }

// Prompt is what a chat model receives.
type Prompt struct {
	System string
	User   string
	// Used is how many hits fit the token budget; citation numbers refer
	// to hits[:Used].
	Used int
}

// BuildPrompt numbers the hits, keeping as many as fit budget tokens
// (at least one), and adds the question.
func BuildPrompt(system, question string, hits []retrieve.Hit, budget int, tok TokenCounter) Prompt {
	if system == "" {
		system = DefaultSystemPrompt
	}
	var b strings.Builder
	b.WriteString("Context passages:\n\n")
	used, spent := 0, 0
	for i, h := range hits {
		src := h.DocPath
		if h.Heading != "" {
			src += " > " + h.Heading
		}
		block := fmt.Sprintf("[%d] (%s)\n%s\n\n", i+1, src, strings.TrimSpace(h.Text))
		n := tok.Count(block)
		if used > 0 && spent+n > budget {
			break
		}
		b.WriteString(block)
		used, spent = used+1, spent+n
	}
	fmt.Fprintf(&b, "Question: %s", strings.TrimSpace(question))
	return Prompt{System: strings.TrimSpace(system) + "\n\n" + groundingRules, User: b.String(), Used: used}
}
