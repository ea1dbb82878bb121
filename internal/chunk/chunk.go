// Package chunk cuts documents into retrieval units. Sizes are in tokens
// (the unit of an LLM's context budget), cuts fall on the strongest
// natural boundary available (heading, paragraph, line, sentence,
// clause, word), and every chunk remembers where it came from: byte
// range, line range and heading path.
package chunk

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ragtune/ragtune/internal/document"
)

// Strategy names a way of cutting.
type Strategy string

const (
	// Recursive packs the largest natural sections that fit the size,
	// splitting at weaker boundaries only when it must.
	Recursive Strategy = "recursive"
	// Markdown is Recursive that never lets a chunk span two sections.
	Markdown Strategy = "markdown"
	// Sentence makes windows of whole sentences.
	Sentence Strategy = "sentence"
	// Fixed makes windows of exactly Size tokens (ending on a word) with
	// Overlap tokens of overlap, ignoring structure.
	Fixed Strategy = "fixed"
)

// Strategies lists the valid strategy names.
var Strategies = []Strategy{Recursive, Markdown, Sentence, Fixed}

// Options configure a split.
type Options struct {
	Strategy  Strategy `toml:"strategy" json:"strategy"`
	Size      int      `toml:"size" json:"size"`           // tokens per chunk, at most
	Overlap   int      `toml:"overlap" json:"overlap"`     // tokens shared by neighbours
	Sentences int      `toml:"sentences" json:"sentences"` // sentences per window (Sentence)
}

// DefaultOptions: 256-token chunks keep four retrieved chunks around 1,000
// tokens of context, and an eighth of overlap keeps sentences that
// straddle a cut findable from both sides.
func DefaultOptions() Options {
	return Options{Strategy: Recursive, Size: 256, Overlap: 32, Sentences: 3}
}

// Validate reports settings that cannot produce sensible chunks.
func (o Options) Validate() error {
	known := false
	for _, s := range Strategies {
		known = known || s == o.Strategy
	}
	switch {
	case !known:
		return fmt.Errorf("unknown chunk strategy %q (want one of recursive, markdown, sentence, fixed)", o.Strategy)
	case o.Size < 16:
		return fmt.Errorf("chunk size %d is below the minimum of 16 tokens", o.Size)
	case o.Overlap < 0 || o.Overlap >= o.Size/2:
		return fmt.Errorf("chunk overlap %d must be at least 0 and under half the size (%d)", o.Overlap, o.Size/2)
	case o.Strategy == Sentence && o.Sentences < 1:
		return fmt.Errorf("sentences per chunk must be at least 1, not %d", o.Sentences)
	}
	return nil
}

// version changes whenever the same settings would cut differently.
const version = 2

// Signature identifies the settings and the chunker version; documents chunked under another
// signature are re-chunked on the next ingest.
func (o Options) Signature() string {
	s := fmt.Sprintf("v%d/%s/%d/%d", version, o.Strategy, o.Size, o.Overlap)
	if o.Strategy == Sentence {
		s += fmt.Sprintf("/%d", o.Sentences)
	}
	return s
}

// Chunk is one retrieval unit of a document.
type Chunk struct {
	Index     int      `json:"index"`
	Text      string   `json:"text"`
	Start     int      `json:"start"` // byte offset in Document.Text
	End       int      `json:"end"`
	LineStart int      `json:"line_start"` // 1-based, inclusive
	LineEnd   int      `json:"line_end"`
	Heading   []string `json:"heading"` // heading path, outermost first
	Tokens    int      `json:"tokens"`
}

// span is a chunk in units: [lo, hi), with own the first unit that is not
// overlap carried from the previous chunk.
type span struct{ lo, hi, own int }

// Split cuts doc according to opts, counting tokens with tok.
func Split(doc *document.Document, opts Options, tok Counter) ([]Chunk, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	units := splitUnits(doc, tok)
	if len(units) == 0 {
		return nil, nil
	}
	s := newSplitter(units, opts)
	var spans []span
	switch opts.Strategy {
	case Recursive:
		spans = s.merge(s.recursive(0, len(units), opts.Size), false, true)
	case Markdown:
		spans = s.merge(s.sections(), true, true)
	case Fixed:
		pieces := make([]span, len(units))
		for i := range units {
			pieces[i] = span{i, i + 1, i}
		}
		spans = s.merge(pieces, false, false)
	case Sentence:
		spans = s.sentenceWindows()
	}
	return build(doc, units, s.cum, spans), nil
}

type splitter struct {
	units []unit
	cum   []int // cum[i] = tokens in units[:i]
	opts  Options
}

func newSplitter(units []unit, opts Options) *splitter {
	cum := make([]int, len(units)+1)
	for i, u := range units {
		cum[i+1] = cum[i] + u.tokens
	}
	return &splitter{units: units, cum: cum, opts: opts}
}

func (s *splitter) tokens(lo, hi int) int { return s.cum[hi] - s.cum[lo] }

// recursive cuts [lo, hi) at its strongest inner boundaries until every
// piece fits size (or is a single unit).
func (s *splitter) recursive(lo, hi, size int) []span {
	if hi-lo <= 1 || s.tokens(lo, hi) <= size {
		return []span{{lo, hi, lo}}
	}
	best := -1
	for j := lo + 1; j < hi; j++ {
		best = max(best, s.units[j].boundary)
	}
	var out []span
	start := lo
	for j := lo + 1; j < hi; j++ {
		if s.units[j].boundary == best {
			out = append(out, s.recursive(start, j, size)...)
			start = j
		}
	}
	return append(out, s.recursive(start, hi, size)...)
}

// merge packs consecutive pieces into chunks of at most Size tokens.
// Headings stay with the text after them: a chunk never ends on a heading
// that has room in the next one, and overlap never reaches back across a
// heading. With hard set, a heading always starts a new chunk unless the
// chunk so far holds nothing but headings. With snap set, overlap starts
// on a sentence boundary when one is near.
func (s *splitter) merge(pieces []span, hard, snap bool) []span {
	var out []span
	cur := span{pieces[0].lo, pieces[0].lo, pieces[0].lo}
	contentHi := -1 // end of the last piece in cur holding more than headings
	for _, p := range pieces {
		section := s.units[p.lo].boundary == bHeading
		over := s.tokens(cur.lo, p.hi) > s.opts.Size
		switch {
		case contentHi > 0 && (over || (hard && section)):
			start := contentHi
			if s.tokens(contentHi, p.hi) > s.opts.Size {
				contentHi, start = cur.hi, p.lo // no room to carry the headings over
			}
			out = append(out, span{cur.lo, contentHi, cur.own})
			own := start
			if start == p.lo && !section {
				if o := s.overlapStart(span{cur.lo, p.lo, cur.own}, p.lo, snap); s.tokens(o, p.hi) <= s.opts.Size {
					start = o
				}
			}
			cur = span{start, p.lo, own}
			contentHi = -1
		case contentHi < 0 && over && cur.hi > cur.lo:
			out = append(out, cur) // a run of headings too long for one chunk
			cur = span{p.lo, p.lo, p.lo}
		}
		cur.hi = p.hi
		if !s.allHeading(p) {
			contentHi = p.hi
		}
	}
	return append(out, cur)
}

func (s *splitter) allHeading(p span) bool {
	for i := p.lo; i < p.hi; i++ {
		if !s.units[i].heading {
			return false
		}
	}
	return true
}

// sections cuts [0, n) at every heading, then each section to size.
func (s *splitter) sections() []span {
	var out []span
	start := 0
	for j := 1; j <= len(s.units); j++ {
		if j == len(s.units) || s.units[j].boundary == bHeading {
			out = append(out, s.recursive(start, j, s.opts.Size)...)
			start = j
		}
	}
	return out
}

// overlapStart finds where the next chunk should begin so that it repeats
// at most Overlap tokens of the chunk cur, which ends at end.
func (s *splitter) overlapStart(cur span, end int, snap bool) int {
	if s.opts.Overlap == 0 {
		return end
	}
	start := end
	for start > cur.lo && s.tokens(start-1, end) <= s.opts.Overlap {
		start--
	}
	if !snap {
		return start
	}
	for j := start; j < end; j++ {
		if s.units[j].boundary >= bSentence {
			return j
		}
	}
	return start
}

// sentenceWindows groups whole sentences, Sentences at a time, sharing one
// sentence with the previous window when overlap is on. Windows stay
// inside a section and headings open the window of the text below them.
// Sentences longer than Size are cut like Recursive would.
func (s *splitter) sentenceWindows() []span {
	var sentences []span
	start := 0
	for j := 1; j <= len(s.units); j++ {
		if j == len(s.units) || s.units[j].boundary >= bSentence {
			if s.allHeading(span{start, j, start}) && j < len(s.units) && s.units[j].boundary != bHeading {
				continue // a heading joins the sentence after it
			}
			sentences = append(sentences, s.recursive(start, j, s.opts.Size)...)
			start = j
		}
	}
	fits := func(i, end int) bool {
		return end < len(sentences) && end-i < s.opts.Sentences &&
			s.units[sentences[end].lo].boundary != bHeading &&
			s.tokens(sentences[i].lo, sentences[end].hi) <= s.opts.Size
	}
	var out []span
	own := 0
	for i := 0; i < len(sentences); {
		end := i + 1
		for fits(i, end) {
			end++
		}
		out = append(out, span{sentences[i].lo, sentences[end-1].hi, sentences[max(i, own)].lo})
		own = end
		next := end
		if s.opts.Overlap > 0 && end-i > 1 && end < len(sentences) && s.units[sentences[end].lo].boundary != bHeading {
			next = end - 1
		}
		i = next
	}
	return out
}

func build(doc *document.Document, units []unit, cum []int, spans []span) []Chunk {
	lines := newlineIndex(doc.Text)
	paths := headingPaths(doc.Headings)
	chunks := make([]Chunk, 0, len(spans))
	for i, sp := range spans {
		start, end := units[sp.lo].start, units[sp.hi-1].end
		c := Chunk{
			Index:     i,
			Text:      doc.Text[start:end],
			Start:     start,
			End:       end,
			LineStart: lineOf(lines, start),
			LineEnd:   lineOf(lines, end-1),
			Tokens:    cum[sp.hi] - cum[sp.lo],
		}
		first := sp.own
		for first < sp.hi-1 && units[first].heading {
			first++ // the path is that of the first text below the headings
		}
		// A chunk that runs across sections is labelled with the part of
		// the path they share, so a citation never names the wrong section.
		c.Heading = commonPrefix(pathAt(doc.Headings, paths, units[first].start), pathAt(doc.Headings, paths, units[sp.hi-1].start))
		chunks = append(chunks, c)
	}
	return chunks
}

func newlineIndex(text string) []int {
	var idx []int
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			idx = append(idx, i)
		}
	}
	return idx
}

// lineOf returns the 1-based line holding byte offset off.
func lineOf(newlines []int, off int) int {
	return sort.SearchInts(newlines, off) + 1
}

func headingPaths(hs []document.Heading) [][]string {
	paths := make([][]string, len(hs))
	type entry struct {
		level int
		title string
	}
	var stack []entry
	for i, h := range hs {
		for len(stack) > 0 && stack[len(stack)-1].level >= h.Level {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, entry{h.Level, h.Title})
		p := make([]string, len(stack))
		for j, e := range stack {
			p[j] = e.title
		}
		paths[i] = p
	}
	return paths
}

func pathAt(hs []document.Heading, paths [][]string, off int) []string {
	i := sort.Search(len(hs), func(i int) bool { return hs[i].Start > off }) - 1
	if i < 0 {
		return nil
	}
	return paths[i]
}

func commonPrefix(a, b []string) []string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	if n == 0 {
		return nil
	}
	return a[:n]
}

// HeadingString joins a heading path for display.
func HeadingString(path []string) string { return strings.Join(path, " > ") }
