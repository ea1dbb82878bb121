// Package evaluate measures retrieval and answers against labelled data:
// BEIR directories (corpus, queries, graded qrels) and QA JSONL files.
// Retrieval metrics follow trec_eval's conventions so numbers can be
// compared with published ones and re-checked with standard tools.
package evaluate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Qrels maps query ID → document ID → graded relevance (≥1 relevant).
type Qrels map[string]map[string]int

// Scored is one retrieved document.
type Scored struct {
	DocID string
	Score float64
}

// Run maps query ID → retrieved documents, in any order; Sort puts them
// in trec_eval's order.
type Run map[string][]Scored

// Sort orders every ranking as trec_eval does: score descending, ties
// broken by document ID descending.
func (r Run) Sort() {
	for _, docs := range r {
		sort.SliceStable(docs, func(i, j int) bool {
			if docs[i].Score != docs[j].Score {
				return docs[i].Score > docs[j].Score
			}
			return docs[i].DocID > docs[j].DocID
		})
	}
}

// Metric names a measure at a cutoff, as in "ndcg@10".
type Metric struct {
	Name string // ndcg, recall, p, mrr, map
	K    int
}

func (m Metric) String() string { return m.Name + "@" + strconv.Itoa(m.K) }

// ParseMetric reads "ndcg@10", "recall@100", "mrr@10", "map@100", "p@5".
func ParseMetric(s string) (Metric, error) {
	name, k, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
	n, err := strconv.Atoi(k)
	if !ok || err != nil || n < 1 {
		return Metric{}, fmt.Errorf("metric %q: want NAME@K, e.g. ndcg@10", s)
	}
	switch name {
	case "ndcg", "recall", "p", "mrr", "map":
		return Metric{name, n}, nil
	}
	return Metric{}, fmt.Errorf("metric %q: unknown measure %q (ndcg, recall, p, mrr, map)", s, name)
}

// DefaultMetrics are reported by every retrieval eval.
var DefaultMetrics = []Metric{{"ndcg", 10}, {"recall", 10}, {"recall", 100}, {"mrr", 10}, {"map", 100}, {"p", 10}}

// Score computes m for one query's ranking (already sorted) against its
// judgements. Documents missing from rel, or judged below 1, are not
// relevant; nDCG uses the judged grade as gain.
func Score(m Metric, ranked []Scored, rel map[string]int) float64 {
	top := ranked[:min(m.K, len(ranked))]
	numRel := 0
	for _, g := range rel {
		if g > 0 {
			numRel++
		}
	}
	if numRel == 0 {
		return 0
	}
	switch m.Name {
	case "ndcg":
		return ndcg(top, rel, m.K)
	case "recall":
		return float64(countRel(top, rel)) / float64(numRel)
	case "p":
		return float64(countRel(top, rel)) / float64(m.K)
	case "mrr":
		for i, d := range top {
			if rel[d.DocID] > 0 {
				return 1 / float64(i+1)
			}
		}
		return 0
	case "map":
		var sum float64
		found := 0
		for i, d := range top {
			if rel[d.DocID] > 0 {
				found++
				sum += float64(found) / float64(i+1)
			}
		}
		return sum / float64(numRel)
	}
	return 0
}

func countRel(top []Scored, rel map[string]int) int {
	n := 0
	for _, d := range top {
		if rel[d.DocID] > 0 {
			n++
		}
	}
	return n
}

func ndcg(top []Scored, rel map[string]int, k int) float64 {
	var dcg float64
	for i, d := range top {
		if g := rel[d.DocID]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	var gains []int
	for _, g := range rel {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	var ideal float64
	for i, g := range gains[:min(k, len(gains))] {
		ideal += float64(g) / math.Log2(float64(i+2))
	}
	return dcg / ideal
}

// QueryScores holds one query's value for each metric.
type QueryScores map[string]float64

// Evaluate scores run against qrels for each metric. Queries without a
// relevant judgement are skipped; judged queries missing from the run
// score 0 (trec_eval -c), so a system cannot gain by not answering.
func Evaluate(run Run, qrels Qrels, metrics []Metric) (map[string]float64, map[string]QueryScores) {
	run.Sort()
	perQuery := map[string]QueryScores{}
	means := map[string]float64{}
	for qid, rel := range qrels {
		if !hasRelevant(rel) {
			continue
		}
		qs := QueryScores{}
		for _, m := range metrics {
			v := Score(m, run[qid], rel)
			qs[m.String()] = v
			means[m.String()] += v
		}
		perQuery[qid] = qs
	}
	for k := range means {
		means[k] /= float64(len(perQuery))
	}
	return means, perQuery
}

func hasRelevant(rel map[string]int) bool {
	for _, g := range rel {
		if g > 0 {
			return true
		}
	}
	return false
}
