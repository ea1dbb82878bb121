package answerability

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Span is a stretch of a sentence offered as the short answer.
type Span struct {
	Text       string
	Start, End int // byte offsets in the sentence
	Prob       float64
	// Typed: the span is a unit of the question's expected type.
	Typed bool
}

// maxSpanTokens bounds a candidate: SQuAD's answers are three words long
// on average and rarely past eight.
const maxSpanTokens = 8

// view is a sentence read against a question: its tokens, which of them
// the question already holds, and where the question's words sit.
type view struct {
	q       *Question
	text    string
	toks    []Token
	matched []bool
	anyHit  bool
}

// maxSentenceTokens bounds how much of one sentence is read for spans:
// every feature of a span looks across the sentence, so the work grows
// with its square. A sentence this long is a run-on list, not prose.
const maxSentenceTokens = 200

func newView(q *Question, sentence string) *view {
	toks := Tokenize(sentence)
	v := &view{q: q, text: sentence, toks: toks[:min(len(toks), maxSentenceTokens)]}
	stems := make(map[string]bool, len(q.Stems))
	for _, s := range q.Stems {
		stems[s] = true
	}
	v.matched = make([]bool, len(v.toks))
	for i, t := range v.toks {
		if !t.Punct && !t.Stop && stems[t.Stem] {
			v.matched[i], v.anyHit = true, true
		}
	}
	return v
}

// candidate is a span by token indexes [i, j), with whether it is a whole
// segment (a run between the question's words and punctuation).
type candidate struct {
	i, j       int
	whole      bool
	starts     bool // begins at its segment's first content word
	ends       bool // ends at its segment's last content word
	segmentLen int
}

// candidates lists the spans that could answer: runs of tokens between
// the question's own words and punctuation, trimmed of function words at
// either end, up to maxSpanTokens long.
func (v *view) candidates() []candidate {
	var out []candidate
	start := 0
	for k := 0; k <= len(v.toks); k++ {
		if k < len(v.toks) && !v.boundary(k) {
			continue
		}
		out = v.segmentSpans(out, start, k)
		start = k + 1
	}
	return out
}

// boundary: a question word, or punctuation other than a comma inside a
// name or number ("Santa Clara, California", "1,000") and currency or
// percent signs next to a number.
func (v *view) boundary(k int) bool {
	t := v.toks[k]
	if v.matched[k] {
		return true
	}
	if !t.Punct {
		return false
	}
	prev, next := k > 0 && !v.toks[k-1].Punct, k+1 < len(v.toks) && !v.toks[k+1].Punct
	switch t.Text {
	case ",":
		if prev && next && v.toks[k-1].Num && v.toks[k+1].Date && k >= 2 && v.toks[k-2].Date {
			return false // "February 7, 2016"
		}
		return !(prev && next && v.toks[k-1].Cap && v.toks[k+1].Cap && !v.matched[k-1] && !v.matched[k+1])
	case "$", "£", "€":
		return !(next && v.toks[k+1].Num)
	case "%":
		return !(prev && v.toks[k-1].Num)
	}
	return true
}

func (v *view) segmentSpans(out []candidate, a, b int) []candidate {
	first, last := v.firstContent(a, b), v.lastContent(a, b)+1
	for i := a; i < b; i++ {
		if !v.edgeOK(i) {
			continue
		}
		for j := i + 1; j <= min(b, i+maxSpanTokens); j++ {
			if v.edgeOK(j - 1) {
				c := candidate{i: i, j: j, starts: i == first, ends: j == last, segmentLen: last - first}
				c.whole = c.starts && c.ends
				out = append(out, c)
			}
		}
	}
	return out
}

// edgeOK: a span may start or end with this token (not a function word,
// unless a number; a currency or percent sign only beside its number).
func (v *view) edgeOK(k int) bool {
	t := v.toks[k]
	if t.Punct {
		return t.Text == "%" || t.Text == "$" || t.Text == "£" || t.Text == "€"
	}
	return !t.Stop || t.Num
}

func (v *view) firstContent(a, b int) int {
	for k := a; k < b; k++ {
		if v.edgeOK(k) {
			return k
		}
	}
	return b
}

func (v *view) lastContent(a, b int) int {
	for k := b - 1; k >= a; k-- {
		if v.edgeOK(k) {
			return k
		}
	}
	return a - 1
}

// SpanFeatures names the span model's inputs, in order.
var SpanFeatures = []string{
	"type_match", "type_match_person", "type_match_date", "type_match_number", "type_match_place", "type_match_entity",
	"type_known_no_match", "all_cap", "has_num", "has_date", "other_cap", "other_num",
	"log_len", "len1", "log_dist", "adjacent", "whole_segment", "stop_share",
	"after_prep", "after_by_person", "after_in_date_place", "near_share", "head_near", "contains_head",
	"right_of_match", "sentence_start",
	"starts_segment", "ends_segment", "log_segment_len", "cuts_run", "typed_log_len", "next_matched", "prev_matched",
	"quoted", "in_parens", "typed_share", "untyped_edge",
}

// spanFeatures describes candidate c.
func (v *view) spanFeatures(c candidate) ([]float64, bool) {
	q := v.q
	var content, caps, stops int
	var num, date, head bool
	for k := c.i; k < c.j; k++ {
		t := v.toks[k]
		switch {
		case t.Punct:
			continue
		case t.Stop && !t.Num:
			stops++
			continue
		}
		content++
		caps += b2i(t.Cap && !t.Date)
		num = num || t.Num
		date = date || t.Date
		head = head || q.Head != "" && t.Lower == q.Head
	}
	allCap := content > 0 && caps == content
	match := typeMatches(q.Type, allCap, num, date)
	known := q.Type != TypeOther
	dist, right := v.distance(c)
	prev := ""
	if c.i > 0 {
		prev = v.toks[c.i-1].Lower
	}
	n := c.j - c.i
	f := []float64{
		b2f(match), b2f(match && q.Type == TypePerson), b2f(match && q.Type == TypeDate), b2f(match && q.Type == TypeNumber),
		b2f(match && q.Type == TypePlace), b2f(match && q.Type == TypeEntity),
		b2f(known && !match), b2f(allCap), b2f(num), b2f(date), b2f(!known && allCap), b2f(!known && num),
		math.Log(float64(n)), b2f(n == 1), math.Log1p(float64(dist)), b2f(dist <= 1), b2f(c.whole), float64(stops) / float64(n),
		b2f(prepositions[prev]), b2f(prev == "by" && q.Type == TypePerson),
		b2f((prev == "in" || prev == "on" || prev == "at" || prev == "during" || prev == "since") && (q.Type == TypeDate || q.Type == TypePlace)),
		v.nearShare(c), b2f(v.headNear(c)), b2f(head), b2f(right), b2f(c.i == 0),
		b2f(c.starts), b2f(c.ends), math.Log(float64(max(1, c.segmentLen))), b2f(v.cutsRun(c, allCap, num)), b2f(match) * math.Log(float64(n)),
		b2f(c.j < len(v.toks) && v.matched[c.j]), b2f(c.i > 0 && v.matched[c.i-1]),
		b2f(v.enclosed(c, `"“`, `"”`)), b2f(v.enclosed(c, "(", ")")),
		v.typedShare(c), b2f(known && (!v.typedToken(c.i) || !v.typedToken(c.j-1))),
	}
	return f, match
}

// cutsRun: c stops inside a run of capitalised words or of numbers that
// it belongs to ("New" of "New York").
func (v *view) cutsRun(c candidate, allCap, num bool) bool {
	joins := func(k int) bool {
		if k < 0 || k >= len(v.toks) || v.matched[k] {
			return false
		}
		t := v.toks[k]
		return !t.Punct && (allCap && t.Cap || num && t.Num)
	}
	return (allCap || num) && (joins(c.i-1) || joins(c.j))
}

// enclosed: c sits right inside the open and close marks.
func (v *view) enclosed(c candidate, open, close string) bool {
	return c.i > 0 && c.j < len(v.toks) && strings.Contains(open, v.toks[c.i-1].Text) && strings.Contains(close, v.toks[c.j].Text)
}

// typedToken: token k is a unit of the question's expected type (a
// capitalised word for names, a number, a date word).
func (v *view) typedToken(k int) bool {
	t := v.toks[k]
	switch v.q.Type {
	case TypePerson, TypePlace, TypeEntity:
		return t.Cap && !t.Num || t.Stop && !t.Punct // "of" in "Bank of England"
	case TypeDate:
		return t.Date || t.Num
	case TypeNumber:
		return t.Num || t.Punct
	}
	return true
}

// typedShare is the share of c's words that are of the expected type.
func (v *view) typedShare(c candidate) float64 {
	n, typed := 0, 0
	for k := c.i; k < c.j; k++ {
		if !v.toks[k].Punct {
			n++
			typed += b2i(v.typedToken(k))
		}
	}
	if n == 0 {
		return 0
	}
	return float64(typed) / float64(n)
}

func typeMatches(t AnswerType, allCap, num, date bool) bool {
	switch t {
	case TypePerson, TypePlace, TypeEntity:
		return allCap && !num
	case TypeDate:
		return date
	case TypeNumber:
		return num
	}
	return false
}

// distance is the token distance from c to the nearest question word
// (len(toks) when there is none) and whether that word is on c's left.
func (v *view) distance(c candidate) (int, bool) {
	best, right := len(v.toks), false
	for k, m := range v.matched {
		if !m {
			continue
		}
		d := c.i - k
		if k >= c.j {
			d = k - c.j + 1
		}
		if d < best {
			best, right = d, k < c.i
		}
	}
	return best, right
}

// nearShare is the share of the sentence's question words within six
// tokens of c: an answer sits among the words it answers.
func (v *view) nearShare(c candidate) float64 {
	near, all := 0, 0
	for k, m := range v.matched {
		if !m {
			continue
		}
		all++
		if k >= c.i-6 && k < c.j+6 {
			near++
		}
	}
	if all == 0 {
		return 0
	}
	return float64(near) / float64(all)
}

func (v *view) headNear(c candidate) bool {
	if v.q.Head == "" {
		return false
	}
	for k := max(0, c.i-2); k < min(len(v.toks), c.j+2); k++ {
		if (k < c.i || k >= c.j) && v.toks[k].Lower == v.q.Head {
			return true
		}
	}
	return false
}

// spans scores every candidate with the span models, best first.
func (v *view) spans(m *Models) []Span {
	var out []Span
	for _, c := range v.candidates() {
		f, typed := v.spanFeatures(c)
		p := sigmoid(m.Span.Logit(f) + m.SpanWords.Logit(v.lexicalKeys(c)))
		out = append(out, Span{Text: v.text[v.toks[c.i].Start:v.toks[c.j-1].End], Start: v.toks[c.i].Start, End: v.toks[c.j-1].End, Prob: p, Typed: typed})
	}
	slices.SortStableFunc(out, func(a, b Span) int { return cmp.Compare(b.Prob, a.Prob) })
	if len(out) > 0 {
		out[0] = v.withUnit(out[0])
	}
	return out
}

// withUnit extends a number that answers "how long / often / old / far…"
// with the unit after it ("ninety" → "ninety days"): those questions ask
// for a measure, and a bare number is not one. "How many" and "how much"
// count, and keep the number alone.
func (v *view) withUnit(sp Span) Span {
	if !strings.HasPrefix(v.q.Wh, "how ") || v.q.Wh == "how many" || v.q.Wh == "how much" || v.q.Type != TypeNumber {
		return sp
	}
	for k, t := range v.toks {
		if t.End != sp.End {
			continue
		}
		if next := k + 1; t.Num && next < len(v.toks) && !v.matched[next] {
			if u := v.toks[next]; !u.Punct && !u.Stop && !u.Cap && !u.Num {
				sp.End, sp.Text = u.End, v.text[sp.Start:u.End]
			}
		}
		break
	}
	return sp
}

var prepositions = toSet("in at on from by of to for with into during since after before under over near")

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
