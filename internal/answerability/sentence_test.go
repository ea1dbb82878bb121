package answerability

import "testing"

func judged(question string, sentences ...string) []Verdict {
	in := Input{Question: Analyze(question), IDF: map[string]float64{}}
	for i, s := range sentences {
		in.Passages = append(in.Passages, Passage{Text: s})
		in.Sentences = append(in.Sentences, Sentence{Passage: i, Text: s})
	}
	return NewJudge(MustFitted()).Assess(in)
}

// TestAssess: a sentence that holds the asked-for unit outranks one that
// is only on the topic, and a question whose named entity the context
// lacks scores lower than the same question about the entity it holds.
func TestAssess(t *testing.T) {
	answers := "The Eiffel Tower opened to the public in 1889, two years after work began."
	topical := "The Eiffel Tower is made of wrought iron and stands on the Champ de Mars in Paris."
	v := judged("When did the Eiffel Tower open?", answers, topical)
	if v[0].Prob <= v[1].Prob || v[0].Short.Text == "" {
		t.Errorf("answering sentence %.3f (short %q), topical one %.3f", v[0].Prob, v[0].Short.Text, v[1].Prob)
	}
	for _, p := range v {
		if p.Prob < 0 || p.Prob > 1 || len(p.Features) != len(SentenceFeatures) {
			t.Errorf("verdict %+v", p)
		}
	}
	swapped := judged("When did the Blackpool Tower open?", answers, topical)
	if swapped[0].Prob >= v[0].Prob {
		t.Errorf("swapped entity %.3f, original %.3f", swapped[0].Prob, v[0].Prob)
	}
}
