package answerability

import (
	"testing"
	"unicode/utf8"
)

// FuzzJudge: any question and sentence — odd Unicode, stray punctuation,
// numbers with commas — tokenise into in-range offsets, and the judge
// returns a probability and a short answer quoted from the sentence.
func FuzzJudge(f *testing.F) {
	f.Add("Who wrote Hamlet?", "Hamlet was written by William Shakespeare around 1600.")
	f.Add("How many, 1,000?", "$1,000.50, 3.5% — U.S. don't-stop's ’quoted’ (x)")
	f.Add("", "")
	f.Add("When did it open on February 7, 2016?", "It opened February 7, 2016, in Santa Clara, California.")
	judge := NewJudge(MustFitted())
	f.Fuzz(func(t *testing.T, question, sentence string) {
		for _, tok := range Tokenize(sentence) {
			if tok.Start < 0 || tok.End > len(sentence) || tok.Start >= tok.End || sentence[tok.Start:tok.End] != tok.Text {
				t.Fatalf("token %+v of %q", tok, sentence)
			}
		}
		q := Analyze(question)
		v := judge.Assess(Input{Question: q, Passages: []Passage{{Text: sentence}}, Sentences: []Sentence{{Text: sentence}}})
		if len(v) != 1 || !(v[0].Prob >= 0 && v[0].Prob <= 1) {
			t.Fatalf("verdicts %+v", v)
		}
		if s := v[0].Short; s.Text != "" && (s.End > len(sentence) || sentence[s.Start:s.End] != s.Text || !utf8.ValidString(s.Text) && utf8.ValidString(sentence)) {
			t.Fatalf("short answer %+v of %q", s, sentence)
		}
	})
}
