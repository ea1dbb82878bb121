package evaluate

import (
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
