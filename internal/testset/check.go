package testset

import (
	"regexp"
	"strings"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Reasons a candidate is dropped (Report.Dropped).
const (
	DropEmpty            = "empty"
	DropLength           = "question_length"
	DropQuoteNotInSource = "quote_not_in_passage"
	DropUnsupported      = "answer_not_in_quote"
	DropContextual       = "needs_the_passage"
	DropAnswerInQuestion = "answer_in_question"
	DropUnverified       = "unanswerable_not_verified"
)

// contextual matches questions that only make sense next to the passage
// they were written from.
// "In the document store" is an ordinary question; "in the passage" and
// "according to the document" are not.
var contextual = regexp.MustCompile(`(?i)\baccording to (the|this|that) \w+|\b(in|from|of) (the|this|that) (text|passage|excerpt|paragraph|context|snippet)\b|\b(this|that) (document|article|section|table|figure|study|paper)\b|\bthe (author|authors|writer)\b|\b(the|this) (above|following|preceding)\b|\b(mentioned|described|shown|given) (above|here|below)\b|^(it|this|these|that|those|they|he|she)\b`)

// Check says why a candidate would make a poor test item ("" when it is
// fine): the quote must occur in the passage and hold the answer, the
// question must stand alone and not give its answer away.
func Check(c Candidate, p Passage) string {
	q := strings.TrimSpace(c.Question)
	if q == "" {
		return DropEmpty
	}
	if n := len(strings.Fields(q)); n < 3 || n > 60 {
		return DropLength
	}
	if contextual.MatchString(q) {
		return DropContextual
	}
	if c.Kind == evaluate.KindSwappedEntity || c.Kind == KindOffPassage {
		if c.Verified == "" {
			return DropUnverified
		}
		return ""
	}
	if strings.TrimSpace(c.Answer) == "" || strings.TrimSpace(c.Quote) == "" {
		return DropEmpty
	}
	if !quotesIn(c, p) {
		return DropQuoteNotInSource
	}
	if !supports(c.Quote, c.Answer) {
		return DropUnsupported
	}
	if evaluate.Contains(q, []string{c.Answer}) == 1 {
		return DropAnswerInQuestion
	}
	return ""
}

// quotesIn checks the quote, or for a two-passage question each of its
// lines, each in a different chunk.
func quotesIn(c Candidate, p Passage) bool {
	if c.Kind != KindTwoPassage {
		return quoteIn(c.Quote, p)
	}
	parts := strings.Split(c.Quote, "\n")
	if len(parts) != len(p.Chunks) {
		return false
	}
	for i, q := range parts {
		if strings.TrimSpace(q) == "" || !quoteIn(q, Passage{Chunks: p.Chunks[i : i+1]}) {
			return false
		}
	}
	return true
}

// quoteIn reports whether the quote occurs in one of the passage's chunks,
// up to white space and case.
func quoteIn(quote string, p Passage) bool {
	q := fold(quote)
	for _, c := range p.Chunks {
		if strings.Contains(fold(c.Text), q) {
			return true
		}
	}
	return false
}

// supports reports whether the quote holds the answer: verbatim (after
// SQuAD normalisation), or all but a fifth of its content words (none
// missing for answers under five content words).
func supports(quote, answer string) bool {
	if evaluate.Contains(quote, []string{answer}) == 1 {
		return true
	}
	in := lexical.StemSet(quote)
	terms := lexical.Terms(answer)
	if len(terms) == 0 {
		return false
	}
	missing := 0
	for _, t := range terms {
		if !in[lexical.Stem(t)] {
			missing++
		}
	}
	return missing <= len(terms)/5
}

// keptQuestions finds near-duplicates among the kept questions: the same
// content words, or nearly (Jaccard similarity of their stems ≥ 0.8).
type keptQuestions struct{ sets []map[string]bool }

func (k *keptQuestions) add(q string) { k.sets = append(k.sets, lexical.StemSet(q)) }

func (k *keptQuestions) near(q string) bool {
	s := lexical.StemSet(q)
	for _, t := range k.sets {
		inter := 0
		for w := range s {
			if t[w] {
				inter++
			}
		}
		union := len(s) + len(t) - inter
		if union > 0 && float64(inter)/float64(union) >= 0.8 {
			return true
		}
	}
	return false
}
