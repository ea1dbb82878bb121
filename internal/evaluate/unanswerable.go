package evaluate

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/ragtune/ragtune/internal/answer"
)

// Kinds of item in a test set with synthetic unanswerable questions.
const (
	KindAnswerable      = "answerable"
	KindRemovedSentence = "removed_sentence" // the gold sentence was taken out of the corpus
	KindSwappedEntity   = "swapped_entity"   // a name, number or date in the question was replaced
)

// UnanswerableOptions shape MakeUnanswerable.
type UnanswerableOptions struct {
	Seed uint64
	// RemoveShare of the paragraphs lose the sentence that answers one of
	// their questions.
	RemoveShare float64
	// SwapShare of the remaining answerable questions get a twin with a
	// name, number or date swapped.
	SwapShare float64
}

// Unanswerable is a corpus with a QA set whose unanswerable questions sit
// on the corpus' topics: the SQuAD 2.0 kind, made from a SQuAD 1.1 set.
type Unanswerable struct {
	Corpus []CorpusDoc
	Items  []QAItem
}

// MakeUnanswerable derives unanswerable questions from answerable ones
// with one gold paragraph each: for a share of paragraphs it removes the
// sentence holding one question's answer (the rest of the paragraph, on
// the same topic, stays), and for a share of the other questions it adds
// a copy with a name, number or date swapped for one the paragraph does
// not mention. Items whose answers survive the removal stay answerable;
// every item is labelled with its Kind. The result is deterministic for
// a seed.
func MakeUnanswerable(corpus []CorpusDoc, items []QAItem, opts UnanswerableOptions) Unanswerable {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	byDoc := map[string][]int{}
	for i, it := range items {
		if len(it.GoldDocIDs) == 1 && len(it.Answers) > 0 && it.ShouldAnswer() {
			byDoc[it.GoldDocIDs[0]] = append(byDoc[it.GoldDocIDs[0]], i)
		}
	}
	pool := swapPool(items)
	var out Unanswerable
	for _, d := range corpus {
		qs := byDoc[d.ID]
		removed := -1
		if len(qs) > 0 && rng.Float64() < opts.RemoveShare {
			pick := qs[rng.IntN(len(qs))]
			if text, ok := removeAnswerSentence(d.Text, items[pick].Answers); ok && Contains(d.Title+" "+text, items[pick].Answers) == 0 {
				d.Text, removed = text, pick
			}
		}
		out.Corpus = append(out.Corpus, d)
		for _, i := range qs {
			it := items[i]
			switch {
			case i == removed:
				out.Items = append(out.Items, unanswerable(it, it.ID, it.Question, KindRemovedSentence))
			case Contains(d.Title+" "+d.Text, it.Answers) == 0:
				continue // its answer went with the removed sentence
			default:
				it.Kind = KindAnswerable
				out.Items = append(out.Items, it)
				if rng.Float64() < opts.SwapShare {
					if q, ok := swapKey(rng, it.Question, d.Title+" "+d.Text, pool(articleOf(d.ID))); ok {
						out.Items = append(out.Items, unanswerable(it, it.ID+"-swap", q, KindSwappedEntity))
					}
				}
			}
		}
	}
	return out
}

func unanswerable(it QAItem, id, question, kind string) QAItem {
	no := false
	return QAItem{ID: id, Question: question, Answers: []string{}, GoldDocIDs: []string{}, Answerable: &no, Kind: kind, Origin: it.ID}
}

// removeAnswerSentence drops the first sentence that holds an answer.
func removeAnswerSentence(text string, answers []string) (string, bool) {
	for _, s := range answer.Sentences(text) {
		if Contains(s, answers) == 1 {
			if i := strings.Index(text, s); i >= 0 {
				return strings.Join(strings.Fields(text[:i]+" "+text[i+len(s):]), " "), true
			}
		}
	}
	return text, false
}

// articleOf is a SQuAD-style document id's article ("a07" of "a07p012"),
// or the id itself.
func articleOf(id string) string {
	if i := strings.IndexByte(id, 'p'); i > 0 {
		return id[:i]
	}
	return id
}

// keyPool holds the names asked about in the questions, by article, so a
// swap can take a name from another article.
type keyPool struct {
	names    [][]string // one list per article
	articles map[string]int
}

func swapPool(items []QAItem) func(article string) [][]string {
	p := keyPool{articles: map[string]int{}}
	for _, it := range items {
		if len(it.GoldDocIDs) != 1 {
			continue
		}
		a := articleOf(it.GoldDocIDs[0])
		i, ok := p.articles[a]
		if !ok {
			i = len(p.names)
			p.articles[a] = i
			p.names = append(p.names, nil)
		}
		for _, k := range keySpans(it.Question) {
			if !isNumeric(it.Question[k[0]:k[1]]) {
				p.names[i] = append(p.names[i], it.Question[k[0]:k[1]])
			}
		}
	}
	return func(article string) [][]string {
		var others [][]string
		for i, names := range p.names { // in first-seen order: deterministic
			if i != p.articles[article] || !known(p.articles, article) {
				others = append(others, names)
			}
		}
		return others
	}
}

// keySpans are the byte ranges of the question's names (runs of
// capitalised words after the first word) and numbers.
func keySpans(q string) [][2]int {
	var out [][2]int
	words := wordRanges(q)
	for i := 1; i < len(words); i++ {
		w := q[words[i][0]:words[i][1]]
		switch {
		case isNumeric(w):
			out = append(out, words[i])
		case unicode.IsUpper([]rune(w)[0]):
			j := i
			for j+1 < len(words) && unicode.IsUpper([]rune(q[words[j+1][0]:words[j+1][1]])[0]) && words[j+1][0] == words[j][1]+1 {
				j++
			}
			out = append(out, [2]int{words[i][0], words[j][1]})
			i = j
		}
	}
	return out
}

func wordRanges(s string) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range s + " " {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\''
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

func isNumeric(w string) bool {
	_, err := strconv.Atoi(w)
	return err == nil
}

// swapKey replaces one of the question's names or numbers with one the
// paragraph does not mention: a number is shifted, a name taken from a
// question of another article.
func swapKey(rng *rand.Rand, q, paragraph string, others [][]string) (string, bool) {
	keys := keySpans(q)
	if len(keys) == 0 {
		return "", false
	}
	lower := strings.ToLower(paragraph)
	k := keys[rng.IntN(len(keys))]
	old := q[k[0]:k[1]]
	for range 20 {
		var repl string
		if n, err := strconv.Atoi(old); err == nil {
			shift := 1 + rng.IntN(30)
			if rng.IntN(2) == 0 && n-shift > 0 {
				shift = -shift
			}
			repl = strconv.Itoa(n + shift)
		} else if len(others) > 0 {
			names := others[rng.IntN(len(others))]
			if len(names) == 0 {
				continue
			}
			repl = names[rng.IntN(len(names))]
		}
		if repl != "" && !strings.EqualFold(repl, old) && !strings.Contains(lower, strings.ToLower(repl)) {
			return q[:k[0]] + repl + q[k[1]:], true
		}
	}
	return "", false
}

// WriteUnanswerable writes u as a BEIR directory with its QA file:
// corpus.jsonl, queries.jsonl, qrels/test.tsv (answerable items) and
// qa.jsonl, so that `ragtune eval run DIR/qa.jsonl --corpus DIR` runs it.
func WriteUnanswerable(dir string, u Unanswerable) error {
	if err := os.MkdirAll(filepath.Join(dir, "qrels"), 0o755); err != nil {
		return fmt.Errorf("writing the test set: %w", err)
	}
	write := func(name string, fn func(io.Writer) error) error {
		return WriteFile(filepath.Join(dir, name), fn)
	}
	jsonl := func(rows func(enc *json.Encoder) error) func(io.Writer) error {
		return func(w io.Writer) error { return rows(json.NewEncoder(w)) }
	}
	steps := []struct {
		name string
		fn   func(io.Writer) error
	}{
		{"corpus.jsonl", jsonl(func(enc *json.Encoder) error {
			for _, d := range u.Corpus {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
			return nil
		})},
		{"qa.jsonl", jsonl(func(enc *json.Encoder) error {
			for _, it := range u.Items {
				if err := enc.Encode(it); err != nil {
					return err
				}
			}
			return nil
		})},
		{"queries.jsonl", jsonl(func(enc *json.Encoder) error {
			for _, it := range u.Items {
				if err := enc.Encode(Query{ID: it.ID, Text: it.Question}); err != nil {
					return err
				}
			}
			return nil
		})},
		{"qrels/test.tsv", func(w io.Writer) error {
			fmt.Fprintln(w, "query-id\tcorpus-id\tscore")
			for _, it := range u.Items {
				for _, g := range it.GoldDocIDs {
					fmt.Fprintf(w, "%s\t%s\t1\n", it.ID, g)
				}
			}
			return nil
		}},
	}
	for _, s := range steps {
		if err := write(s.name, s.fn); err != nil {
			return err
		}
	}
	return nil
}

func known(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}
