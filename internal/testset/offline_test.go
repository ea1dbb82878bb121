package testset

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
)

func TestDefinition(t *testing.T) {
	for _, tc := range []struct {
		sentence, text string
		q, a           string // "" when no definition should be found
	}{
		{"Abstention is a decision with a reason.", "Abstention is a decision. Each abstention is scored.", "What is abstention?", "a decision with a reason"},
		{"A chunk is a slice of a document small enough to retrieve, and quote.", "a chunk", "What is a chunk?", "a slice of a document small enough to retrieve"},
		{"Weaviate is a clustered vector database.", "Weaviate", "What is Weaviate?", "a clustered vector database"},
		{"BM25 means the probabilistic ranking of terms by frequency.", "", "What does BM25 mean?", "the probabilistic ranking of terms by frequency"},
		{"Graded gains are checked against published values.", "", "", ""}, // passive, not a definition
		{"It is a decision with a reason.", "", "", ""},                     // pronoun subject
		{"Coverage only says a passage is about the question.", "", "", ""}, // a clause, not a noun phrase
		{"In practice the store is a single file on disk.", "", "", ""},     // starts with a preposition
	} {
		c, ok := definition(tc.sentence, tc.text)
		if tc.q == "" {
			if ok {
				t.Errorf("%q: got %q, want no definition", tc.sentence, c.Question)
			}
			continue
		}
		if !ok || c.Question != tc.q || c.Answer != tc.a || c.Quote != tc.sentence {
			t.Errorf("%q: got %+v (%v), want %q -> %q", tc.sentence, c, ok, tc.q, tc.a)
		}
	}
}

func TestCloze(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ sentence, q, a string }{
		{"The team won the title in 2016 after a long season.", "The team won the title when after a long season?", "2016"},
		{"Agents and editors reach the knowledge base over the Model Context Protocol.", "Agents and editors reach the knowledge base over what?", "Model Context Protocol"},
		{"The built-in answerer declines in two steps, never more.", "The built-in answerer declines in how many steps?", "two"},
	} {
		c, ok := cloze(rng, tc.sentence)
		if !ok || c.Question != tc.q || c.Answer != tc.a {
			t.Errorf("%q: got %q -> %q (%v), want %q -> %q", tc.sentence, c.Question, c.Answer, ok, tc.q, tc.a)
		}
		if evaluate.Contains(c.Question, []string{c.Answer}) == 1 {
			t.Errorf("%q: the question gives its answer away", c.Question)
		}
	}
	for _, s := range []string{"It scores nDCG@10 on every set we ship today.", "lower case words only and nothing else to ask about here."} {
		if c, ok := cloze(rng, s); ok {
			t.Errorf("%q: got %q, want no cloze question", s, c.Question)
		}
	}
}

func TestProcedure(t *testing.T) {
	c, ok := procedure("Keys > Rotate a signing key", "Run ragtune keys rotate, then restart every replica.")
	if !ok || c.Question != "How do you rotate a signing key?" || c.Answer != "Run ragtune keys rotate" {
		t.Fatalf("got %+v %v", c, ok)
	}
	if _, ok := procedure("Background", "Run the tests before you push."); ok {
		t.Fatal("a heading that names no task made a procedure question")
	}
}

func TestCheck(t *testing.T) {
	p := Passage{Doc: corpus.DocumentInfo{Path: "a.md"}, Chunks: []corpus.Chunk{{ID: "c1", Text: "Signing keys rotate every ninety days.\nOld keys are kept for a week."}}}
	two := Passage{Chunks: []corpus.Chunk{{Text: "Keys rotate every ninety days."}, {Text: "Old keys are kept for a week."}}}
	for _, tc := range []struct {
		name string
		c    Candidate
		p    Passage
		want string
	}{
		{"good", Candidate{Question: "How often do signing keys rotate?", Answer: "every ninety days", Quote: "Signing keys rotate every ninety days.", Kind: evaluate.KindAnswerable}, p, ""},
		{"quote case and space", Candidate{Question: "How often do signing keys rotate?", Answer: "ninety days", Quote: "signing keys  rotate every ninety days", Kind: evaluate.KindAnswerable}, p, ""},
		{"made-up quote", Candidate{Question: "How often do signing keys rotate?", Answer: "ninety days", Quote: "Keys rotate every ninety days in production.", Kind: evaluate.KindAnswerable}, p, DropQuoteNotInSource},
		{"answer not in quote", Candidate{Question: "How often do signing keys rotate?", Answer: "monthly", Quote: "Signing keys rotate every ninety days.", Kind: evaluate.KindAnswerable}, p, DropUnsupported},
		{"needs the passage", Candidate{Question: "According to the text, how often do keys rotate?", Answer: "ninety days", Quote: "Signing keys rotate every ninety days.", Kind: evaluate.KindAnswerable}, p, DropContextual},
		{"gives the answer", Candidate{Question: "Do keys rotate every ninety days?", Answer: "every ninety days", Quote: "Signing keys rotate every ninety days.", Kind: evaluate.KindAnswerable}, p, DropAnswerInQuestion},
		{"too short", Candidate{Question: "Rotation?", Answer: "x", Quote: "x", Kind: evaluate.KindAnswerable}, p, DropLength},
		{"unverified unanswerable", Candidate{Question: "Who designed the key rotation?", Kind: KindOffPassage}, p, DropUnverified},
		{"verified unanswerable", Candidate{Question: "Who designed the key rotation?", Kind: KindOffPassage, Verified: "checked"}, p, ""},
		{"two passages", Candidate{Question: "How long are keys used and kept?", Answer: "ninety days", Quote: "Keys rotate every ninety days.\nOld keys are kept for a week.", Kind: KindTwoPassage}, two, ""},
		{"two quotes from one passage", Candidate{Question: "How long are keys used and kept?", Answer: "ninety days", Quote: "Keys rotate every ninety days.\nKeys rotate every ninety days.", Kind: KindTwoPassage}, two, DropQuoteNotInSource},
	} {
		if got := Check(tc.c, tc.p); got != tc.want {
			t.Errorf("%s: Check = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNearDuplicates(t *testing.T) {
	var k keptQuestions
	k.add("How often do signing keys rotate?")
	if !k.near("How often do the signing keys rotate?") {
		t.Error("a reworded copy is not a near duplicate")
	}
	if k.near("Where are old signing keys kept?") {
		t.Error("a different question counted as a duplicate")
	}
}

func TestKeySpansAndSwap(t *testing.T) {
	ks := keySpans("How many points did the Denver Broncos score in 2015?")
	var got []string
	for _, k := range ks {
		got = append(got, k.text)
	}
	if strings.Join(got, "|") != "Denver Broncos" {
		t.Fatalf("keys %v", got)
	}
	g := &generation{rng: rand.New(rand.NewPCG(3, 4))}
	q, term, ok := g.swap("Which team won 24 games in a season?", nil)
	if !ok || strings.Contains(q, " 24 ") || !strings.Contains(q, term) {
		t.Fatalf("swap: %q %q %v", q, term, ok)
	}
}

func TestClozeSkipsAddressesAndCutParentheses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []string{
		"The serve command answers over HTTP on 127.0.0.1 by default here.",
		"A keyword search looks for at most 64 words (the rarest of a long query's first 1,024 words, which keeps it bounded).",
	} {
		if c, ok := cloze(rng, s); ok && (strings.Contains(c.Answer, "127.0.0.1") || strings.Count(c.Question, "(") != strings.Count(c.Question, ")")) {
			t.Errorf("%q: got %q -> %q", s, c.Question, c.Answer)
		}
	}
	// Not a cloze that refuses everything: a plain sentence with a number
	// still makes a question.
	plain := "The default chunk size of the recursive strategy is 256 tokens with an overlap of 32 tokens."
	if c, ok := cloze(rand.New(rand.NewPCG(1, 2)), plain); !ok || c.Question == "" || c.Answer == "" {
		t.Errorf("%q made no question: %+v %v", plain, c, ok)
	}
}
