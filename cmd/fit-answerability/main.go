// Command fit-answerability fits the built-in answerer's answerability
// and short-answer models from SQuAD v1.1 and writes their weights, with
// the test sets it made, so that anyone can reproduce them:
//
//	make fit-answerability
//
// Questions are split by article: even-numbered articles train, odd ones
// are held out, and every figure printed for the held-out half comes from
// articles the models never saw. Unanswerable questions are made as
// evaluate.MakeUnanswerable describes (gold sentence removed, name or
// number swapped). The span model learns, on the sentences that hold the
// answer, which span it is (target: token F1 with the gold answer). The
// sentence model learns, on the sentences the answerer retrieves for
// every question, which hold the answer. The threshold maximises balanced
// accuracy (the mean of the answered share of answerable questions and
// the declined share of unanswerable ones) on the training half — unlike
// plain accuracy it does not depend on how many unanswerable questions a
// set happens to hold — among the thresholds that still answer 85% of the
// answerable questions.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragtune/ragtune/internal/evaluate"
)

type options struct {
	squad, out, sets, slice, sliceOut string
	seed                              uint64
	spansOnly, setsOnly               bool
}

func main() {
	var o options
	flag.StringVar(&o.squad, "squad", "../shared/datasets/squad-v1.1-dev", "SQuAD v1.1 in BEIR layout with qa.jsonl")
	flag.StringVar(&o.out, "out", "internal/answerability/weights.json", "where the weights go")
	flag.StringVar(&o.sets, "sets", "", "also write the train and held-out test sets under this directory")
	flag.StringVar(&o.slice, "slice", "a01,a03", "held-out articles for the small CI test set")
	flag.StringVar(&o.sliceOut, "slice-out", "", "write the small CI test set here")
	flag.Uint64Var(&o.seed, "seed", 1, "seed for the synthetic questions")
	flag.BoolVar(&o.spansOnly, "spans-only", false, "fit and report the span models only; write nothing")
	flag.BoolVar(&o.setsOnly, "sets-only", false, "write the test sets (-sets, -slice-out) and fit nothing")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "fit-answerability:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	ds, err := evaluate.LoadBEIR(o.squad, "test")
	if err != nil {
		return err
	}
	items, err := evaluate.LoadQA(filepath.Join(o.squad, "qa.jsonl"))
	if err != nil {
		return err
	}
	u := evaluate.MakeUnanswerable(ds.Corpus, items, evaluate.UnanswerableOptions{Seed: o.seed, RemoveShare: 1, SwapShare: 0.5})
	split := splitByArticle(items, u.Items)
	if err := writeSets(o, u, split); err != nil || o.setsOnly {
		return err
	}
	docs := map[string]evaluate.CorpusDoc{}
	for _, d := range u.Corpus {
		docs[d.ID] = d
	}
	spanModels, err := fitSpans(split.train, docs)
	if err != nil {
		return err
	}
	spanReport(split.held, docs, spanModels)
	if o.spansOnly {
		return nil
	}
	rows, err := judgeAll(ctx, u, split, spanModels)
	if err != nil {
		return err
	}
	m, err := fitSentences(rows, split, spanModels, o.seed)
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	reportSentences(rows, split, m)
	printWeights("span", spanModels.Span)
	fmt.Printf("span word features: %d weights\n", len(spanModels.SpanWords.Weights))
	printWeights("sentence", m.Sentence)
	return nil
}
