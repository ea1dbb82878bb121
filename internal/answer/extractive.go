package answer

import (
	"context"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Thresholds decide when the extractive answerer speaks. Coverage is the
// IDF-weighted share of the question's content words found in a text.
type Thresholds struct {
	// MinCoverage: the best retrieved chunk must cover at least this much
	// of the question, else the answer is low_retrieval_score.
	MinCoverage float64 `toml:"min_coverage" json:"min_coverage"`
	// MinSupport: a sentence must cover at least this much to be quoted;
	// if none does, the answer is unsupported_answer.
	MinSupport float64 `toml:"min_support" json:"min_support"`
	// MaxSentences caps the answer length.
	MaxSentences int `toml:"max_sentences" json:"max_sentences"`
}

// DefaultThresholds are starting points; `ragtune eval` measures how they
// trade answered against declined questions on a labelled set.
func DefaultThresholds() Thresholds {
	return Thresholds{MinCoverage: 0.5, MinSupport: 0.4, MaxSentences: 2}
}

// TermStatser reports corpus statistics for IDF weights.
type TermStatser interface {
	TermStats(ctx context.Context, terms []string) (int, map[string]int, error)
}

// Extractive answers by quoting the retrieved sentences that best cover
// the question, each cited. It cannot invent anything, which makes it a
// safe offline default and a baseline for real models.
type Extractive struct {
	Stats      TermStatser
	Thresholds Thresholds
}

// ID names the generator.
// ExtractiveID names the built-in answerer.
const ExtractiveID = "builtin-extractive"

func (e *Extractive) ID() string { return ExtractiveID }

// Generate streams the answer for req.
func (e *Extractive) Generate(ctx context.Context, req Request) (<-chan Event, error) {
	if req.ClosedBook {
		req.Hits = nil // it can only quote passages, so without them it declines
	}
	// A follow-up is judged with the subject the conversation gave it.
	req.Question = conversation.Standalone(req.Question, req.History)
	plan, err := e.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(chan Event, 2*len(plan.sentences)+3)
	go func() {
		defer close(out)
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
				out <- Event{Type: EventToken, Text: sep + s.text + " [" + strconv.Itoa(s.n) + "]"}
				if !cited[s.n] {
					cited[s.n] = true
					c := CitationFor(s.n, req.Hits[s.n-1])
					out <- Event{Type: EventCitation, Citation: &c}
				}
			}
		}
		out <- Event{Type: EventUsage, Usage: &Usage{}}
		out <- Event{Type: EventDone}
	}()
	return out, nil
}

type candidate struct {
	n     int // context number of its chunk
	pos   int // order within the chunk
	text  string
	score float64
	cov   float64
}

type plan struct {
	reason    string
	sentences []candidate
}

func (e *Extractive) plan(ctx context.Context, req Request) (plan, error) {
	if len(req.Hits) == 0 {
		return plan{reason: ReasonNoResults}, nil
	}
	w, err := e.weights(ctx, req.Question)
	if err != nil {
		return plan{}, err
	}
	if len(w) == 0 {
		return plan{reason: ReasonLowRetrievalScore}, nil
	}
	th := e.Thresholds
	best := 0.0
	var cands []candidate
	for i, h := range req.Hits {
		chunkCov := coverage(w, lexical.StemSet(h.Title+" "+h.Text))
		best = math.Max(best, chunkCov)
		for pos, s := range sentences(h.Text) {
			cov := coverage(w, lexical.StemSet(s))
			// Prefer sentences from chunks that cover the question as a
			// whole, and from higher-ranked chunks when all else is equal.
			cands = append(cands, candidate{n: i + 1, pos: pos, text: s, cov: cov, score: cov + 0.1*chunkCov - 0.01*float64(i)})
		}
	}
	if best < th.MinCoverage {
		return plan{reason: ReasonLowRetrievalScore}, nil
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	var picked []candidate
	seen := map[string]bool{}
	for _, c := range cands {
		key := strings.Join(lexical.Words(c.text), " ")
		// Later sentences must be nearly as well supported as the first,
		// or they dilute the answer.
		if c.cov < th.MinSupport || seen[key] || len(picked) >= max(1, th.MaxSentences) ||
			(len(picked) > 0 && c.cov < 0.8*picked[0].cov) {
			continue
		}
		seen[key] = true
		picked = append(picked, c)
	}
	if len(picked) == 0 {
		return plan{reason: ReasonUnsupportedAnswer}, nil
	}
	sort.SliceStable(picked, func(a, b int) bool {
		if picked[a].n != picked[b].n {
			return picked[a].n < picked[b].n
		}
		return picked[a].pos < picked[b].pos
	})
	return plan{sentences: picked}, nil
}

// weights gives each question term (by stem) its IDF in the store.
func (e *Extractive) weights(ctx context.Context, question string) (map[string]float64, error) {
	terms := lexical.Terms(question)
	n, df, err := e.Stats.TermStats(ctx, terms)
	if err != nil {
		return nil, err
	}
	w := map[string]float64{}
	for _, t := range terms {
		idf := math.Log(1 + (float64(n)-float64(df[t])+0.5)/(float64(df[t])+0.5))
		stem := lexical.Stem(t)
		w[stem] = math.Max(w[stem], idf)
	}
	return w, nil
}

func coverage(w map[string]float64, stems map[string]bool) float64 {
	var have, total float64
	for s, idf := range w {
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

// sentences splits chunk text into quotable sentences: Markdown headings,
// tables and code fences are left out, list markers and emphasis removed,
// hard-wrapped lines rejoined.
func sentences(text string) []string {
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
