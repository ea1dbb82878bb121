package evaluate

import (
	"bytes"
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

func TestRank(t *testing.T) {
	cells := []CellResult{
		{Label: "slow", Metrics: map[string]float64{"ndcg@10": 0.5, "recall@100": 0.9}, Latency: Latency{P50: 9}},
		{Label: "best", Metrics: map[string]float64{"ndcg@10": 0.6, "recall@100": 0.8}, Latency: Latency{P50: 5},
			PerQuery: map[string]QueryScores{"q1": {"ndcg@10": 1}, "q2": {"ndcg@10": 0.2}}},
		{Label: "second", Metrics: map[string]float64{"ndcg@10": 0.55, "recall@100": 0.95}, Latency: Latency{P50: 1},
			PerQuery: map[string]QueryScores{"q1": {"ndcg@10": 0.5}, "q2": {"ndcg@10": 0.4}}},
	}
	c := Rank(cells, "ndcg@10", "recall@100")
	if c.Winner != "best" || c.Cells[1].Label != "second" || !strings.Contains(c.Reason, "0.0500 ahead of second") {
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
