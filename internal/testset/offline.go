package testset

import (
	"context"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Offline writes questions from the passages' own sentences, with no
// model: definitions ("X is Y" → "What is X?"), procedures under a
// heading ("Install the model" under "Embedding model" → "How do you
// install the model?"… kept as the heading's task), and cloze questions
// (a number, date or name in a sentence's clause replaced by a question
// word). The answer is the span taken out; the quote is the sentence.
// Weaker than a model's questions — they repeat the passage's words — but
// the whole loop runs offline.
type Offline struct{ Seed uint64 }

// OfflineID names the offline writer's rules; change it when they change.
const OfflineID = "offline/3"

func (Offline) ID() string { return OfflineID }

// Write proposes every candidate the passage's sentences give, in a
// seeded sentence order: definitions first, then procedures, then cloze
// questions (the generation keeps the first that passes its checks, and
// later ones only when a small corpus needs more than one per passage).
func (o Offline) Write(_ context.Context, p Passage) ([]Candidate, error) {
	var defs, procs, clozes []Candidate
	for _, c := range p.Chunks {
		rng := rand.New(rand.NewPCG(o.Seed, hashString(c.ID)))
		sents := answer.Sentences(c.Text)
		rng.Shuffle(len(sents), func(i, j int) { sents[i], sents[j] = sents[j], sents[i] })
		for _, s := range sents {
			if !quotable(s) {
				continue
			}
			if d, ok := definition(s, c.Text); ok {
				defs = append(defs, d)
			}
			if pr, ok := procedure(c.Heading, s); ok {
				procs = append(procs, pr)
			}
			if cl, ok := cloze(rng, s); ok {
				clozes = append(clozes, cl)
			}
		}
	}
	return append(append(defs, procs...), clozes...), nil
}

// quotable keeps prose sentences of a useful length: no code, links,
// command lines or titles.
func quotable(s string) bool {
	n := len(strings.Fields(s))
	return n >= 6 && n <= 50 && !strings.ContainsAny(s, "`|{}<>\\") && !strings.Contains(s, "://") && !strings.Contains(s, " --") && !titleCase(s)
}

// titleCase reports a title ("Extrathymic Generation of Regulatory T
// Cells…"): most of its longer words capitalised.
func titleCase(s string) bool {
	long, caps := 0, 0
	for _, w := range strings.Fields(s) {
		if len(w) <= 3 {
			continue
		}
		long++
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) {
			caps++
		}
	}
	return long >= 3 && caps*2 > long
}

var (
	definitionRE       = regexp.MustCompile(`^(The |A |An )?([A-Za-z0-9][\w\-. /']{1,60}?) (is|are|means|refers to|stands for) (.+?)\.?$`)
	pronounStart       = regexp.MustCompile(`(?i)^(it|this|that|these|those|they|he|she|we|you|there|here|which|what|one|each|both|all|some|such|its|their|our|my|your)\b`)
	leadingConjunction = regexp.MustCompile(`(?i)^(and|but|or|so|then|also)\s+`)
	clauseBreak        = regexp.MustCompile(`[,;:]\s|\s[—–-]\s|\s(which|who|whereas|while|because|although|but|and then)\s`)
)

// definition turns "X is Y." into "What is X?" with Y's first clause as
// the answer.
func definition(s, text string) (Candidate, bool) {
	m := definitionRE.FindStringSubmatch(s)
	if m == nil || pronounStart.MatchString(m[2]) || !nounPhrase(m[2]) {
		return Candidate{}, false
	}
	article, subject, verb := strings.ToLower(m[1]), strings.TrimSpace(m[2]), m[3]
	if subject = commonNoun(subject, text); article != "" {
		subject = article + subject
	}
	if verb == "is" || verb == "are" {
		// "X is a Y", "X is where…": a definition, not "X is created…".
		if f := strings.Fields(m[4]); len(f) == 0 || !definitionStart[strings.ToLower(f[0])] {
			return Candidate{}, false
		}
	}
	ans := firstClause(m[4], 15)
	if len(strings.Fields(ans)) < 2 {
		return Candidate{}, false
	}
	var q string
	switch verb {
	case "is", "are":
		q = "What " + verb + " " + subject + "?"
	case "means":
		q = "What does " + subject + " mean?"
	case "refers to":
		q = "What does " + subject + " refer to?"
	case "stands for":
		q = "What does " + subject + " stand for?"
	}
	return Candidate{Question: q, Answer: ans, Quote: s, Kind: evaluate.KindAnswerable, Method: "definition"}, true
}

var definitionStart = map[string]bool{"a": true, "an": true, "the": true, "one": true, "how": true, "what": true, "where": true,
	"when": true, "why": true, "its": true, "their": true, "any": true, "each": true, "every": true}

// notInSubject are words that show a sentence's opening is a clause, not
// the noun phrase a definition starts with.
var notInSubject = map[string]bool{"only": true, "also": true, "says": true, "said": true, "must": true, "can": true, "will": true,
	"may": true, "should": true, "does": true, "do": true, "has": true, "have": true, "was": true, "were": true, "be": true,
	"been": true, "not": true, "never": true, "always": true, "often": true, "if": true, "when": true, "that": true, "which": true}

// nounPhrase is a short subject of ordinary words.
func nounPhrase(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 4 || stopwordStart[strings.ToLower(words[0])] {
		return false
	}
	for _, w := range words {
		lw := strings.ToLower(w)
		if notInSubject[lw] || strings.HasSuffix(lw, "ly") {
			return false
		}
	}
	return true
}

// commonNoun lower-cases the subject's first letter when it is only
// capitalised for starting the sentence: the word also occurs in lower
// case in the text ("Graded gains" → "graded gains"; "Weaviate" stays).
func commonNoun(subject, text string) string {
	first := strings.Fields(subject)[0]
	lower := lowerFirst(first)
	if lower != first && regexp.MustCompile(`\b`+regexp.QuoteMeta(lower)+`\b`).MatchString(text) {
		return lower + subject[len(first):]
	}
	return subject
}

var stopwordStart = map[string]bool{"in": true, "on": true, "for": true, "if": true, "when": true, "after": true, "before": true,
	"as": true, "at": true, "by": true, "with": true, "so": true, "then": true, "not": true, "only": true, "also": true, "to": true}

// imperative verbs that start a step of a procedure.
var imperative = map[string]bool{"run": true, "use": true, "set": true, "add": true, "install": true, "create": true, "open": true,
	"call": true, "pass": true, "point": true, "start": true, "stop": true, "configure": true, "enable": true, "disable": true,
	"choose": true, "pick": true, "write": true, "copy": true, "move": true, "delete": true, "remove": true, "build": true,
	"fetch": true, "ingest": true, "export": true, "import": true, "check": true, "make": true, "give": true, "type": true,
	"click": true, "select": true, "upload": true, "download": true, "restart": true, "replace": true, "edit": true, "change": true,
	"rotate": true, "revoke": true, "deploy": true, "update": true, "upgrade": true, "save": true, "load": true, "send": true,
	"test": true, "verify": true, "define": true, "register": true, "connect": true, "log": true, "sign": true, "generate": true}

// procedure turns an instruction under a heading that names a task
// ("Rotate a key") into "How do you rotate a key?", the instruction's
// first clause the answer.
func procedure(heading, s string) (Candidate, bool) {
	task := lastHeading(heading)
	words := strings.Fields(task)
	if len(words) < 2 || len(words) > 8 || !imperative[strings.ToLower(words[0])] {
		return Candidate{}, false
	}
	first := strings.ToLower(strings.Trim(strings.Fields(s)[0], ",.:"))
	if !imperative[first] {
		return Candidate{}, false
	}
	ans := firstClause(s, 15)
	if len(strings.Fields(ans)) < 3 {
		return Candidate{}, false
	}
	q := "How do you " + lowerFirst(strings.TrimRight(task, ".:?")) + "?"
	return Candidate{Question: q, Answer: ans, Quote: s, Kind: evaluate.KindAnswerable, Method: "procedure"}, true
}

func lastHeading(h string) string {
	for _, sep := range []string{" > ", " / ", " » "} {
		if i := strings.LastIndex(h, sep); i >= 0 {
			h = h[i+len(sep):]
		}
	}
	return strings.TrimSpace(strings.TrimLeft(h, "# "))
}

// cloze takes a number, date or name out of one clause of s and asks for
// it: "The store was released in 2019" → "The store was released when?".
func cloze(rng *rand.Rand, s string) (Candidate, bool) {
	clause := clauseWith(s)
	if clause == "" || strings.Count(clause, "(") != strings.Count(clause, ")") {
		return Candidate{}, false
	}
	toks := answerability.Tokenize(clause)
	spans := clozeSpans(clause, toks)
	if len(spans) == 0 {
		return Candidate{}, false
	}
	sp := spans[rng.IntN(len(spans))]
	ans := clause[toks[sp.from].Start:toks[sp.to].End]
	start, wh := toks[sp.from].Start, sp.wh
	prev := ""
	if sp.from > 0 {
		prev = toks[sp.from-1].Lower
	}
	switch {
	case sp.date && preposition[prev]:
		start = toks[sp.from-1].Start // "in 2019" → "when"
	case determiner[prev]:
		start = toks[sp.from-1].Start // "over the Model Context Protocol" → "over what"
		if wh == "what number" {
			wh = "what"
		}
	}
	before, after := strings.Fields(clause[:start]), strings.Fields(clause[toks[sp.to].End:])
	// About as long as people's questions (10–15 words): the words nearest
	// the asked-for span, which also copy less of the passage.
	if len(before) > clueWords {
		before = trimStopwords(before[len(before)-clueWords:], true)
	}
	if len(after) > clueWords {
		after = trimStopwords(after[:clueWords], false)
	}
	q := strings.Join(slices.Concat(before, []string{wh}, after), " ")
	q = strings.TrimRight(leadingConjunction.ReplaceAllString(q, ""), " .,;:!") + "?"
	if len(strings.Fields(q)) < 5 || strings.Count(q, "(") != strings.Count(q, ")") {
		return Candidate{}, false
	}
	return Candidate{Question: upperFirst(q), Answer: ans, Quote: s, Kind: evaluate.KindAnswerable, Method: "cloze"}, true
}

// trimStopwords drops function words left at a cut edge ("moved every
// backup job to the" → "moved every backup job"): at the start when
// front, else at the end.
func trimStopwords(words []string, front bool) []string {
	for len(words) > 0 {
		i := len(words) - 1
		if front {
			i = 0
		}
		if !lexical.IsStopword(strings.ToLower(strings.Trim(words[i], ",.;:"))) {
			break
		}
		if front {
			words = words[1:]
		} else {
			words = words[:i]
		}
	}
	return words
}

// clueWords is how many words of the clause a cloze question keeps on
// each side of its question word.
const clueWords = 8

var determiner = map[string]bool{"a": true, "an": true, "the": true}

var preposition = map[string]bool{"in": true, "on": true, "since": true, "during": true, "until": true, "by": true, "from": true}

type clozeSpan struct {
	from, to int
	wh       string
	date     bool
}

// clozeSpans are the askable spans of a clause: numbers (with the noun
// they count), dates and capitalised names, never the clause's first word
// and never part of a longer word ("nDCG@10").
func clozeSpans(clause string, toks []answerability.Token) []clozeSpan {
	var out []clozeSpan
	for _, sp := range rawSpans(toks) {
		before, after := toks[sp.from].Start, toks[sp.to].End
		if before > 0 && clause[before-1] != ' ' || after < len(clause) && !strings.ContainsRune(" ,.;:?!", rune(clause[after])) {
			continue
		}
		out = append(out, sp)
	}
	return out
}

func rawSpans(toks []answerability.Token) []clozeSpan {
	var out []clozeSpan
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Date:
			j := i
			for j+1 < len(toks) && (toks[j+1].Date || toks[j+1].Num) {
				j++
			}
			out = append(out, clozeSpan{i, j, "when", true})
			i = j
		case t.Num && !t.Punct && strings.Count(t.Text, ".") <= 1: // not 127.0.0.1
			if i+1 < len(toks) && !toks[i+1].Punct && !toks[i+1].Stop && strings.HasSuffix(toks[i+1].Lower, "s") {
				out = append(out, clozeSpan{i, i, "how many", false})
			} else {
				out = append(out, clozeSpan{i, i, "what number", false})
			}
		case t.Cap && !t.Stop && !t.Punct:
			j := i
			for j+1 < len(toks) && toks[j+1].Cap && !toks[j+1].Punct && j-i < 4 {
				j++
			}
			out = append(out, clozeSpan{i, j, "what", false})
			i = j
		}
	}
	return out
}

// clauseWith is the longest clause of s with at least six words.
func clauseWith(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), ".!")
	best := ""
	last := 0
	for _, m := range append(clauseBreak.FindAllStringIndex(s, -1), []int{len(s), len(s)}) {
		c := strings.TrimSpace(leadingConjunction.ReplaceAllString(strings.TrimSpace(s[last:m[0]]), ""))
		if len(strings.Fields(c)) >= 6 && len(c) > len(best) {
			best = c
		}
		last = m[1]
	}
	return best
}

// firstClause is s up to its first clause break, at most n words.
func firstClause(s string, n int) string {
	s = strings.TrimSpace(s)
	if loc := clauseBreak.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	w := strings.Fields(s)
	if len(w) > n {
		w = w[:n]
	}
	return strings.TrimRight(strings.Join(w, " "), ".,;:")
}

func upperFirst(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}

// hashString is FNV-1a, to seed a passage's own random order.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
