package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// fitSentences fits the sentence model on the training half's rows and
// chooses the threshold, completing the span models into the shipped set.
func fitSentences(rows []judgedRow, split split, spans *answerability.Models, seed uint64) (*answerability.Models, error) {
	var x [][]float64
	var y []float64
	for _, r := range rows {
		if split.isTrain[r.item.ID] {
			for i, f := range r.features {
				x, y = append(x, f), append(y, r.labels[i])
			}
		}
	}
	sentModel, err := answerability.Fit(answerability.SentenceFeatures, x, y, answerability.FitOptions{L2: 1e-4})
	if err != nil {
		return nil, fmt.Errorf("fitting the sentence model: %w", err)
	}
	m := &answerability.Models{Span: spans.Span, SpanWords: spans.SpanWords, Sentence: sentModel}
	train := scored(rows, split.isTrain, m, true)
	m.Threshold = math.Round(bestBalanced(train)*1000) / 1000 // three places are all it can mean
	m.Objective = fmt.Sprintf("maximum balanced accuracy (mean of answered-when-answerable and declined-when-unanswerable) on the training half, among thresholds that answer at least %.0f%% of its answerable questions", 100*minAnswered)
	m.Data = fmt.Sprintf("SQuAD v1.1 dev, even-numbered articles, with synthetic unanswerables (seed %d), each question answered against the whole corpus and against a two-article one: %d judgements, %d sentence rows",
		seed, len(train), len(x))
	return m, nil
}

// reportSentences prints how the models decide on each half.
func reportSentences(rows []judgedRow, split split, m *answerability.Models) {
	report("train", scored(rows, split.isTrain, m, true), m.Threshold)
	held := scored(rows, split.isTrain, m, false)
	report("held-out", held, m.Threshold)
	for _, setting := range []string{"full", "small"} {
		only := slices.DeleteFunc(slices.Clone(held), func(it scoredItem) bool { return it.setting != setting })
		report("held-out, "+setting+" corpora", only, m.Threshold)
		operatingPoints(only)
	}
}

type scoredItem struct {
	score      float64
	answerable bool
	kind       string
	setting    string
}

// scored gives each question of one half its answerability: that of its
// best sentence.
func scored(rows []judgedRow, isTrain map[string]bool, m *answerability.Models, train bool) []scoredItem {
	var out []scoredItem
	for _, r := range rows {
		if isTrain[r.item.ID] != train {
			continue
		}
		best := 0.0
		for _, f := range r.features {
			best = max(best, m.Sentence.Prob(f))
		}
		out = append(out, scoredItem{score: best, answerable: r.item.ShouldAnswer(), kind: r.item.Kind, setting: r.setting})
	}
	return out
}

// minAnswered is the share of answerable questions the threshold must
// leave answered: a refusal is a failure too, and a tool that declines a
// quarter of what it could answer is not used.
const minAnswered = 0.85

// bestBalanced is the threshold with the highest balanced accuracy among
// those that answer at least minAnswered of the answerable items.
func bestBalanced(items []scoredItem) float64 {
	var pos []float64
	for _, it := range items {
		if it.answerable {
			pos = append(pos, it.score)
		}
	}
	sort.Float64s(pos)
	// At or below this, at least minAnswered of the answerable items pass.
	ceiling := pos[int(math.Floor((1-minAnswered)*float64(len(pos))))]
	sorted := append([]scoredItem(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].score < sorted[j].score })
	best, bestT := -1.0, ceiling
	for _, it := range sorted {
		if t := it.score; t <= ceiling {
			if b := balanced(items, t); b > best {
				best, bestT = b, t
			}
		}
	}
	return bestT
}

func balanced(items []scoredItem, t float64) float64 {
	var ans, ansOK, un, unOK float64
	for _, it := range items {
		if it.answerable {
			ans++
			if it.score >= t {
				ansOK++
			}
		} else {
			un++
			if it.score < t {
				unOK++
			}
		}
	}
	return (ansOK/max(ans, 1) + unOK/max(un, 1)) / 2
}

// auc is the ROC area of score for telling answerable from unanswerable,
// as eval run reports it.
func auc(items []scoredItem) float64 {
	var pos, neg []float64
	for _, it := range items {
		if it.answerable {
			pos = append(pos, it.score)
		} else {
			neg = append(neg, it.score)
		}
	}
	return evaluate.ROCArea(pos, neg)
}

// operatingPoints prints what other thresholds would do on items: the
// trade a user makes by moving answer.min_answerability.
func operatingPoints(items []scoredItem) {
	fmt.Println("held-out operating points (threshold: answerable answered, unanswerable declined):")
	for _, t := range []float64{0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5} {
		var ans, ansOK, un, unOK float64
		for _, it := range items {
			if it.answerable {
				ans, ansOK = ans+1, ansOK+b2f(it.score >= t)
			} else {
				un, unOK = un+1, unOK+b2f(it.score < t)
			}
		}
		fmt.Printf("  %.2f: %.3f, %.3f\n", t, ansOK/ans, unOK/un)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func report(name string, items []scoredItem, t float64) {
	var ans, ansOK, correct float64
	declined := map[string][2]float64{}
	for _, it := range items {
		ok := it.answerable == (it.score >= t)
		if ok {
			correct++
		}
		if it.answerable {
			ans++
			if ok {
				ansOK++
			}
			continue
		}
		d := declined[it.kind]
		d[1]++
		if ok {
			d[0]++
		}
		declined[it.kind] = d
	}
	fmt.Printf("%s: %d questions, threshold %.3f, ROC area %.4f, answer-or-decline accuracy %.4f, balanced %.4f, answerable answered %.4f\n",
		name, len(items), t, auc(items), correct/float64(len(items)), balanced(items, t), ansOK/ans)
	for _, kind := range slices.Sorted(maps.Keys(declined)) {
		d := declined[kind]
		fmt.Printf("  %s declined %.4f (%d)\n", kind, d[0]/d[1], int(d[1]))
	}
}

func printWeights(name string, m *answerability.Logistic) {
	fmt.Printf("%s model weights (standardised):\n", name)
	for i, f := range m.Features {
		fmt.Printf("  %-24s %+.3f\n", f, m.Weights[i])
	}
}
