package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// Generate answers a question from retrieved chunks.
type Generate func(ctx context.Context, question string, hits []retrieve.Hit) (answer.Result, error)

// QAOptions configure a QA eval.
type QAOptions struct {
	Mode retrieve.Mode
	K    int   // chunks given to the answerer
	Ks   []int // cutoffs for has_answer@k and gold_doc@k
	// SupportThreshold is the share of a sentence's content words that a
	// chunk must contain to support it (faithfulness, citation precision).
	SupportThreshold float64
	Progress         func(done, total int)
	// Judge, when set, grades the answers with a chat model as well
	// (see package judge); JudgeProgress reports its progress.
	Judge         *judge.Judge
	JudgeProgress func(done, total int)
	// ClosedBook: the answers were written without the passages, so
	// there is nothing for the judge to check them against.
	ClosedBook bool
}

// AnswerMetrics are the answer-level results. Pointers are nil when the
// test set cannot measure them (no unanswerable items, no expectations).
type AnswerMetrics struct {
	EM                  float64  `json:"em"`
	F1                  float64  `json:"f1"`
	Contains            float64  `json:"contains"`
	Faithfulness        float64  `json:"faithfulness"`
	CitationPrecision   float64  `json:"citation_precision"`
	CitationRecall      float64  `json:"citation_recall"`
	AbstainRate         float64  `json:"abstain_rate"`
	AbstentionPrecision *float64 `json:"abstention_precision"`
	AbstentionRecall    *float64 `json:"abstention_recall"`
	AbstentionF1        *float64 `json:"abstention_f1"`
	BehaviourPass       *float64 `json:"behaviour_pass"`
	// With unanswerable items in the set: declining is judged on each
	// half. AbstainRate* are the declined shares of the answerable and
	// the unanswerable items; Answer* treat answering as the positive
	// class (precision: answered items that were answerable); Decision
	// is answer-or-decline accuracy; SQuAD2EM/F1 are SQuAD 2.0's overall
	// scores, where a declined unanswerable item scores 1.
	AbstainRateAnswerable   *float64 `json:"abstain_rate_answerable"`
	AbstainRateUnanswerable *float64 `json:"abstain_rate_unanswerable"`
	AnswerPrecision         *float64 `json:"answer_precision"`
	AnswerRecall            *float64 `json:"answer_recall"`
	AnswerF1                *float64 `json:"answer_f1"`
	DecisionAccuracy        *float64 `json:"answer_or_decline_accuracy"`
	SQuAD2EM                *float64 `json:"squad2_em"`
	SQuAD2F1                *float64 `json:"squad2_f1"`
	// AnswerabilityAUC is the ROC area of the generator's answerability
	// score for telling answerable from unanswerable items (a declined
	// item without a score counts as 0); nil when the generator gives no
	// score or the set has one class.
	AnswerabilityAUC *float64 `json:"answerability_auc"`
	// DeclinedByKind is the declined share of each kind of item (see
	// QAItem.Kind).
	DeclinedByKind map[string]float64 `json:"declined_by_kind,omitempty"`
	// Per request, from the generator's usage reports.
	TokensIn  float64 `json:"tokens_in"`
	TokensOut float64 `json:"tokens_out"`
	CostUSD   float64 `json:"cost_usd"`
	// Judge holds the judged figures when a judge model is configured.
	Judge *JudgeMetrics `json:"judge,omitempty"`
}

// ItemResult is one question's outcome.
type ItemResult struct {
	ID            string   `json:"id"`
	Question      string   `json:"question"`
	Answer        string   `json:"answer"`
	ShortAnswer   string   `json:"short_answer,omitempty"`
	Answerability *float64 `json:"answerability,omitempty"`
	Kind          string   `json:"kind,omitempty"`
	Answerable    bool     `json:"answerable"`
	Abstained     bool     `json:"abstained"`
	AbstainReason string   `json:"abstain_reason,omitempty"`
	EM            float64  `json:"em"`
	F1            float64  `json:"f1"`
	Contains      float64  `json:"contains"`
	// Faithfulness is the share of the answer's sentences that pass the
	// lexical support check (nil: declined, or no sentences).
	Faithfulness  *float64   `json:"faithfulness,omitempty"`
	HasAnswerRank int        `json:"has_answer_rank"` // first chunk holding a gold answer, 0 if none
	Cited         []string   `json:"cited_docs"`
	Broken        []string   `json:"behaviour_broken,omitempty"`
	LatencyMS     float64    `json:"latency_ms"`
	Judge         *ItemJudge `json:"judge,omitempty"`
}

// QAResult is the outcome of a QA eval.
type QAResult struct {
	Items     int                `json:"items"`
	Mode      retrieve.Mode      `json:"mode"`
	Retrieval map[string]float64 `json:"retrieval"`
	Answer    AnswerMetrics      `json:"answer"`
	LatencyMS Latency            `json:"latency_ms"`
	PerItem   []ItemResult       `json:"-"`
}

// EvaluateQA retrieves and answers every item and scores the answers.
func EvaluateQA(ctx context.Context, items []QAItem, s Searcher, gen Generate, opts QAOptions) (*QAResult, error) {
	if opts.K <= 0 {
		opts.K = retrieve.DefaultK
	}
	if len(opts.Ks) == 0 {
		opts.Ks = []int{1, 3, 5, 10}
	}
	if opts.SupportThreshold == 0 {
		opts.SupportThreshold = 0.8
	}
	depth := opts.K
	for _, k := range opts.Ks {
		depth = max(depth, k)
	}
	var acc qaAccumulator
	acc.init(opts.Ks)
	res := &QAResult{Mode: opts.Mode}
	var lat []float64
	var toJudge []judge.Item
	for i, item := range items {
		began := time.Now()
		hits, err := s.Search(ctx, retrieve.Query{Text: item.Question, K: depth, Mode: opts.Mode})
		if err != nil {
			return nil, fmt.Errorf("question %s: %w", item.ID, err)
		}
		ctxHits := hits[:min(opts.K, len(hits))]
		ans, err := gen(ctx, item.Question, ctxHits)
		if err != nil {
			return nil, fmt.Errorf("question %s: %w", item.ID, err)
		}
		ms := float64(time.Since(began).Microseconds()) / 1000
		lat = append(lat, ms)
		r := acc.add(item, hits, ctxHits, ans, opts)
		r.LatencyMS = ms
		res.PerItem = append(res.PerItem, r)
		if opts.Judge != nil {
			toJudge = append(toJudge, judgeItem(item, ans, ctxHits, opts.ClosedBook))
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(items))
		}
	}
	res.Items = len(items)
	res.Retrieval, res.Answer = acc.finish()
	res.LatencyMS = latency(lat)
	if opts.Judge != nil {
		if err := runJudge(ctx, res, toJudge, opts); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// qaAccumulator sums per-item figures into the averages.
type qaAccumulator struct {
	ks                                []int
	hasAnswer, goldDoc                map[int]float64
	answerable, withGold, withAnswers int
	em, f1, contains                  float64
	answered, sentences, supported    int
	citations, goodCitations          int
	goldCited, goldCitable            int
	abstained, truePos, shouldAbstain int
	behaviourItems, behaviourPass     int
	answeredAnswerable                int
	squad2EM, squad2F1                float64
	scores                            [2][]float64 // answerability of unanswerable [0] and answerable [1] items
	unscored                          bool         // an answered item came without a score
	kinds                             map[string][2]int
	tokensIn, tokensOut, cost         float64
	requests                          float64
}

func (a *qaAccumulator) init(ks []int) {
	a.ks, a.hasAnswer, a.goldDoc = ks, map[int]float64{}, map[int]float64{}
}

func (a *qaAccumulator) add(item QAItem, hits, ctxHits []retrieve.Hit, ans answer.Result, opts QAOptions) ItemResult {
	r := ItemResult{ID: item.ID, Question: item.Question, Answer: ans.Answer, ShortAnswer: ans.ShortAnswer, Answerability: ans.Answerability,
		Kind: item.Kind, Answerable: item.ShouldAnswer(), Abstained: ans.Abstained}
	a.decision(item, ans)
	if ans.AbstainReason != nil {
		r.AbstainReason = *ans.AbstainReason
	}
	if len(item.Answers) > 0 {
		a.withAnswers++
		for i, h := range hits {
			if Contains(h.Text, item.Answers) == 1 {
				r.HasAnswerRank = i + 1
				break
			}
		}
		for _, k := range a.ks {
			if r.HasAnswerRank > 0 && r.HasAnswerRank <= k {
				a.hasAnswer[k]++
			}
		}
	}
	if len(item.GoldDocIDs) > 0 {
		a.withGold++
		for _, k := range a.ks {
			if goldIn(hits[:min(k, len(hits))], item.GoldDocIDs) {
				a.goldDoc[k]++
			}
		}
	}
	a.requests++
	if u := ans.Usage; u != nil {
		a.tokensIn += float64(u.PromptTokens)
		a.tokensOut += float64(u.CompletionTokens)
		a.cost += u.CostUSD
	}
	if ans.Abstained {
		a.abstained++
		if !item.ShouldAnswer() {
			a.truePos++
		}
	}
	if !item.ShouldAnswer() {
		a.shouldAbstain++
	} else {
		a.answerable++
		if !ans.Abstained && len(item.Answers) > 0 {
			// EM and F1 score the short answer when there is one: a
			// quoted sentence is not a span.
			text := StripCitations(ans.Answer)
			short := text
			if ans.ShortAnswer != "" {
				short = ans.ShortAnswer
			}
			r.EM, r.F1, r.Contains = ExactMatch(short, item.Answers), TokenF1(short, item.Answers), Contains(text, item.Answers)
		}
		a.em, a.f1, a.contains = a.em+r.EM, a.f1+r.F1, a.contains+r.Contains
		a.squad2EM, a.squad2F1 = a.squad2EM+r.EM, a.squad2F1+r.F1
	}
	if !ans.Abstained {
		a.answered++
		a.scoreCitations(ans, ctxHits, item, &r, opts.SupportThreshold)
	}
	if item.Expect != nil {
		a.behaviourItems++
		if r.Broken = CheckBehaviour(ans.Answer, item.Expect); len(r.Broken) == 0 {
			a.behaviourPass++
		}
	}
	return r
}

// decision records whether the item was answered or declined, with the
// generator's answerability score.
func (a *qaAccumulator) decision(item QAItem, ans answer.Result) {
	class := 0
	if item.ShouldAnswer() {
		class = 1
		if !ans.Abstained {
			a.answeredAnswerable++
		}
	} else if ans.Abstained {
		a.squad2EM++
		a.squad2F1++
	}
	switch {
	case ans.Answerability != nil:
		a.scores[class] = append(a.scores[class], *ans.Answerability)
	case ans.Abstained:
		a.scores[class] = append(a.scores[class], 0)
	default:
		a.unscored = true
	}
	if item.Kind != "" {
		if a.kinds == nil {
			a.kinds = map[string][2]int{}
		}
		k := a.kinds[item.Kind]
		k[1]++
		if ans.Abstained {
			k[0]++
		}
		a.kinds[item.Kind] = k
	}
}

// ROCArea is the probability that a random positive scores above a
// random negative (ties count half).
func ROCArea(pos, neg []float64) float64 {
	sorted := slices.Sorted(slices.Values(neg))
	var sum float64
	for _, p := range pos {
		lo, _ := slices.BinarySearch(sorted, p)
		hi := lo
		for hi < len(sorted) && sorted[hi] == p {
			hi++
		}
		sum += float64(lo) + 0.5*float64(hi-lo)
	}
	return sum / float64(max(1, len(pos)*len(neg)))
}

func goldIn(hits []retrieve.Hit, gold []string) bool {
	for _, h := range hits {
		if slices.Contains(gold, h.DocPath) {
			return true
		}
	}
	return false
}

var answerSentence = regexp.MustCompile(`[^.!?]*[.!?]?(?:\s*\[\d+\])+|[^.!?]+[.!?]`)
var markerNumber = regexp.MustCompile(`\[(\d+)\]`)

// scoreCitations checks every sentence of an answer against the context
// (faithfulness) and against the chunks it cites (citation precision),
// and whether a gold document was cited (citation recall).
func (a *qaAccumulator) scoreCitations(ans answer.Result, hits []retrieve.Hit, item QAItem, r *ItemResult, threshold float64) {
	// A marker's number is the answer's, in order of first use; the
	// citation with that number names the chunk it stands for.
	cited := map[int]string{}
	for _, c := range ans.Citations {
		cited[c.N] = c.ChunkID
	}
	text := map[string]string{}
	for _, h := range hits {
		text[h.ID] = h.Text
	}
	sentences, supported := 0, 0
	for _, sent := range answerSentence.FindAllString(ans.Answer, -1) {
		sentence := StripCitations(sent)
		if len(lexical.Terms(sentence)) == 0 {
			continue
		}
		sentences++
		for _, h := range hits {
			if lexical.Support(h.Text, sentence) >= threshold {
				supported++
				break
			}
		}
		for _, m := range markerNumber.FindAllStringSubmatch(sent, -1) {
			n, _ := strconv.Atoi(m[1])
			a.citations++
			if passage, ok := text[cited[n]]; ok && lexical.Support(passage, sentence) >= threshold {
				a.goodCitations++
			}
		}
	}
	a.sentences, a.supported = a.sentences+sentences, a.supported+supported
	r.Faithfulness = optRatio(supported, sentences)
	for _, c := range ans.Citations {
		r.Cited = append(r.Cited, c.Doc)
	}
	if len(item.GoldDocIDs) > 0 && item.ShouldAnswer() {
		a.goldCitable++
		for _, d := range r.Cited {
			if slices.Contains(item.GoldDocIDs, d) {
				a.goldCited++
				break
			}
		}
	}
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func optRatio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

func (a *qaAccumulator) finish() (map[string]float64, AnswerMetrics) {
	ret := map[string]float64{}
	for _, k := range a.ks {
		if a.withAnswers > 0 {
			ret[fmt.Sprintf("has_answer@%d", k)] = a.hasAnswer[k] / float64(a.withAnswers)
		}
		if a.withGold > 0 {
			ret[fmt.Sprintf("gold_doc@%d", k)] = a.goldDoc[k] / float64(a.withGold)
		}
	}
	m := AnswerMetrics{
		EM:                a.em / float64(max(1, a.answerable)),
		F1:                a.f1 / float64(max(1, a.answerable)),
		Contains:          a.contains / float64(max(1, a.answerable)),
		Faithfulness:      ratio(a.supported, a.sentences),
		CitationPrecision: ratio(a.goodCitations, a.citations),
		CitationRecall:    ratio(a.goldCited, a.goldCitable),
		AbstainRate:       ratio(a.abstained, a.answerable+a.shouldAbstain),
		BehaviourPass:     optRatio(a.behaviourPass, a.behaviourItems),
		TokensIn:          a.tokensIn / max(1, a.requests),
		TokensOut:         a.tokensOut / max(1, a.requests),
		CostUSD:           a.cost / max(1, a.requests),
	}
	m.AbstainRateAnswerable = optRatio(a.answerable-a.answeredAnswerable, a.answerable)
	if a.shouldAbstain > 0 {
		m.AbstentionRecall = optRatio(a.truePos, a.shouldAbstain)
		p := ratio(a.truePos, a.abstained)
		m.AbstentionPrecision = &p
		f := 0.0
		if p+*m.AbstentionRecall > 0 {
			f = 2 * p * *m.AbstentionRecall / (p + *m.AbstentionRecall)
		}
		m.AbstentionF1 = &f
		a.halves(&m)
	}
	if len(a.kinds) > 0 {
		m.DeclinedByKind = map[string]float64{}
		for k, v := range a.kinds {
			m.DeclinedByKind[k] = ratio(v[0], v[1])
		}
	}
	return ret, m
}

// halves fills the figures that need both answerable and unanswerable
// items.
func (a *qaAccumulator) halves(m *AnswerMetrics) {
	total := a.answerable + a.shouldAbstain
	m.AbstainRateUnanswerable = optRatio(a.truePos, a.shouldAbstain)
	answered := total - a.abstained
	p, r := ratio(a.answeredAnswerable, answered), ratio(a.answeredAnswerable, a.answerable)
	f := 0.0
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	m.AnswerPrecision, m.AnswerRecall, m.AnswerF1 = &p, &r, &f
	m.DecisionAccuracy = optRatio(a.answeredAnswerable+a.truePos, total)
	em, f1 := a.squad2EM/float64(total), a.squad2F1/float64(total)
	m.SQuAD2EM, m.SQuAD2F1 = &em, &f1
	if !a.unscored && a.answerable > 0 {
		auc := ROCArea(a.scores[1], a.scores[0])
		m.AnswerabilityAUC = &auc
	}
}

// PerQueryScores gives each question's scores in the form history, diff
// and the significance tests use. EM, F1 and contains are scored on the
// questions that should be answered only, as their means are, so an
// unanswerable question has none; answer_or_decline_accuracy (1 for
// answering an answerable question or declining an unanswerable one) is
// there when the set holds both kinds, as its mean is.
func (r *QAResult) PerQueryScores() map[string]QueryScores {
	var answerable, unanswerable bool
	for _, it := range r.PerItem {
		answerable, unanswerable = answerable || it.Answerable, unanswerable || !it.Answerable
	}
	out := make(map[string]QueryScores, len(r.PerItem))
	for _, it := range r.PerItem {
		q := QueryScores{"abstained": flag(it.Abstained), "has_answer_rank": float64(it.HasAnswerRank)}
		if it.Answerable {
			q["contains"], q["f1"], q["em"] = it.Contains, it.F1, it.EM
		}
		if answerable && unanswerable {
			q["answer_or_decline_accuracy"] = flag(it.Answerable != it.Abstained)
		}
		q["answerable"] = flag(it.Answerable)
		if it.Judge != nil && it.Judge.Correctness != nil {
			q["judge_correctness"] = it.Judge.Correctness.Grade
		}
		out[it.ID] = q
	}
	return out
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WritePerItem writes one JSON line per question with its answer and
// scores.
func WritePerItem(w io.Writer, res *QAResult) error {
	enc := json.NewEncoder(w)
	for _, it := range res.PerItem {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return nil
}

// Flat gives every figure of the result a gate-able name.
func (r *QAResult) Flat() map[string]float64 {
	m := map[string]float64{}
	for k, v := range r.Retrieval {
		m[k] = v
	}
	a := r.Answer
	for k, v := range map[string]float64{"em": a.EM, "f1": a.F1, "contains": a.Contains, "faithfulness": a.Faithfulness,
		"citation_precision": a.CitationPrecision, "citation_recall": a.CitationRecall, "abstain_rate": a.AbstainRate,
		"tokens_in": a.TokensIn, "tokens_out": a.TokensOut, "cost_usd": a.CostUSD} {
		m[k] = v
	}
	for k, v := range a.optional() {
		if v != nil {
			m[k] = *v
		}
	}
	if a.Judge != nil {
		for k, v := range a.Judge.flat() {
			if v != nil {
				m[k] = *v
			}
		}
	}
	return m
}

// Map is the metrics by their JSON names; a figure the set cannot
// measure is nil.
func (a AnswerMetrics) Map() map[string]any {
	m := map[string]any{"em": a.EM, "f1": a.F1, "contains": a.Contains, "faithfulness": a.Faithfulness,
		"citation_precision": a.CitationPrecision, "citation_recall": a.CitationRecall, "abstain_rate": a.AbstainRate,
		"tokens_in": a.TokensIn, "tokens_out": a.TokensOut, "cost_usd": a.CostUSD}
	opt := a.optional()
	if a.Judge != nil {
		maps.Copy(opt, a.Judge.flat())
	}
	for k, v := range opt {
		m[k] = nil
		if v != nil {
			m[k] = *v
		}
	}
	return m
}

// optional are the figures a set may not be able to measure.
func (a AnswerMetrics) optional() map[string]*float64 {
	return map[string]*float64{"abstention_precision": a.AbstentionPrecision, "abstention_recall": a.AbstentionRecall,
		"abstention_f1": a.AbstentionF1, "behaviour_pass": a.BehaviourPass,
		"abstain_rate_answerable": a.AbstainRateAnswerable, "abstain_rate_unanswerable": a.AbstainRateUnanswerable,
		"answer_precision": a.AnswerPrecision, "answer_recall": a.AnswerRecall, "answer_f1": a.AnswerF1,
		"answer_or_decline_accuracy": a.DecisionAccuracy, "squad2_em": a.SQuAD2EM, "squad2_f1": a.SQuAD2F1,
		"answerability_auc": a.AnswerabilityAUC}
}
