package evaluate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// QAItem is one question of a QA test set (JSONL).
type QAItem struct {
	ID         string   `json:"id"`
	Question   string   `json:"question"`
	Answers    []string `json:"answers"`
	GoldDocIDs []string `json:"gold_doc_ids"`
	// Answerable defaults to true; false marks a question the system must
	// decline.
	Answerable *bool   `json:"answerable"`
	Expect     *Expect `json:"expect"`
	// Kind groups items for reporting (e.g. how an unanswerable question
	// was made); Origin names the item it was derived from.
	Kind   string `json:"kind,omitempty"`
	Origin string `json:"origin,omitempty"`
	// Provenance says where a generated item came from; Review holds a
	// person's decision on it (see `ragtune eval review`).
	Provenance *Provenance `json:"provenance,omitempty"`
	Review     *Review     `json:"review,omitempty"`
}

// Provenance records how a generated item was made, so that it can be
// checked against its source and regenerated.
type Provenance struct {
	Doc       string   `json:"doc"`                 // the source document's path in the store
	ChunkIDs  []string `json:"chunk_ids"`           // the passages the question was written from
	Quote     string   `json:"quote,omitempty"`     // the verbatim supporting text
	Generator string   `json:"generator"`           // "offline/1", "llm:MODEL/PROMPT-VERSION"
	Method    string   `json:"method,omitempty"`    // definition, cloze, procedure, swapped_entity…
	Seed      uint64   `json:"seed"`                // the sampling seed of the set
	Verified  string   `json:"verified,omitempty"`  // how an unanswerable item was checked
	Generated string   `json:"generated,omitempty"` // RFC 3339 time
}

// Review states of a generated item.
const (
	ReviewProposed = "proposed"
	ReviewAccepted = "accepted"
	ReviewRejected = "rejected"
)

// Review is a person's decision on a generated item. An edit keeps the
// generated question and answers in Original.
type Review struct {
	Status   string  `json:"status"`
	Note     string  `json:"note,omitempty"`
	By       string  `json:"by,omitempty"`
	At       string  `json:"at,omitempty"`
	Original *QAItem `json:"original,omitempty"`
}

// ReviewStatus is the item's review state; a hand-written item (no
// review) counts as accepted.
func (q QAItem) ReviewStatus() string {
	if q.Review == nil || q.Review.Status == "" {
		if q.Provenance != nil {
			return ReviewProposed
		}
		return ReviewAccepted
	}
	return q.Review.Status
}

// SelectReviewed keeps the items a run should use: every item but the
// rejected ones, or with acceptedOnly only the accepted (and hand-written)
// ones.
func SelectReviewed(items []QAItem, acceptedOnly bool) []QAItem {
	out := items[:0:0]
	for _, it := range items {
		switch st := it.ReviewStatus(); {
		case st == ReviewRejected:
		case acceptedOnly && st != ReviewAccepted:
		default:
			out = append(out, it)
		}
	}
	return out
}

// ShouldAnswer reports whether the item expects an answer.
func (q QAItem) ShouldAnswer() bool { return q.Answerable == nil || *q.Answerable }

// Expect holds behaviour checks on the answer text.
type Expect struct {
	Regex    string   `json:"regex"`
	MaxWords int      `json:"max_words"`
	Required []string `json:"required"`
	Banned   []string `json:"banned"`
}

// LoadQA reads a QA JSONL file; every bad line is reported with its number.
func LoadQA(path string) ([]QAItem, error) {
	var items []QAItem
	var problems []string
	seen := map[string]bool{}
	_, err := readJSONL(path, func(line int, raw []byte) error {
		var q QAItem
		switch err := json.Unmarshal(raw, &q); {
		case err != nil:
			problems = append(problems, fmt.Sprintf("line %d: %v", line, err))
		case strings.TrimSpace(q.Question) == "":
			problems = append(problems, fmt.Sprintf("line %d: no question", line))
		case q.Expect != nil && q.Expect.Regex != "":
			if _, err := regexp.Compile(q.Expect.Regex); err != nil {
				problems = append(problems, fmt.Sprintf("line %d: expect.regex: %v", line, err))
				return nil
			}
			fallthrough
		default:
			if q.ID == "" {
				q.ID = fmt.Sprintf("line-%d", line)
			}
			if p := itemProblem(q, seen); p != "" {
				problems = append(problems, fmt.Sprintf("line %d: %s", line, p))
				return nil
			}
			seen[q.ID] = true
			items = append(items, q)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %d bad lines: %s", path, len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return items, nil
}

// ValidReviewStatus reports whether s is one of the three review states.
func ValidReviewStatus(s string) bool {
	return s == ReviewProposed || s == ReviewAccepted || s == ReviewRejected
}

// itemProblem is what makes a parsed item unusable: an ID used before
// (scores are kept by ID) or a review state that is not one of the three.
func itemProblem(q QAItem, seen map[string]bool) string {
	if seen[q.ID] {
		return fmt.Sprintf("id %q is used twice", q.ID)
	}
	if r := q.Review; r != nil && !ValidReviewStatus(r.Status) {
		return fmt.Sprintf("review.status %q (want proposed, accepted or rejected)", r.Status)
	}
	return ""
}

var (
	citationMarker = regexp.MustCompile(`\s*\[\d+\]`)
	articles       = regexp.MustCompile(`\b(a|an|the)\b`)
)

// StripCitations removes [n] markers before an answer is compared with
// gold text.
func StripCitations(s string) string {
	return strings.TrimSpace(citationMarker.ReplaceAllString(s, ""))
}

// NormalizeAnswer is SQuAD's normalisation: lower case, punctuation and
// articles removed, whitespace collapsed.
func NormalizeAnswer(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return r
	}, s)
	s = articles.ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(s), " ")
}

// ExactMatch is 1 when the normalised prediction equals a normalised gold
// answer.
func ExactMatch(pred string, golds []string) float64 {
	p := NormalizeAnswer(pred)
	for _, g := range golds {
		if p == NormalizeAnswer(g) {
			return 1
		}
	}
	return 0
}

// TokenF1 is SQuAD's token-overlap F1, the maximum over gold answers.
func TokenF1(pred string, golds []string) float64 {
	best := 0.0
	pt := strings.Fields(NormalizeAnswer(pred))
	for _, g := range golds {
		gt := strings.Fields(NormalizeAnswer(g))
		if len(pt) == 0 || len(gt) == 0 {
			if len(pt) == len(gt) {
				best = max(best, 1)
			}
			continue
		}
		counts := map[string]int{}
		for _, t := range gt {
			counts[t]++
		}
		common := 0
		for _, t := range pt {
			if counts[t] > 0 {
				counts[t]--
				common++
			}
		}
		if common == 0 {
			continue
		}
		p, r := float64(common)/float64(len(pt)), float64(common)/float64(len(gt))
		best = max(best, 2*p*r/(p+r))
	}
	return best
}

// Contains is 1 when a normalised gold answer occurs in the normalised
// text.
func Contains(text string, golds []string) float64 {
	t := " " + NormalizeAnswer(text) + " "
	for _, g := range golds {
		if n := NormalizeAnswer(g); n != "" && strings.Contains(t, " "+n+" ") {
			return 1
		}
	}
	return 0
}

// CheckBehaviour reports which expectations an answer breaks.
func CheckBehaviour(answer string, e *Expect) []string {
	if e == nil {
		return nil
	}
	var broken []string
	text := StripCitations(answer)
	if e.Regex != "" {
		if re, err := regexp.Compile(e.Regex); err == nil && !re.MatchString(text) {
			broken = append(broken, "regex "+e.Regex)
		}
	}
	if e.MaxWords > 0 && len(strings.Fields(text)) > e.MaxWords {
		broken = append(broken, fmt.Sprintf("more than %d words", e.MaxWords))
	}
	lower := strings.ToLower(text)
	for _, r := range e.Required {
		if !strings.Contains(lower, strings.ToLower(r)) {
			broken = append(broken, "missing required "+r)
		}
	}
	for _, b := range e.Banned {
		if strings.Contains(lower, strings.ToLower(b)) {
			broken = append(broken, "contains banned "+b)
		}
	}
	return broken
}

// Spread keeps about n items evenly spaced through the list, so a quick
// run still samples every part of the file; n <= 0 keeps all.
func Spread(items []QAItem, n int) []QAItem {
	if n <= 0 || n >= len(items) {
		return items
	}
	out := make([]QAItem, 0, n)
	for i := range n {
		out = append(out, items[i*len(items)/n])
	}
	return out
}
