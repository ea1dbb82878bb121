package answerability

import (
	"math"
	"strings"
)

// Passage is a retrieved chunk as the judge reads it.
type Passage struct {
	Title, Text string
}

// Sentence is a candidate answer sentence from passage Passage (an index
// into the passages given with it).
type Sentence struct {
	Passage int
	Text    string
}

// Input is one question with its context, as the answerer retrieved it.
type Input struct {
	Question Question
	// IDF weighs the question's stems by rarity in the corpus; a stem
	// without a weight gets the mean of the others.
	IDF       map[string]float64
	Passages  []Passage
	Sentences []Sentence
}

// Verdict is the judgement of one candidate sentence.
type Verdict struct {
	// Prob is the calibrated probability that the sentence answers the
	// question.
	Prob     float64
	Short    Span // the best span in it; empty when it has none
	Features []float64
}

// SentenceFeatures names the sentence model's inputs, in order.
var SentenceFeatures = []string{
	"cov_sentence", "cov_passage", "cov_gap", "key_missing_sentence", "key_missing_passage", "key_missing_context", "has_key",
	"num_conflict", "neg_mismatch", "mod_missing_sentence", "mod_missing_passage", "has_mod",
	"span_prob", "type_present", "type_known", "log_new_words", "pred_missing_sentence", "log_rank", "log_question_len",
	"max_missing_idf", "cov_specific", "bigram_share", "window_cov",
}

// Judge scores sentences with fitted models.
type Judge struct {
	models *Models
}

// NewJudge uses the given models.
func NewJudge(m *Models) *Judge { return &Judge{models: m} }

// Threshold is the answerability below which an answer is declined.
func (j *Judge) Threshold() float64 { return j.models.Threshold }

// Assess judges every sentence of in.
func (j *Judge) Assess(in Input) []Verdict {
	w := weigher{q: &in.Question, idf: in.IDF}
	w.init()
	passageStems := make([]map[string]bool, len(in.Passages))
	titleStems := make([]map[string]bool, len(in.Passages))
	all := map[string]bool{}
	for i, p := range in.Passages {
		passageStems[i] = stemsOf(p.Title + "\n" + p.Text)
		titleStems[i] = stemsOf(p.Title)
		for s := range passageStems[i] {
			all[s] = true
		}
	}
	views := make([]*view, len(in.Sentences))
	covs := make([]float64, len(in.Sentences))
	best := 0.0
	for i, s := range in.Sentences {
		views[i] = newView(&in.Question, s.Text)
		covs[i] = w.share(stemsOf(s.Text), func(string) bool { return true })
		best = math.Max(best, covs[i])
	}
	keyMissingAll := 1 - w.share(all, w.isKey)
	out := make([]Verdict, len(in.Sentences))
	for i, s := range in.Sentences {
		v := views[i]
		sent, pass := stemsOf(s.Text), passageStems[s.Passage]
		spans := v.spans(j.models)
		var short Span
		typed := false
		for _, sp := range spans {
			typed = typed || sp.Typed
		}
		if len(spans) > 0 {
			short = spans[0]
		}
		q := &in.Question
		f := []float64{
			covs[i], w.share(pass, func(string) bool { return true }), covs[i] - best,
			w.missing(sent, w.isKey), w.missing(pass, w.isKey), keyMissingAll, b2f(len(q.Key) > 0),
			b2f(numberConflict(q, v)), b2f(q.Negated != negated(v.toks)),
			missingShare(q.Modifiers, sent), missingShare(q.Modifiers, pass), b2f(len(q.Modifiers) > 0),
			short.Prob, b2f(typed), b2f(q.Type != TypeOther), math.Log1p(float64(newWords(v))),
			w.missing(sent, func(s string) bool { return !q.Key[s] }), math.Log1p(float64(s.Passage)),
			math.Log1p(float64(len(q.Stems))), w.maxMissing(sent),
			w.share(sent, func(s string) bool { return !titleStems[in.Sentences[i].Passage][s] }), bigramShare(q, v), w.windowShare(v, 12),
		}
		out[i] = Verdict{Prob: j.models.Sentence.Prob(f), Short: short, Features: f}
	}
	return out
}

// ShortAnswer is the best span of sentence for q.
func (j *Judge) ShortAnswer(q *Question, sentence string) Span {
	if spans := newView(q, sentence).spans(j.models); len(spans) > 0 {
		return spans[0]
	}
	return Span{}
}

// SpanRows are the span model's training rows for one sentence: the
// features of every candidate and its text.
func SpanRows(q *Question, sentence string) (rows [][]float64, texts []string) {
	v := newView(q, sentence)
	for _, c := range v.candidates() {
		f, _ := v.spanFeatures(c)
		rows = append(rows, f)
		texts = append(texts, v.text[v.toks[c.i].Start:v.toks[c.j-1].End])
	}
	return rows, texts
}

// weigher weighs question stems by IDF.
type weigher struct {
	q       *Question
	idf     map[string]float64
	fill    float64
	maxIDF  float64
	weights map[string]float64
}

func (w *weigher) init() {
	sum, n := 0.0, 0
	for _, s := range w.q.Stems {
		if v, ok := w.idf[s]; ok {
			sum, n = sum+v, n+1
		}
	}
	w.fill = 1
	if n > 0 {
		w.fill = sum / float64(n)
	}
	w.weights = make(map[string]float64, len(w.q.Stems))
	for _, s := range w.q.Stems {
		v, ok := w.idf[s]
		if !ok {
			v = w.fill
		}
		w.weights[s] = v
		w.maxIDF = math.Max(w.maxIDF, v)
	}
}

func (w *weigher) isKey(s string) bool { return w.q.Key[s] }

// share is the weight of the selected question stems that have holds,
// over the weight of all the selected ones (1 when none is selected).
func (w *weigher) share(have map[string]bool, sel func(string) bool) float64 {
	var got, total float64
	for _, s := range w.q.Stems {
		if !sel(s) {
			continue
		}
		total += w.weights[s]
		if have[s] {
			got += w.weights[s]
		}
	}
	if total == 0 {
		return 1
	}
	return got / total
}

func (w *weigher) missing(have map[string]bool, sel func(string) bool) float64 {
	return 1 - w.share(have, sel)
}

// maxMissing is the weight of the rarest question stem have lacks,
// relative to the rarest of all.
func (w *weigher) maxMissing(have map[string]bool) float64 {
	if w.maxIDF == 0 {
		return 0
	}
	m := 0.0
	for _, s := range w.q.Stems {
		if !have[s] {
			m = math.Max(m, w.weights[s])
		}
	}
	return m / w.maxIDF
}

func stemsOf(text string) map[string]bool {
	set := map[string]bool{}
	for _, t := range Tokenize(text) {
		if !t.Punct && (!t.Stop || t.Num) {
			set[t.Stem] = true
		}
	}
	return set
}

func missingShare(stems []string, have map[string]bool) float64 {
	if len(stems) == 0 {
		return 0
	}
	n := 0
	for _, s := range stems {
		if !have[s] {
			n++
		}
	}
	return float64(n) / float64(len(stems))
}

// numberConflict: the question names a number or date the sentence does
// not hold, while the sentence holds others — "in 1998" asked of a
// sentence about 1996.
func numberConflict(q *Question, v *view) bool {
	missing := false
	for _, t := range q.Tokens {
		if (t.Num && !t.Stop || t.Date) && !hasStem(v.toks, t.Stem) {
			missing = true
		}
	}
	if !missing {
		return false
	}
	for k, t := range v.toks {
		if (t.Num || t.Date) && !v.matched[k] {
			return true
		}
	}
	return false
}

func hasStem(toks []Token, stem string) bool {
	for _, t := range toks {
		if t.Stem == stem {
			return true
		}
	}
	return false
}

func negated(toks []Token) bool {
	for _, t := range toks {
		if negations[t.Lower] || strings.HasSuffix(t.Lower, "n't") {
			return true
		}
	}
	return false
}

// newWords counts the sentence's content words the question lacks: an
// answer brings something the question does not already say.
func newWords(v *view) int {
	n := 0
	for k, t := range v.toks {
		if !t.Punct && !t.Stop && !v.matched[k] {
			n++
		}
	}
	return n
}

// bigramShare is the share of the question's adjacent content-word pairs
// that occur in the sentence in the same order within three tokens: an
// answering sentence tends to restate the question's phrases.
func bigramShare(q *Question, v *view) float64 {
	var seq []string
	for _, t := range q.Tokens {
		if !t.Punct && !t.Stop && !whWords[t.Lower] {
			seq = append(seq, t.Stem)
		}
	}
	if len(seq) < 2 {
		return 0
	}
	pos := map[string][]int{}
	for k, t := range v.toks {
		if !t.Punct {
			pos[t.Stem] = append(pos[t.Stem], k)
		}
	}
	found := 0
	for i := 1; i < len(seq); i++ {
	pairs:
		for _, a := range pos[seq[i-1]] {
			for _, b := range pos[seq[i]] {
				if b > a && b-a <= 3 {
					found++
					break pairs
				}
			}
		}
	}
	return float64(found) / float64(len(seq)-1)
}

// windowShare is the largest weight share of question stems found within
// any window of n tokens: the question's words close together, not
// scattered over a long sentence.
func (w *weigher) windowShare(v *view, n int) float64 {
	total := 0.0
	for _, s := range w.q.Stems {
		total += w.weights[s]
	}
	if total == 0 {
		return 0
	}
	best := 0.0
	for start := 0; start < max(1, len(v.toks)-n+1); start++ {
		seen := map[string]bool{}
		got := 0.0
		for k := start; k < min(len(v.toks), start+n); k++ {
			if st := v.toks[k].Stem; v.matched[k] && !seen[st] {
				seen[st] = true
				got += w.weights[st]
			}
		}
		best = math.Max(best, got)
	}
	return best / total
}
