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
	Cell    Cell               `json:"settings"`
	Label   string             `json:"label"`
	RunID   string             `json:"run_id"`
	Metrics map[string]float64 `json:"metrics"`
	// CI holds the 95% bootstrap intervals of the primary and tie-break
	// metrics over the queries (none for a metric without per-query
	// scores).
	CI      map[string]Interval `json:"ci,omitempty"`
	Latency Latency             `json:"latency_ms"`
	// VsBest is the paired test of the best cell against this one on the
	// primary metric (Delta is the best's lead), Holm-adjusted over every
	// cell tested against the best; nil for the best itself.
	VsBest *Paired `json:"vs_best,omitempty"`
	// PValueVsBest is VsBest's adjusted p-value; nil for the best and
	// for a cell without per-query scores to test.
	PValueVsBest       *float64               `json:"p_value_vs_best,omitempty"`
	SignificantlyWorse bool                   `json:"significantly_worse"`
	PerQuery           map[string]QueryScores `json:"-"`
}

// Comparison ranks the cells and explains the winner.
type Comparison struct {
	Primary  string       `json:"primary"`
	TieBreak string       `json:"tie_break,omitempty"`
	Cells    []CellResult `json:"cells"` // best first
	// Winner is the best by the metrics, significant or not.
	Winner string `json:"winner"`
	// Significant says the winner's lead over the runner-up on the
	// primary metric passed the paired test at Alpha; Tie says it was
	// tested and did not, and TiedWith lists every cell not
	// significantly worse than the winner.
	Significant bool     `json:"significant"`
	Tie         bool     `json:"tie"`
	TiedWith    []string `json:"tied_with"`
	Alpha       float64  `json:"alpha"`
	Reason      string   `json:"reason"`
	// Wins and losses of the winner against the runner-up, per query on
	// the primary metric.
	HeadToHead *Diff `json:"head_to_head,omitempty"`
}

// Rank orders results by the primary metric, then the tie-break, then
// lower p50 latency, then label; tests the best against every other
// cell on the primary metric over their shared queries (paired
// randomisation, Holm-adjusted); and explains the choice. A lead over
// the runner-up that is not significant makes the outcome a tie.
func Rank(results []CellResult, primary, tieBreak string) Comparison {
	sortCells(results, primary, tieBreak)
	c := Comparison{Primary: primary, TieBreak: tieBreak, Cells: results, TiedWith: []string{}, Alpha: DefaultAlpha}
	for i := range results {
		results[i].CI = cellIntervals(results[i].PerQuery, primary, tieBreak)
	}
	if len(results) == 0 {
		return c
	}
	best := results[0]
	c.Winner = best.Label
	if len(results) == 1 {
		c.Reason = "only one configuration"
		return c
	}
	testAgainstBest(results, primary)
	for _, r := range results[1:] {
		if r.VsBest.N > 0 && !r.SignificantlyWorse {
			c.TiedWith = append(c.TiedWith, r.Label)
		}
	}
	c.Significant = results[1].SignificantlyWorse
	c.Tie = results[1].VsBest.N > 0 && !c.Significant
	c.Reason = c.explain()
	d := DiffRecords(Record{ID: results[1].Label, PerQuery: results[1].PerQuery}, Record{ID: best.Label, PerQuery: best.PerQuery}, primary)
	d.SameCorpus = true
	d.Test = *results[1].VsBest // the same test, Holm-adjusted with the others
	c.HeadToHead = &d
	return c
}

func sortCells(results []CellResult, primary, tieBreak string) {
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
}

// cellIntervals are the intervals of the metrics that have per-query
// scores.
func cellIntervals(per map[string]QueryScores, metrics ...string) map[string]Interval {
	out := map[string]Interval{}
	for _, m := range metrics {
		if xs := Values(per, m); m != "" && len(xs) > 0 {
			out[m] = MeanCI(xs)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// testAgainstBest runs the paired test of results[0] against every other
// cell, Holm-adjusted over the cells that have queries in common with it.
func testAgainstBest(results []CellResult, primary string) {
	var family []*Paired
	for i := 1; i < len(results); i++ {
		t := ComparePerQuery(results[i].PerQuery, results[0].PerQuery, primary)
		results[i].VsBest = &t
		if t.N > 0 {
			family = append(family, &t)
		}
	}
	Holm(family)
	for i := 1; i < len(results); i++ {
		t := results[i].VsBest
		if t.N > 0 {
			p := t.PHolm
			results[i].PValueVsBest = &p
		}
		// Two-sided: significant the wrong way (the other cell ahead on the
		// queries both answered) is no lead for the best.
		results[i].SignificantlyWorse = t.Significant && t.Delta > 0
	}
}

// explain says why the winner ranks first and whether its lead is real.
func (cmp Comparison) explain() string {
	best, second, p := cmp.Cells[0], cmp.Cells[1], cmp.Primary
	var lead string
	switch margin := best.Metrics[p] - second.Metrics[p]; {
	case margin > 1e-12 && cmp.Tie:
		lead = fmt.Sprintf("%s leads %s by %.4f %s", best.Label, second.Label, margin, p)
	case margin > 1e-12:
		lead = fmt.Sprintf("highest %s: %.4f, %.4f ahead of %s", p, best.Metrics[p], margin, second.Label)
	case cmp.TieBreak != "" && best.Metrics[cmp.TieBreak] != second.Metrics[cmp.TieBreak]:
		lead = fmt.Sprintf("tied on %s (%.4f); higher %s (%.4f vs %.4f)", p, best.Metrics[p], cmp.TieBreak, best.Metrics[cmp.TieBreak], second.Metrics[cmp.TieBreak])
	default:
		lead = fmt.Sprintf("tied on %s (%.4f); faster (p50 %.1f ms vs %.1f ms)", p, best.Metrics[p], best.Latency.P50, second.Latency.P50)
	}
	t := second.VsBest
	if t.N == 0 {
		return lead + fmt.Sprintf("; %s has no per-query scores in common, so the lead cannot be tested", p)
	}
	stats := fmt.Sprintf("95%% CI %s, %s, %d queries", deltaRange(t.DeltaCI), PText(t.AdjustedP()), t.N)
	if t.Tests > 1 {
		stats += fmt.Sprintf(", Holm-adjusted over %d comparisons", t.Tests)
	}
	if cmp.Significant {
		return fmt.Sprintf("%s (%s); significant at %g", lead, stats, cmp.Alpha)
	}
	fast := best
	for _, c := range cmp.Cells[1:] {
		if !c.SignificantlyWorse && c.VsBest.N > 0 && c.Latency.P50 < fast.Latency.P50 {
			fast = c
		}
	}
	return fmt.Sprintf("tie: %s (%s); not significant at %g — pick on cost or latency: the fastest of the %d tied is %s (p50 %.1f ms)",
		lead, stats, cmp.Alpha, len(cmp.TiedWith)+1, fast.Label, fast.Latency.P50)
}

// PText writes a p-value for a person: "p = 0.412", or "p < 0.001".
func PText(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3g", p)
}

func deltaRange(iv Interval) string { return fmt.Sprintf("%+.4f..%+.4f", iv.Lo, iv.Hi) }

// WithCI writes a mean and its interval, "0.6857 [0.66, 0.71]"; the mean
// alone when there is no interval.
func WithCI(v float64, iv Interval, ok bool) string {
	if !ok {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4f [%.2f, %.2f]", v, iv.Lo, iv.Hi)
}

// Shown is a cell's metric as the reports write it, with its interval
// when it has one.
func (c CellResult) Shown(metric string) string {
	iv, ok := c.CI[metric]
	return WithCI(c.Metrics[metric], iv, ok)
}

// VersusBest is the cell's standing against the best for the reports:
// "—" for the best, "p < 0.001", "p = 0.41 (tie)", or "untested".
func (c CellResult) VersusBest() string {
	switch {
	case c.VsBest == nil:
		return "—"
	case c.VsBest.N == 0:
		return "untested"
	case c.SignificantlyWorse:
		return PText(c.VsBest.AdjustedP())
	default:
		return PText(c.VsBest.AdjustedP()) + " (tie)"
	}
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
		fmt.Fprintf(w, " %20s", c)
	}
	fmt.Fprintf(w, " %-18s %10s\n", "vs best", "p50 ms")
	for i, c := range cmp.Cells {
		fmt.Fprintf(w, "%-4d %-50s", i+1, c.Label)
		for _, m := range cols {
			fmt.Fprintf(w, " %20s", c.Shown(m))
		}
		fmt.Fprintf(w, " %-18s %10.1f\n", c.VersusBest(), c.Latency.P50)
	}
	fmt.Fprintf(w, "\nwinner: %s%s\nreason: %s\n", cmp.Winner, cmp.tieNote(), cmp.Reason)
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

// tieNote marks a winner whose lead is not significant.
func (cmp Comparison) tieNote() string {
	if !cmp.Tie {
		return ""
	}
	return fmt.Sprintf(" (a tie with %s: not significantly better at %g)", strings.Join(cmp.TiedWith, ", "), cmp.Alpha)
}
