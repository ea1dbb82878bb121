package answerability

import (
	"math"
	"sort"
	"strings"
)

// Lexical is a sparse correction to the span model over word features:
// which words a span of a kind of question starts or ends with, and which
// words stand beside it ("in" before a place, "years" after a number
// asked for with "how long"). It adds to the dense model's log-odds; a
// feature it never saw weighs nothing.
type Lexical struct {
	Weights map[string]float64 `json:"weights"`
}

// Logit is the correction for a candidate with these feature keys.
func (l Lexical) Logit(keys []string) float64 {
	z := 0.0
	for _, k := range keys {
		z += l.Weights[k]
	}
	return z
}

// lexicalKeys names candidate c's word features, each crossed with the
// question's wh-phrase ("how many", "what year", "who").
func (v *view) lexicalKeys(c candidate) []string {
	qc := v.q.Wh + "|" + v.q.Head
	word := func(k int) string {
		switch {
		case k < 0:
			return "^"
		case k >= len(v.toks):
			return "$"
		case v.matched[k]:
			return "=q" // a question word
		}
		t := v.toks[k]
		switch {
		case t.Num && t.Date:
			return "#year" // one year is like another
		case t.Num && t.Text[0] >= '0' && t.Text[0] <= '9':
			return "#num"
		}
		return t.Lower
	}
	first, last := word(c.i), word(c.j-1)
	prev, next := word(c.i-1), word(c.j)
	return []string{
		"p:" + qc + "|" + prev, "n:" + qc + "|" + next, "f:" + qc + "|" + first, "l:" + qc + "|" + last,
		"s:" + qc + "|" + v.shape(c), "pn:" + prev + "|" + next, "pw:" + v.q.Wh + "|" + prev, "nw:" + v.q.Wh + "|" + next,
		"fl:" + v.q.Wh + "|" + first, "ll:" + v.q.Wh + "|" + last,
	}
}

// shape is c's word classes: A capitalised, a lower case, 0 a number,
// D a date word, . punctuation, with runs of one class collapsed.
func (v *view) shape(c candidate) string {
	var b strings.Builder
	prev := byte(0)
	for k := c.i; k < c.j; k++ {
		t := v.toks[k]
		cl := byte('a')
		switch {
		case t.Punct:
			cl = '.'
		case t.Date:
			cl = 'D'
		case t.Num:
			cl = '0'
		case t.Cap:
			cl = 'A'
		}
		if cl != prev {
			b.WriteByte(cl)
		}
		prev = cl
	}
	return b.String()
}

// LexicalRows are the feature keys of every candidate of sentence, in the
// order SpanRows lists them.
func LexicalRows(q *Question, sentence string) [][]string {
	v := newView(q, sentence)
	var out [][]string
	for _, c := range v.candidates() {
		out = append(out, v.lexicalKeys(c))
	}
	return out
}

// LexicalFitOptions tune FitLexical.
type LexicalFitOptions struct {
	Epochs   int
	Rate     float64 // AdaGrad's step
	L2       float64 // decay per step
	MinCount int     // a key seen fewer times gets no weight
	// MinWeight drops the weights smaller than it from the fitted model.
	MinWeight float64
}

// FitLexical fits the sparse correction by AdaGrad on the logistic loss
// (soft targets y in [0, 1]) over the dense model's log-odds (offset).
// Rows are visited in order, so the fit is deterministic.
func FitLexical(keys [][]string, offset, y []float64, opts LexicalFitOptions) Lexical {
	count := map[string]int{}
	for _, ks := range keys {
		for _, k := range ks {
			count[k]++
		}
	}
	w, g2 := map[string]float64{}, map[string]float64{}
	for range opts.Epochs {
		for i, ks := range keys {
			z := offset[i]
			for _, k := range ks {
				z += w[k]
			}
			grad := sigmoid(z) - y[i]
			for _, k := range ks {
				if count[k] < opts.MinCount {
					continue
				}
				gk := grad + opts.L2*w[k]
				g2[k] += gk * gk
				w[k] -= opts.Rate * gk / math.Sqrt(g2[k]+1e-12)
			}
		}
	}
	out := Lexical{Weights: map[string]float64{}}
	names := make([]string, 0, len(w))
	for k := range w {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if math.Abs(w[k]) >= opts.MinWeight {
			out.Weights[k] = math.Round(w[k]*1e4) / 1e4
		}
	}
	return out
}
