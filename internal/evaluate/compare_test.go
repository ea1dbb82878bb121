package evaluate

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeGrid(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "grid.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGridCells(t *testing.T) {
	g, err := LoadGrid(writeGrid(t, `dataset = "beir"
[grid]
"chunk.size" = [128, 256]
"retrieve.k" = [3, 4, 5]
`))
	if err != nil {
		t.Fatal(err)
	}
	cells := g.Cells()
	if len(cells) != 6 || cells[0].Label() != "chunk.size=128 retrieve.k=3" || cells[5].Label() != "chunk.size=256 retrieve.k=5" {
		t.Fatalf("cells = %v", cells)
	}
	if !filepath.IsAbs(g.Dataset) || g.Primary != "ndcg@10" || g.Kind() != "retrieval" {
		t.Errorf("grid = %+v", g)
	}
}

func TestGridErrors(t *testing.T) {
	for body, want := range map[string]string{
		`[grid]` + "\n" + `"a.b" = [1]`:                         "exactly one of dataset",
		`dataset = "x"`:                                         "lists no settings",
		`dataset = "x"` + "\n[grid]\n" + `"a.b" = []`:           "has no values",
		`dataset = "x"` + "\nfoo = 1\n[grid]\n" + `"a.b" = [1]`: "unknown key",
	} {
		if _, err := LoadGrid(writeGrid(t, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("grid %q: error %v, want %q", body, err, want)
		}
	}
}

// scores makes per-query ndcg@10 scores q0, q1, ... from values.
func scores(values ...float64) map[string]QueryScores {
	per := map[string]QueryScores{}
	for i, v := range values {
		per[fmt.Sprintf("q%02d", i)] = QueryScores{"ndcg@10": v}
	}
	return per
}

// cell is a grid cell whose ndcg@10 is the mean of its per-query scores.
func cell(label string, p50 float64, values ...float64) CellResult {
	var sum float64
	for _, v := range values {
		sum += v
	}
	return CellResult{Label: label, Latency: Latency{P50: p50}, PerQuery: scores(values...),
		Metrics: map[string]float64{"ndcg@10": sum / float64(max(1, len(values)))}}
}

// shifted is base with each query moved by delta(i).
func shifted(base []float64, delta func(i int) float64) []float64 {
	out := make([]float64, len(base))
	for i, v := range base {
		out[i] = v + delta(i)
	}
	return out
}

func TestRank(t *testing.T) {
	base := make([]float64, 40)
	for i := range base {
		base[i] = 0.3 + float64(i%5)/10
	}
	// Half the queries up 0.3, half down 0.29: a lead of 0.005 in the mean
	// that the query-to-query noise swamps.
	noisy := shifted(base, func(i int) float64 { return map[bool]float64{true: 0.3, false: -0.29}[i%2 == 0] })
	better := shifted(base, func(int) float64 { return 0.05 })
	for _, tc := range []struct {
		name        string
		cells       []CellResult
		winner      string
		significant bool
		tie         bool
		tiedWith    []string
		worse       map[string]bool // label -> significantly worse than the best
		reason      []string
	}{
		{"tiny lead is a tie", []CellResult{cell("slow", 9, noisy...), cell("fast", 2, base...)}, "slow", false, true, []string{"fast"},
			map[string]bool{"fast": false}, []string{"tie: slow leads fast by 0.0050 ndcg@10", "40 queries", "not significant at 0.05", "fastest of the 2 tied is fast (p50 2.0 ms)"}},
		{"lead on every query is significant", []CellResult{cell("a", 5, base...), cell("b", 5, better...)}, "b", true, false, []string{},
			map[string]bool{"a": true}, []string{"highest ndcg@10", "0.0500 ahead of a", "p < 0.001", "significant at 0.05"}},
		{"holm over three cells", []CellResult{cell("far", 1, shifted(base, func(int) float64 { return -0.2 })...), cell("best", 5, better...), cell("close", 3, noisy...)},
			"best", false, true, []string{"close"}, map[string]bool{"far": true, "close": false},
			[]string{"tie: best leads close", "Holm-adjusted over 2 comparisons", "fastest of the 2 tied is close"}},
		{"one query cannot be significant", []CellResult{cell("a", 1, 0.2), cell("b", 1, 0.9)}, "b", false, true, []string{"a"},
			map[string]bool{"a": false}, []string{"tie: b leads a by 0.7000", "1 queries"}},
		{"no per-query scores", []CellResult{{Label: "x", Metrics: map[string]float64{"ndcg@10": 0.4}}, {Label: "y", Metrics: map[string]float64{"ndcg@10": 0.5}}},
			"y", false, false, []string{}, map[string]bool{"x": false}, []string{"highest ndcg@10: 0.5000", "cannot be tested"}},
		{"equal means tie on the metric", []CellResult{cell("b", 3, base...), cell("a", 3, base...)}, "a", false, true, []string{"b"},
			map[string]bool{"b": false}, []string{"tie: tied on ndcg@10 (0.5000); faster", "p = 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Rank(tc.cells, "ndcg@10", "")
			if c.Winner != tc.winner || c.Significant != tc.significant || c.Tie != tc.tie || fmt.Sprint(c.TiedWith) != fmt.Sprint(tc.tiedWith) {
				t.Fatalf("winner %s significant %v tie %v tied with %v; reason %s", c.Winner, c.Significant, c.Tie, c.TiedWith, c.Reason)
			}
			for _, want := range tc.reason {
				if !strings.Contains(c.Reason, want) {
					t.Errorf("reason %q lacks %q", c.Reason, want)
				}
			}
			if c.HeadToHead.Test != *c.Cells[1].VsBest {
				t.Errorf("head to head %+v is not the runner-up's test %+v", c.HeadToHead.Test, *c.Cells[1].VsBest)
			}
			if c.Cells[0].VsBest != nil || c.Cells[0].PValueVsBest != nil {
				t.Errorf("the best is not tested against itself: %+v", c.Cells[0])
			}
			for _, cl := range c.Cells[1:] {
				if worse, ok := tc.worse[cl.Label]; !ok || cl.SignificantlyWorse != worse {
					t.Errorf("%s: significantly worse %v, want %v", cl.Label, cl.SignificantlyWorse, worse)
				}
				if (cl.PValueVsBest != nil) != (cl.VsBest.N > 0) {
					t.Errorf("%s: p-value %v for %d queries", cl.Label, cl.PValueVsBest, cl.VsBest.N)
				}
			}
			for _, cl := range c.Cells {
				iv, ok := cl.CI["ndcg@10"]
				if ok != (len(cl.PerQuery) > 0) || ok && (iv.Lo > cl.Metrics["ndcg@10"]+1e-9 || iv.Hi < cl.Metrics["ndcg@10"]-1e-9) {
					t.Errorf("%s: interval %+v (present %v) around %.4f", cl.Label, iv, ok, cl.Metrics["ndcg@10"])
				}
			}
		})
	}
}

func TestRankTieBreakAndHeadToHead(t *testing.T) {
	cells := []CellResult{
		{Label: "slow", Metrics: map[string]float64{"ndcg@10": 0.5, "recall@100": 0.9}, Latency: Latency{P50: 9}},
		{Label: "best", Metrics: map[string]float64{"ndcg@10": 0.6, "recall@100": 0.8}, Latency: Latency{P50: 5},
			PerQuery: map[string]QueryScores{"q1": {"ndcg@10": 1}, "q2": {"ndcg@10": 0.2}}},
		{Label: "second", Metrics: map[string]float64{"ndcg@10": 0.55, "recall@100": 0.95}, Latency: Latency{P50: 1},
			PerQuery: map[string]QueryScores{"q1": {"ndcg@10": 0.5}, "q2": {"ndcg@10": 0.4}}},
	}
	c := Rank(cells, "ndcg@10", "recall@100")
	if c.Winner != "best" || c.Cells[1].Label != "second" || !c.Tie || !strings.Contains(c.Reason, "best leads second by 0.0500") {
		t.Fatalf("rank = %+v", c)
	}
	if h := c.HeadToHead; len(h.Improved) != 1 || h.Improved[0].Query != "q1" || len(h.Worsened) != 1 {
		t.Errorf("head to head = %+v", h)
	}
	tied := Rank([]CellResult{
		{Label: "a", Metrics: map[string]float64{"ndcg@10": 0.5, "recall@100": 0.8}},
		{Label: "b", Metrics: map[string]float64{"ndcg@10": 0.5, "recall@100": 0.9}},
	}, "ndcg@10", "recall@100")
	if tied.Winner != "b" || !strings.Contains(tied.Reason, "tied on ndcg@10") {
		t.Errorf("tie-break: %+v", tied)
	}
}

// TestCompareOutputsShowSignificance: the text, Markdown and HTML
// comparisons show intervals, the p-value against the best, and the tie.
func TestCompareOutputsShowSignificance(t *testing.T) {
	base := make([]float64, 30)
	for i := range base {
		base[i] = float64(i%4) / 4
	}
	near := shifted(base, func(i int) float64 { return map[bool]float64{true: 0.25, false: -0.24}[i%2 == 0] })
	cmp := Rank([]CellResult{cell("k=3", 2, base...), cell("k=5", 4, near...), cell("k=1", 1, shifted(near, func(int) float64 { return -0.1 })...)}, "ndcg@10", "")
	var text, md, page bytes.Buffer
	cmp.WriteText(&text, "")
	if err := WriteCompareMarkdown(&md, "t", cmp); err != nil {
		t.Fatal(err)
	}
	if err := WriteCompareHTML(&page, "t", cmp); err != nil {
		t.Fatal(err)
	}
	best, tied, worse := cmp.Cells[0], cmp.Cells[1], cmp.Cells[2]
	if best.Label != "k=5" || tied.Label != "k=3" || worse.Label != "k=1" || !worse.SignificantlyWorse || tied.SignificantlyWorse {
		t.Fatalf("ranking %s %s %+v %+v", best.Label, tied.Label, *tied.VsBest, *worse.VsBest)
	}
	ci := func(c CellResult) string {
		iv := c.CI["ndcg@10"]
		return fmt.Sprintf("%.4f [%.2f, %.2f]", c.Metrics["ndcg@10"], iv.Lo, iv.Hi)
	}
	pTied := fmt.Sprintf("p = %.3g (tie)", *tied.PValueVsBest)
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String(), "html": html.UnescapeString(page.String())} {
		for _, want := range []string{ci(best), ci(tied), ci(worse), pTied, "p < 0.001", "a tie with k=3: not significantly better at 0.05"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
	}
	if !strings.Contains(md.String(), "| ndcg@10 [95% CI] |") || !strings.Contains(md.String(), "| vs best |") {
		t.Errorf("markdown headings:\n%s", md.String())
	}
	if n := strings.Count(page.String(), `class="err"`); n != 3 {
		t.Errorf("the chart has %d error bars, want one per configuration", n)
	}
}

func TestRunReports(t *testing.T) {
	ds := &Dataset{Name: "d", Queries: []Query{{"q1", "first query"}, {"q2", "second | query"}},
		Qrels: Qrels{"q1": {"a": 1}, "q2": {"b": 2}}}
	run := Run{"q1": {{"a", 2}, {"x", 1}}, "q2": {{"y", 3}, {"b", 1}}}
	means, per := Evaluate(run, ds.Qrels, DefaultMetrics)
	res := &RetrievalResult{Metrics: means, PerQuery: per, Run: run, Latencies: map[string]float64{"q1": 1, "q2": 3}}
	rep := RetrievalReport("T", ds, res)
	if len(rep.Rows) != 2 || rep.Rows[0].Sources[0] != "a ✓" || len(rep.Curve) != len(curveKs) || rep.Curve[0] != 0.5 {
		t.Fatalf("report = %+v", rep)
	}
	var md, html strings.Builder
	if err := WriteRunMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteRunHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	// Worst query first, table pipes escaped, charts inline.
	if i, j := strings.Index(md.String(), "second"), strings.Index(md.String(), "first query"); i < 0 || j < 0 || i > j || !strings.Contains(md.String(), `second \| query`) {
		t.Errorf("markdown:\n%s", md.String())
	}
	if n := strings.Count(html.String(), "<svg"); n != 3 || !strings.Contains(html.String(), "<polyline") {
		t.Errorf("html has %d charts", n)
	}
}

// TestReportsShowWhatTheyPromise: the compare report names its wins and
// losses sections and shows query texts; the QA report scores a rightly
// declined unanswerable question 1 (SQuAD 2.0's convention), so it does
// not rank as weakest; token and cost figures stay off the 0–1 chart.
func TestReportsShowWhatTheyPromise(t *testing.T) {
	h := &Diff{QueryMetric: "ndcg@10", Improved: []Flip{{Query: "q1", A: 0.2, B: 0.9}}, Worsened: []Flip{{Query: "q2", A: 0.8, B: 0.1}}}
	WithTexts(h.Improved, map[string]string{"q1": "what causes scurvy"})
	cmp := Comparison{Primary: "ndcg@10", Winner: "a", Reason: "r", HeadToHead: h,
		Cells: []CellResult{{Label: "a", Metrics: map[string]float64{"ndcg@10": 0.7}}, {Label: "b", Metrics: map[string]float64{"ndcg@10": 0.6}}}}
	var html, md bytes.Buffer
	if err := WriteCompareHTML(&html, "t", cmp); err != nil {
		t.Fatal(err)
	}
	if err := WriteCompareMarkdown(&md, "t", cmp); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"html": html.String(), "md": md.String()} {
		for _, want := range []string{"Largest wins", "Largest losses", "what causes scurvy (q1)", "q2"} {
			if !strings.Contains(out, want) {
				t.Errorf("compare %s lacks %q", name, want)
			}
		}
	}
	res := &QAResult{PerItem: []ItemResult{
		{ID: "declined-right", Question: "unanswerable", Answerable: false, Abstained: true},
		{ID: "answered-wrong", Question: "answerable", Answerable: true, Contains: 0},
		{ID: "answered-unanswerable", Question: "trap", Answerable: false},
	}}
	r := QAReport("qa", res, map[string]float64{"contains": 0.5, "cost_usd": 0.0004, "tokens_out": 0.5})
	rows := worstFirst(r.Rows)
	if rows[len(rows)-1].ID != "declined-right" || rows[len(rows)-1].Scores[0] != 1 {
		t.Errorf("a rightly declined question must score 1 and rank last: %+v", rows)
	}
	var run bytes.Buffer
	if err := WriteRunHTML(&run, r); err != nil {
		t.Fatal(err)
	}
	chart := run.String()[:strings.Index(run.String(), "Per query")]
	if strings.Contains(chart, "cost_usd") || strings.Contains(chart, "tokens_out") || !strings.Contains(chart, "contains") {
		t.Errorf("the metric chart must show scores only")
	}
}
