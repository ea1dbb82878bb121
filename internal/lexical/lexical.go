// Package lexical holds the text analysis shared by keyword search and
// the extractive answerer: tokenising, stopwords, stemming, and building
// queries for SQLite FTS5, whose BM25 ranks chunks in the embedded store.
package lexical

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
)

// FTS5Tokenizer is the tokenizer the store's full-text index is built
// with: Porter stemming over Unicode word splitting, diacritics folded.
// Changing it changes the index identity.
const FTS5Tokenizer = "porter unicode61 remove_diacritics 2"

// Words splits text into lower-cased words of letters and digits.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// IsStopword reports whether w (lower case) carries no topic.
func IsStopword(w string) bool { return stopwords[w] }

// Terms returns the content words of text: stopwords and one-letter
// tokens removed, duplicates kept in order of first appearance.
func Terms(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range Words(text) {
		if len([]rune(w)) < 2 && !unicode.IsDigit([]rune(w)[0]) || stopwords[w] || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// Stem reduces a lower-case word to its Snowball (Porter2) stem.
func Stem(w string) string {
	if len(w) < 3 {
		return w
	}
	return english.Stem(w, false)
}

// StemSet returns the stems of text's content words.
func StemSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range Terms(text) {
		set[Stem(w)] = true
	}
	return set
}

// MaxQueryTerms bounds the words one keyword search ORs together: each
// costs a walk of its posting list, so a pasted book must not cost a
// book's worth of them. Longer queries keep their rarest words (which
// carry nearly all of BM25's weight); a kept word repeats in the match
// expression at most MaxTermRepeat times.
const MaxQueryTerms = 64

// MaxWeighedTerms bounds how many distinct words of a long query have
// their rarity looked up to choose the MaxQueryTerms kept.
const MaxWeighedTerms = 1024

// QueryTerms are the words a keyword search for text looks for: its
// content words, or, for a query made only of stopwords ("what is it"),
// all its words, which still deserve an answer from whatever they share
// with the text.
func QueryTerms(text string) []string {
	if terms := Terms(text); len(terms) > 0 {
		return terms
	}
	return Words(text)
}

// QueryTerm is a word of a query and how many times the query says it.
type QueryTerm struct {
	Word  string
	Count int
}

// MaxTermRepeat caps how many times one word counts in a query's BM25
// score. BM25 as Lucene and Anserini run it sums a term once per time the
// query holds it, so the words a long, verbose query repeats are the ones
// it is about; the cap keeps a word pasted a hundred times from drowning
// the rest.
const MaxTermRepeat = 3

// WeighQuery is QueryTerms with each word's count in text, in order of
// first appearance.
func WeighQuery(text string) []QueryTerm {
	terms := QueryTerms(text)
	at := make(map[string]int, len(terms))
	out := make([]QueryTerm, 0, len(terms))
	for _, t := range terms {
		if _, dup := at[t]; !dup {
			at[t] = len(out)
			out = append(out, QueryTerm{Word: t})
		}
	}
	for _, w := range Words(text) {
		if i, ok := at[w]; ok {
			out[i].Count++
		}
	}
	return out
}

// QueryWords are the words of terms, in order.
func QueryWords(terms []QueryTerm) []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = t.Word
	}
	return out
}

// MatchQuery turns free text into an FTS5 MATCH expression that ORs the
// content words, each quoted so FTS5 syntax in user input is inert. It
// returns "" when text has no content words.
func MatchQuery(text string) string { return MatchWeighted(WeighQuery(text)) }

// MatchWeighted is the FTS5 MATCH expression that ORs terms, each quoted
// and repeated as often as the query says it (up to MaxTermRepeat):
// FTS5's bm25() sums over the expression's phrases, so a repeated phrase
// weighs as Lucene's query term frequency does.
func MatchWeighted(terms []QueryTerm) string {
	quoted := make([]string, 0, len(terms))
	for _, t := range terms {
		for range min(max(t.Count, 1), MaxTermRepeat) {
			quoted = append(quoted, quote(t.Word))
		}
	}
	return strings.Join(quoted, " OR ")
}

func quote(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }

// ParseMatch reads back the phrases of a MATCH expression that ORs
// quoted phrases, as MatchWeighted writes it. ok is false for any other
// expression (FTS5 syntax a caller wrote itself).
func ParseMatch(match string) (phrases []string, ok bool) {
	for rest := match; ; {
		if len(rest) < 2 || rest[0] != '"' {
			return nil, false
		}
		var b strings.Builder
		i := 1
		for ; i < len(rest); i++ {
			if rest[i] != '"' {
				b.WriteByte(rest[i])
				continue
			}
			if i+1 < len(rest) && rest[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			break
		}
		if i >= len(rest) {
			return nil, false
		}
		phrases = append(phrases, b.String())
		rest = rest[i+1:]
		if rest == "" {
			return phrases, true
		}
		if !strings.HasPrefix(rest, " OR ") {
			return nil, false
		}
		rest = rest[len(" OR "):]
	}
}

// stopwords: English function words, including the question words that
// every query carries ("how", "what", "does") and that must not count as
// evidence when judging whether a passage answers a question.
var stopwords = toSet(`a about above after again against all am an and any are aren't as at be because been
before being below between both but by can cannot could did do does doing don't down during each few for
from further had has have having he her here hers herself him himself his how i if in into is isn't it its
itself just let me more most my myself no nor not now of off on once only or other ought our ours ourselves
out over own same she should so some such than that the their theirs them themselves then there these they
this those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves also may might must shall s t d ll m re ve y get gets got
tell please`)

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Support is the share of claim's content words (by stem) that passage
// contains: how well a passage backs a sentence, for citation checks and
// faithfulness. A claim without content words is fully supported.
func Support(passage, claim string) float64 {
	want := StemSet(claim)
	if len(want) == 0 {
		return 1
	}
	have := StemSet(passage)
	n := 0
	for s := range want {
		if have[s] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}
