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
// the declined share of unanswerable ones) on the training half: unlike
// plain accuracy it does not depend on how many unanswerable questions a
// set happens to hold.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/retrieve"
)

type options struct {
	squad, out, sets, slice, sliceOut string
	seed                              uint64
	spansOnly                         bool
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
	if err := writeSets(o, u, split); err != nil {
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
		return fmt.Errorf("fitting the sentence model: %w", err)
	}
	score := func(r judgedRow) float64 {
		best := 0.0
		for _, f := range r.features {
			best = max(best, sentModel.Prob(f))
		}
		return best
	}
	train, held := scored(rows, split.isTrain, score, true), scored(rows, split.isTrain, score, false)
	threshold := bestBalanced(train)
	m := &answerability.Models{Span: spanModels.Span, SpanWords: spanModels.SpanWords, Sentence: sentModel, Threshold: threshold,
		Objective: "maximum balanced accuracy (mean of answered-when-answerable and declined-when-unanswerable) on the training half",
		Data: fmt.Sprintf("SQuAD v1.1 dev, even-numbered articles, with synthetic unanswerables (seed %d), each question answered against the whole corpus and against a two-article one: %d judgements, %d sentence rows",
			o.seed, len(train), len(x))}
	raw, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	report("train", train, threshold)
	report("held-out", held, threshold)
	for _, setting := range []string{"full", "small"} {
		only := slices.DeleteFunc(slices.Clone(held), func(it scoredItem) bool { return it.setting != setting })
		report("held-out, "+setting+" corpora", only, threshold)
		operatingPoints(only)
	}
	printWeights("span", spanModels.Span)
	fmt.Printf("span word features: %d weights\n", len(spanModels.SpanWords.Weights))
	printWeights("sentence", sentModel)
	return nil
}

type split struct {
	train, held []evaluate.QAItem
	isTrain     map[string]bool
	doc         map[string]string // an original item's gold document
}

// splitByArticle puts every item (and every item derived from it) with
// its gold article's parity.
func splitByArticle(orig, items []evaluate.QAItem) split {
	s := split{isTrain: map[string]bool{}, doc: map[string]string{}}
	article := map[string]int{}
	for _, it := range orig {
		if len(it.GoldDocIDs) > 0 {
			article[it.ID] = articleNumber(it.GoldDocIDs[0])
			s.doc[it.ID] = it.GoldDocIDs[0]
		}
	}
	for _, it := range items {
		id := it.ID
		if it.Origin != "" {
			id = it.Origin
		}
		if article[id]%2 == 0 {
			s.train = append(s.train, it)
			s.isTrain[it.ID] = true
		} else {
			s.held = append(s.held, it)
		}
	}
	return s
}

func articleNumber(docID string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(docID, "p", 2)[0], "a"))
	return n
}

func writeSets(o options, u evaluate.Unanswerable, s split) error {
	if o.sets != "" {
		for name, items := range map[string][]evaluate.QAItem{"train": s.train, "heldout": s.held} {
			if err := evaluate.WriteUnanswerable(filepath.Join(o.sets, name), evaluate.Unanswerable{Corpus: u.Corpus, Items: items}); err != nil {
				return err
			}
		}
	}
	if o.sliceOut == "" {
		return nil
	}
	want := strings.Split(o.slice, ",")
	var small evaluate.Unanswerable
	for _, d := range u.Corpus {
		if slices.Contains(want, strings.SplitN(d.ID, "p", 2)[0]) {
			small.Corpus = append(small.Corpus, d)
		}
	}
	in := map[string]bool{}
	for _, d := range small.Corpus {
		in[d.ID] = true
	}
	for _, it := range s.held {
		id := it.ID
		if it.Origin != "" {
			id = it.Origin
		}
		if in[s.doc[id]] {
			small.Items = append(small.Items, it)
		}
	}
	return evaluate.WriteUnanswerable(o.sliceOut, small)
}

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

type scoredItem struct {
	score      float64
	answerable bool
	kind       string
	setting    string
}

func scored(rows []judgedRow, isTrain map[string]bool, score func(judgedRow) float64, train bool) []scoredItem {
	var out []scoredItem
	for _, r := range rows {
		if isTrain[r.item.ID] == train {
			out = append(out, scoredItem{score: score(r), answerable: r.item.ShouldAnswer(), kind: r.item.Kind, setting: r.setting})
		}
	}
	return out
}

// bestBalanced is the threshold with the highest balanced accuracy.
func bestBalanced(items []scoredItem) float64 {
	sorted := append([]scoredItem(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].score < sorted[j].score })
	best, bestT := -1.0, 0.5
	for i := range sorted {
		t := sorted[i].score
		if b := balanced(items, t); b > best {
			best, bestT = b, t
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

// auc is the ROC area of score for telling answerable from unanswerable.
func auc(items []scoredItem) float64 {
	var pos, neg []float64
	for _, it := range items {
		if it.answerable {
			pos = append(pos, it.score)
		} else {
			neg = append(neg, it.score)
		}
	}
	sort.Float64s(neg)
	var sum float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(neg, p)
		hi := sort.Search(len(neg), func(i int) bool { return neg[i] > p })
		sum += float64(lo) + 0.5*float64(hi-lo)
	}
	return sum / float64(max(1, len(pos)*len(neg)))
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
