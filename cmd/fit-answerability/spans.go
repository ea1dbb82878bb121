package main

import (
	"fmt"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// lexicalFit: AdaGrad's usual step, three passes, and only words seen
// five times or more, so that the weights stay small (a few hundred kB).
var lexicalFit = answerability.LexicalFitOptions{Epochs: 3, Rate: 0.1, L2: 1e-4, MinCount: 5, MinWeight: 0.01}

// fitSpans fits the span models on the training half's answerable
// questions, over the sentence of their paragraph that holds the answer
// (target: each candidate span's token F1 with the gold answer): first the
// dense model, then the word features as a correction to it.
func fitSpans(train []evaluate.QAItem, docs map[string]evaluate.CorpusDoc) (*answerability.Models, error) {
	var x [][]float64
	var keys [][]string
	var y []float64
	for _, it := range train {
		s, ok := goldSentence(it, docs)
		if !ok {
			continue
		}
		q := answerability.Analyze(it.Question)
		rows, texts := answerability.SpanRows(&q, s)
		keys = append(keys, answerability.LexicalRows(&q, s)...)
		for i, r := range rows {
			x, y = append(x, r), append(y, evaluate.TokenF1(texts[i], it.Answers))
		}
	}
	m, err := answerability.Fit(answerability.SpanFeatures, x, y, answerability.FitOptions{L2: 1e-4})
	if err != nil {
		return nil, fmt.Errorf("fitting the span model: %w", err)
	}
	offset := make([]float64, len(x))
	for i, r := range x {
		offset[i] = m.Logit(r)
	}
	words := answerability.FitLexical(keys, offset, y, lexicalFit)
	fmt.Printf("span model: %d candidate spans\n", len(x))
	return &answerability.Models{Span: m, SpanWords: words}, nil
}

// goldSentence is the first sentence of the item's paragraph that holds
// an answer.
func goldSentence(it evaluate.QAItem, docs map[string]evaluate.CorpusDoc) (string, bool) {
	if !it.ShouldAnswer() || len(it.GoldDocIDs) == 0 {
		return "", false
	}
	for _, s := range answer.Sentences(docs[it.GoldDocIDs[0]].Text) {
		if evaluate.Contains(s, it.Answers) == 1 {
			return s, true
		}
	}
	return "", false
}

// spanReport prints how well the span model finds the answer in the
// sentence that holds it, on the held-out half.
func spanReport(held []evaluate.QAItem, docs map[string]evaluate.CorpusDoc, m *answerability.Models) {
	var n, em, f1, oracle float64
	judge := answerability.NewJudge(m)
	for _, it := range held {
		s, ok := goldSentence(it, docs)
		if !ok {
			continue
		}
		q := answerability.Analyze(it.Question)
		best := judge.ShortAnswer(&q, s)
		n++
		em += evaluate.ExactMatch(best.Text, it.Answers)
		f1 += evaluate.TokenF1(best.Text, it.Answers)
		top := 0.0
		_, texts := answerability.SpanRows(&q, s)
		for _, t := range texts {
			top = max(top, evaluate.TokenF1(t, it.Answers))
		}
		oracle += top
	}
	fmt.Printf("held-out spans in the gold sentence: %d, EM %.4f, F1 %.4f (best candidate: F1 %.4f)\n", int(n), em/n, f1/n, oracle/n)
}
