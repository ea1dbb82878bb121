package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/retrieve"
)

type judgedRow struct {
	item     evaluate.QAItem
	setting  string // "full" or "small": the corpus it was answered against
	features [][]float64
	labels   []float64
}

// judgeAll retrieves for every question as `ragtune eval run` does and
// lists the features of the sentences the answerer would judge: once
// against the whole corpus (2,067 paragraphs), and once against a small
// corpus of its own article and one other of the same half (about 140
// paragraphs), so that the models learn what retrieval looks like in a
// small collection as well as in a large one.
func judgeAll(ctx context.Context, u evaluate.Unanswerable, s split, spans *answerability.Models) ([]judgedRow, error) {
	cfg := config.Default()
	env := project.Env{Getenv: os.Getenv, Log: slog.New(slog.DiscardHandler)}
	p, err := project.OpenForEval(ctx, cfg, env)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	out, err := judgeOn(ctx, p, cfg, "full", u, spans)
	if err != nil {
		return nil, err
	}
	for _, group := range smallCorpora(u, s) {
		rows, err := judgeOn(ctx, p, cfg, "small", group, spans)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// smallCorpora pairs the articles of each half (0 with 2, 4 with 6, …;
// 1 with 3, …), each pair a corpus with the items asked about it.
func smallCorpora(u evaluate.Unanswerable, s split) []evaluate.Unanswerable {
	group := func(docID string) int {
		n := articleNumber(docID)
		return n/4*2 + n%2 // 0,2 → 0; 1,3 → 1; 4,6 → 2; …
	}
	byGroup := map[int]*evaluate.Unanswerable{}
	var order []int
	at := func(g int) *evaluate.Unanswerable {
		if byGroup[g] == nil {
			byGroup[g] = &evaluate.Unanswerable{}
			order = append(order, g)
		}
		return byGroup[g]
	}
	for _, d := range u.Corpus {
		c := at(group(d.ID))
		c.Corpus = append(c.Corpus, d)
	}
	for _, it := range u.Items {
		id := it.ID
		if it.Origin != "" {
			id = it.Origin
		}
		if doc, ok := s.doc[id]; ok {
			c := at(group(doc))
			c.Items = append(c.Items, it)
		}
	}
	slices.Sort(order)
	out := make([]evaluate.Unanswerable, 0, len(order))
	for _, g := range order {
		out = append(out, *byGroup[g])
	}
	return out
}

// judgeOn indexes u's corpus in a scratch store and judges its items.
func judgeOn(ctx context.Context, p *project.Project, cfg config.Config, setting string, u evaluate.Unanswerable, spans *answerability.Models) ([]judgedRow, error) {
	raw, _ := json.Marshal(u.Corpus)
	sum := sha256.Sum256(raw)
	ds := &evaluate.Dataset{Name: "squad-unanswerable", Corpus: u.Corpus, Hash: hex.EncodeToString(sum[:])}
	mode, err := cfg.Retrieve.ModeValue()
	if err != nil {
		return nil, err
	}
	s, err := p.OpenScratch(ctx, project.ScratchRequest{Dataset: ds, Mode: mode})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r, err := s.Retriever(ctx, mode)
	if err != nil {
		return nil, err
	}
	c, err := s.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	stats, ok := c.(answer.TermStatser)
	if !ok {
		return nil, fmt.Errorf("the corpus cannot count terms")
	}
	blank := &answerability.Logistic{Features: answerability.SentenceFeatures, Mean: make([]float64, len(answerability.SentenceFeatures)),
		Std: ones(len(answerability.SentenceFeatures)), Weights: make([]float64, len(answerability.SentenceFeatures))}
	ex := answer.NewExtractiveWith(stats, answer.DefaultThresholds(), answerability.NewJudge(&answerability.Models{Span: spans.Span, SpanWords: spans.SpanWords, Sentence: blank}))
	var out []judgedRow
	for _, it := range u.Items {
		hits, err := r.Search(ctx, retrieve.Query{Text: it.Question, K: cfg.Retrieve.K, Mode: mode})
		if err != nil {
			return nil, err
		}
		j, err := ex.Judge(ctx, answer.Request{Question: it.Question, Hits: hits})
		if err != nil {
			return nil, err
		}
		row := judgedRow{item: it, setting: setting}
		for i, v := range j.Verdicts {
			label := 0.0
			if it.ShouldAnswer() {
				label = evaluate.Contains(j.Input.Sentences[i].Text, it.Answers)
			}
			row.features, row.labels = append(row.features, v.Features), append(row.labels, label)
		}
		out = append(out, row)
	}
	return out, nil
}

func ones(n int) []float64 {
	o := make([]float64, n)
	for i := range o {
		o[i] = 1
	}
	return o
}
