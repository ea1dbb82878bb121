package evaluate

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Grid is a comparison plan read from a TOML file:
//
//	dataset = "../shared/datasets/scifact"   # a BEIR directory, or
//	qa = "qa.jsonl"                          # a QA set (with corpus = "dir")
//	primary = "ndcg@10"
//	tie_break = "recall@100"
//	[grid]
//	"chunk.size" = [128, 256, 512]
//	"retrieve.k" = [3, 4, 5]
type Grid struct {
	Dataset  string           `toml:"dataset"`
	QA       string           `toml:"qa"`
	Corpus   string           `toml:"corpus"`
	Split    string           `toml:"split"`
	Primary  string           `toml:"primary"`
	TieBreak string           `toml:"tie_break"`
	Limit    int              `toml:"limit"`
	Axes     map[string][]any `toml:"grid"`
}

// maxCells keeps a typo (a long list on every axis) from starting an
// evaluation that runs for days.
const maxCells = 200

// LoadGrid reads and checks a grid file; paths in it are relative to it.
func LoadGrid(path string) (*Grid, error) {
	var g Grid
	md, err := toml.DecodeFile(path, &g)
	if err != nil {
		return nil, fmt.Errorf("reading grid %s: %w", path, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, fmt.Errorf("grid %s: unknown key %q", path, u[0].String())
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&g.Dataset, &g.QA, &g.Corpus} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	if (g.Dataset == "") == (g.QA == "") {
		return nil, fmt.Errorf("grid %s: set exactly one of dataset (BEIR directory) or qa (QA JSONL file)", path)
	}
	if g.Split == "" {
		g.Split = "test"
	}
	if g.Primary == "" {
		g.Primary = PrimaryMetric(g.Kind())
	}
	for _, m := range []string{g.Primary, g.TieBreak} {
		if m != "" && !KnownMetric(g.Kind(), m) {
			return nil, fmt.Errorf("grid %s: %w %q (a %s eval reports %s)", path, ErrUnknownMetric, m, g.Kind(), strings.Join(KnownMetrics(g.Kind()), ", "))
		}
	}
	if len(g.Axes) == 0 {
		return nil, fmt.Errorf("grid %s: the [grid] table lists no settings to vary", path)
	}
	n := 1
	for k, vs := range g.Axes {
		if len(vs) == 0 {
			return nil, fmt.Errorf("grid %s: %q has no values", path, k)
		}
		n *= len(vs)
	}
	if n > maxCells {
		return nil, fmt.Errorf("grid %s has %d combinations; the limit is %d", path, n, maxCells)
	}
	return &g, nil
}

// Kind is "retrieval" or "qa".
func (g *Grid) Kind() string {
	if g.QA != "" {
		return "qa"
	}
	return "retrieval"
}

// Cell is one combination of settings, values as strings for config.Set.
type Cell map[string]string

// Label names a cell by the settings that vary, in key order.
func (c Cell) Label() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, " ")
}

// Cells expands the grid into its cross product, in a stable order.
func (g *Grid) Cells() []Cell {
	keys := make([]string, 0, len(g.Axes))
	for k := range g.Axes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cells := []Cell{{}}
	for _, k := range keys {
		var next []Cell
		for _, c := range cells {
			for _, v := range g.Axes[k] {
				n := Cell{k: fmt.Sprint(v)}
				for kk, vv := range c {
					n[kk] = vv
				}
				next = append(next, n)
			}
		}
		cells = next
	}
	return cells
}

// CellResult is one evaluated cell.
type CellResult struct {
	Cell     Cell                   `json:"settings"`
	Label    string                 `json:"label"`
	RunID    string                 `json:"run_id"`
	Metrics  map[string]float64     `json:"metrics"`
	Latency  Latency                `json:"latency_ms"`
	PerQuery map[string]QueryScores `json:"-"`
}

// Comparison ranks the cells and explains the winner.
type Comparison struct {
	Primary  string       `json:"primary"`
	TieBreak string       `json:"tie_break,omitempty"`
	Cells    []CellResult `json:"cells"` // best first
	Winner   string       `json:"winner"`
	Reason   string       `json:"reason"`
	// Wins and losses of the winner against the runner-up, per query on
	// the primary metric.
	HeadToHead *Diff `json:"head_to_head,omitempty"`
}

// Rank orders results by the primary metric, then the tie-break, then
// lower p50 latency, then label, and explains the choice.
func Rank(results []CellResult, primary, tieBreak string) Comparison {
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		if d := a.Metrics[primary] - b.Metrics[primary]; d > 1e-12 || d < -1e-12 {
			return d > 0
		}
		if tieBreak != "" {
			if d := a.Metrics[tieBreak] - b.Metrics[tieBreak]; d > 1e-12 || d < -1e-12 {
				return d > 0
			}
		}
		if a.Latency.P50 != b.Latency.P50 {
			return a.Latency.P50 < b.Latency.P50
		}
		return a.Label < b.Label
	})
	c := Comparison{Primary: primary, TieBreak: tieBreak, Cells: results}
	if len(results) == 0 {
		return c
	}
	best := results[0]
	c.Winner = best.Label
	if len(results) == 1 {
		c.Reason = "only one configuration"
		return c
	}
	second := results[1]
	margin := best.Metrics[primary] - second.Metrics[primary]
	switch {
	case margin > 1e-12:
		c.Reason = fmt.Sprintf("highest %s: %.4f, %.4f ahead of %s", primary, best.Metrics[primary], margin, second.Label)
	case tieBreak != "" && best.Metrics[tieBreak] != second.Metrics[tieBreak]:
		c.Reason = fmt.Sprintf("tied on %s (%.4f); higher %s (%.4f vs %.4f)", primary, best.Metrics[primary], tieBreak, best.Metrics[tieBreak], second.Metrics[tieBreak])
	default:
		c.Reason = fmt.Sprintf("tied on %s (%.4f); faster (p50 %.1f ms vs %.1f ms)", primary, best.Metrics[primary], best.Latency.P50, second.Latency.P50)
	}
	d := DiffRecords(Record{ID: second.Label, PerQuery: second.PerQuery}, Record{ID: best.Label, PerQuery: best.PerQuery}, primary)
	d.SameCorpus = true
	c.HeadToHead = &d
	return c
}

// WriteText writes the comparison for a person: the ranked settings, the
// winner and why, and its largest wins and losses against the runner-up;
// reportDir, when set, is where the HTML report went.
func (cmp Comparison) WriteText(w io.Writer, reportDir string) {
	cols := []string{cmp.Primary}
	if cmp.TieBreak != "" {
		cols = append(cols, cmp.TieBreak)
	}
	fmt.Fprintf(w, "%-4s %-50s", "rank", "settings")
	for _, c := range cols {
		fmt.Fprintf(w, " %12s", c)
	}
	fmt.Fprintf(w, " %10s\n", "p50 ms")
	for i, c := range cmp.Cells {
		fmt.Fprintf(w, "%-4d %-50s", i+1, c.Label)
		for _, m := range cols {
			fmt.Fprintf(w, " %12.4f", c.Metrics[m])
		}
		fmt.Fprintf(w, " %10.1f\n", c.Latency.P50)
	}
	fmt.Fprintf(w, "\nwinner: %s\nreason: %s\n", cmp.Winner, cmp.Reason)
	if h := cmp.HeadToHead; h != nil {
		fmt.Fprintf(w, "against the runner-up on %s: %d queries won, %d lost, %d tied\n", h.QueryMetric, len(h.Improved), len(h.Worsened), h.Unchanged)
		for _, part := range []struct {
			name  string
			flips []Flip
		}{{"won ", h.Improved}, {"lost", h.Worsened}} {
			for _, f := range part.flips[:min(3, len(part.flips))] {
				fmt.Fprintf(w, "  %s %-60s %.3f -> %.3f\n", part.name, f.Label(), f.A, f.B)
			}
		}
	}
	if reportDir != "" {
		fmt.Fprintf(w, "report: %s\n", filepath.Join(reportDir, "compare.html"))
	}
}
