package answer

import (
	"context"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Thresholds decide when the extractive answerer speaks. Coverage is the
// IDF-weighted share of the question's content words found in a text.
type Thresholds struct {
	// MinCoverage: the best retrieved chunk must cover at least this much
	// of the question, else the answer is low_retrieval_score. It only
	// keeps off-topic questions away; whether a passage answers is the
	// answerability model's call.
	MinCoverage float64 `toml:"min_coverage" json:"min_coverage"`
	// MinSupport: a sentence must cover at least this much to be judged.
	MinSupport float64 `toml:"min_support" json:"min_support"`
	// MinAnswerability: the best sentence's answerability (the fitted
	// probability that it answers the question) must reach this, else the
	// answer is unsupported_answer.
	MinAnswerability float64 `toml:"min_answerability" json:"min_answerability"`
	// MaxSentences caps the answer length.
	MaxSentences int `toml:"max_sentences" json:"max_sentences"`
}

// DefaultThresholds are starting points; `ragtune eval` measures how they
// trade answered against declined questions on a labelled set. The
// answerability threshold is the one fitted with the model (see
// cmd/fit-answerability for the objective).
func DefaultThresholds() Thresholds {
	return Thresholds{MinCoverage: 0.3, MinSupport: 0.2, MinAnswerability: answerability.FittedThreshold(), MaxSentences: 2}
}

// TermStatser reports corpus statistics for IDF weights.
type TermStatser interface {
	TermStats(ctx context.Context, terms []string) (int, map[string]int, error)
}

// Extractive answers by quoting the retrieved sentences that answer the
// question, each cited, with the short span that answers beside them. It
// cannot invent anything, which makes it a safe offline default and a
// baseline for real models.
type Extractive struct {
	stats      TermStatser
	thresholds Thresholds
	judge      *answerability.Judge
}

// NewExtractive is the built-in answerer over a corpus' statistics, with
// the answerability models shipped in the binary.
func NewExtractive(stats TermStatser, th Thresholds) *Extractive {
	return NewExtractiveWith(stats, th, answerability.NewJudge(answerability.MustFitted()))
}

// NewExtractiveWith uses the given judge (a freshly fitted one, say).
func NewExtractiveWith(stats TermStatser, th Thresholds, judge *answerability.Judge) *Extractive {
	return &Extractive{stats: stats, thresholds: th, judge: judge}
}

// ExtractiveID names the built-in answerer.
const ExtractiveID = "builtin-extractive"

// ID names the generator.
func (e *Extractive) ID() string { return ExtractiveID }

// Generate streams the answer for req.
func (e *Extractive) Generate(ctx context.Context, req Request) (<-chan Event, error) {
	plan, err := e.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(chan Event, 2*len(plan.sentences)+4)
	go func() {
		defer close(out)
		if plan.judged {
			out <- Event{Type: EventAssessment, Assessment: &Assessment{Answerability: plan.answerability, ShortAnswer: plan.short}}
		}
		if plan.reason != "" {
			out <- Event{Type: EventAbstain, Reason: plan.reason}
			out <- Event{Type: EventToken, Text: Declined}
		} else {
			cited := map[int]bool{}
			for i, s := range plan.sentences {
				sep := ""
				if i > 0 {
					sep = " "
				}
				out <- Event{Type: EventToken, Text: sep + s.Text + " [" + strconv.Itoa(s.Passage+1) + "]"}
				if n := s.Passage + 1; !cited[n] {
					cited[n] = true
					c := CitationFor(n, req.Hits[s.Passage])
					out <- Event{Type: EventCitation, Citation: &c}
				}
			}
		}
		out <- Event{Type: EventUsage, Usage: &Usage{}}
		out <- Event{Type: EventDone}
	}()
	return out, nil
}

type plan struct {
	reason        string
	judged        bool
	answerability float64
	short         string
	sentences     []answerability.Sentence
}

func (e *Extractive) plan(ctx context.Context, req Request) (plan, error) {
	j, err := e.Judge(ctx, req)
	if err != nil || j.Reason != "" {
		return plan{reason: j.Reason}, err
	}
	best := j.Best()
	p := plan{judged: true, answerability: j.Answerability(), short: j.Verdicts[best].Short.Text}
	if j.Input.Question.Explains() {
		p.short = "" // the quoted sentence is the answer
	}
	if p.answerability < e.thresholds.MinAnswerability {
		p.reason, p.short = ReasonUnsupportedAnswer, ""
		return p, nil
	}
	// A second sentence joins only when it, too, answers nearly as well.
	order := make([]int, len(j.Verdicts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return j.Verdicts[order[a]].Prob > j.Verdicts[order[b]].Prob })
	var picked []int
	for _, i := range order {
		v := j.Verdicts[i]
		if len(picked) >= max(1, e.thresholds.MaxSentences) || len(picked) > 0 && (v.Prob < e.thresholds.MinAnswerability || v.Prob < 0.8*p.answerability) {
			break
		}
		picked = append(picked, i)
	}
	sort.SliceStable(picked, func(a, b int) bool {
		sa, sb := j.Input.Sentences[picked[a]], j.Input.Sentences[picked[b]]
		if sa.Passage != sb.Passage {
			return sa.Passage < sb.Passage
		}
		return j.positions[picked[a]] < j.positions[picked[b]]
	})
	for _, i := range picked {
		p.sentences = append(p.sentences, j.Input.Sentences[i])
	}
	return p, nil
}

// Judged is what the answerer weighed for a request: the candidate
// sentences and their verdicts, or the reason it declined before judging.
type Judged struct {
	Reason    string
	Input     answerability.Input
	Verdicts  []answerability.Verdict
	positions []int // each sentence's order within its passage
}

// Best is the index of the verdict with the highest answerability.
func (j Judged) Best() int {
	best := 0
	for i, v := range j.Verdicts {
		if v.Prob > j.Verdicts[best].Prob {
			best = i
		}
	}
	return best
}

// Answerability is the question's answerability: that of its best
// sentence, 0 when nothing was judged.
func (j Judged) Answerability() float64 {
	if len(j.Verdicts) == 0 {
		return 0
	}
	return j.Verdicts[j.Best()].Prob
}

// maxJudged bounds the sentences the model reads per question: the best
// by coverage, which is cheap to compute.
const maxJudged = 8

// Judge weighs req's retrieved sentences. It declines before judging when
// there is nothing retrieved or nothing on topic.
func (e *Extractive) Judge(ctx context.Context, req Request) (Judged, error) {
	if req.ClosedBook {
		req.Hits = nil // it can only quote passages, so without them it declines
	}
	// A follow-up is judged with the subject the conversation gave it;
	// the words it carries over name the subject, its own words what is
	// asked about it, so the carried ones weigh less.
	own := lexical.StemSet(req.Question)
	req.Question = conversation.Standalone(req.Question, req.History)
	if len(req.Hits) == 0 {
		return Judged{Reason: ReasonNoResults}, nil
	}
	w, err := e.weights(ctx, req.Question)
	if err != nil {
		return Judged{}, err
	}
	if len(req.History) > 0 && len(own) > 0 {
		for s := range w {
			if !own[s] {
				w[s] *= carriedWeight
			}
		}
	}
	if len(w) == 0 {
		return Judged{Reason: ReasonLowRetrievalScore}, nil
	}
	type cand struct {
		s          answerability.Sentence
		pos        int
		cov, score float64
	}
	best := 0.0
	var cands []cand
	// Summed in one fixed order: a sum in map order differs in its last
	// bits from run to run, and ties between sentences would break
	// differently.
	order := slices.Sorted(maps.Keys(w))
	in := answerability.Input{Question: answerability.Analyze(req.Question), IDF: w}
	for i, h := range req.Hits {
		in.Passages = append(in.Passages, answerability.Passage{Title: h.Title, Text: h.Text})
		chunkCov := coverage(w, order, lexical.StemSet(h.Title+" "+h.Text))
		best = math.Max(best, chunkCov)
		for pos, s := range Sentences(h.Text) {
			cov := coverage(w, order, lexical.StemSet(s))
			// Prefer sentences from chunks that cover the question as a
			// whole, and from higher-ranked chunks when all else is equal.
			cands = append(cands, cand{s: answerability.Sentence{Passage: i, Text: s}, pos: pos, cov: cov, score: cov + 0.1*chunkCov - 0.01*float64(i)})
		}
	}
	if best < e.thresholds.MinCoverage {
		return Judged{Reason: ReasonLowRetrievalScore}, nil
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	j := Judged{}
	seen := map[string]bool{}
	for _, c := range cands {
		key := strings.Join(lexical.Words(c.s.Text), " ")
		if c.cov < e.thresholds.MinSupport || seen[key] || len(in.Sentences) >= maxJudged {
			continue
		}
		seen[key] = true
		in.Sentences = append(in.Sentences, c.s)
		j.positions = append(j.positions, c.pos)
	}
	if len(in.Sentences) == 0 {
		return Judged{Reason: ReasonUnsupportedAnswer}, nil
	}
	j.Input, j.Verdicts = in, e.judge.Assess(in)
	return j, nil
}

// carriedWeight scales the IDF of the words a follow-up question takes
// from earlier turns.
const carriedWeight = 0.5

// pseudoDocs are chunks assumed to hold none of the question's words, so
// that a corpus of one or two chunks still weighs the question's words
// almost evenly instead of by a collapsed IDF; on a real corpus they
// change nothing that matters.
const pseudoDocs = 100

// weights gives each question term (by stem) its IDF in the store.
func (e *Extractive) weights(ctx context.Context, question string) (map[string]float64, error) {
	terms := lexical.Terms(question)
	n, df, err := e.stats.TermStats(ctx, terms)
	if err != nil {
		return nil, err
	}
	w := map[string]float64{}
	for _, t := range terms {
		idf := math.Log(1 + (float64(n+pseudoDocs)-float64(df[t])+0.5)/(float64(df[t])+0.5))
		stem := lexical.Stem(t)
		w[stem] = math.Max(w[stem], idf)
	}
	return w, nil
}

// coverage is the IDF-weighted share of the question's stems (w, summed
// in order) that stems holds.
func coverage(w map[string]float64, order []string, stems map[string]bool) float64 {
	var have, total float64
	for _, s := range order {
		idf := w[s]
		total += idf
		if stems[s] {
			have += idf
		}
	}
	if total == 0 {
		return 0
	}
	return have / total
}

var (
	sentenceEnd = regexp.MustCompile(`([.!?])\s+`)
	listMarker  = regexp.MustCompile(`^(?:[-*+]|\d+[.)])\s+`)
	emphasis    = strings.NewReplacer("**", "", "__", "")
)

// minSentenceWords drops fragments (headings, labels) that cannot answer
// anything on their own.
const minSentenceWords = 4

// Sentences splits chunk text into quotable sentences: Markdown headings,
// tables and code fences are left out, list markers and emphasis removed,
// hard-wrapped lines rejoined.
func Sentences(text string) []string {
	var out []string
	inFence := false
	for _, para := range strings.Split(text, "\n\n") {
		var lines []string
		for _, line := range strings.Split(para, "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
				inFence = !inFence
				continue
			}
			if inFence || t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "|") {
				continue
			}
			if listMarker.MatchString(t) && len(lines) > 0 {
				out = append(out, splitSentences(strings.Join(lines, " "))...)
				lines = nil
			}
			lines = append(lines, emphasis.Replace(listMarker.ReplaceAllString(t, "")))
		}
		out = append(out, splitSentences(strings.Join(lines, " "))...)
	}
	return out
}

func splitSentences(p string) []string {
	var out []string
	start := 0
	for _, m := range sentenceEnd.FindAllStringSubmatchIndex(p, -1) {
		end := m[3]
		if isAbbrev(p[start:end]) {
			continue
		}
		out = appendSentence(out, p[start:end])
		start = m[1]
	}
	return appendSentence(out, p[start:])
}

func isAbbrev(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 {
		return false
	}
	last := strings.ToLower(f[len(f)-1])
	return last == "e.g." || last == "i.e." || last == "etc." || last == "vs." || last == "dr." || last == "mr." || last == "fig."
}

func appendSentence(out []string, s string) []string {
	s = strings.TrimSpace(s)
	if len(strings.Fields(s)) < minSentenceWords {
		return out
	}
	return append(out, s)
}
