package evaluate

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
)

// Reports are Markdown for reading in a terminal or a pull request, and
// self-contained HTML (inline CSS and SVG, no scripts, no external
// assets) for a browser.

// WriteCompareMarkdown writes a comparison as Markdown.
func WriteCompareMarkdown(w io.Writer, title string, cmp Comparison) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "**Winner:** `%s`%s  \n**Why:** %s\n\n", cmp.Winner, cmp.tieNote(), cmp.Reason)
	names := compareColumns(cmp)
	b.WriteString("| rank | settings | " + strings.Join(cmp.columnTitles(names), " | ") + " | vs best | p50 ms | run |\n")
	b.WriteString("|---:|---|" + strings.Repeat("---:|", len(names)) + "---|---:|---|\n")
	for i, c := range cmp.Cells {
		fmt.Fprintf(&b, "| %d | `%s` |", i+1, c.Label)
		for _, n := range names {
			fmt.Fprintf(&b, " %s |", c.Shown(n))
		}
		fmt.Fprintf(&b, " %s | %.1f | %s |\n", c.VersusBest(), c.Latency.P50, c.RunID)
	}
	b.WriteString("\n" + significanceNote(cmp) + "\n")
	if h := cmp.HeadToHead; h != nil {
		fmt.Fprintf(&b, "\n## Winner against the runner-up (%s per query)\n\n%d won, %d lost, %d tied.\n\n", h.QueryMetric, len(h.Improved), len(h.Worsened), h.Unchanged)
		writeFlips(&b, "Largest wins", h.Improved)
		writeFlips(&b, "Largest losses", h.Worsened)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFlips(b *strings.Builder, title string, flips []Flip) {
	if len(flips) == 0 {
		return
	}
	fmt.Fprintf(b, "### %s\n\n| query | runner-up | winner |\n|---|---:|---:|\n", title)
	for _, f := range flips[:min(10, len(flips))] {
		fmt.Fprintf(b, "| %s | %.3f | %.3f |\n", strings.ReplaceAll(f.Label(), "|", `\|`), f.A, f.B)
	}
	b.WriteString("\n")
}

// compareColumns are the metrics shown: primary and tie-break first, then
// the rest in name order.
func compareColumns(cmp Comparison) []string {
	if len(cmp.Cells) == 0 {
		return nil
	}
	cols := []string{cmp.Primary}
	if cmp.TieBreak != "" && cmp.TieBreak != cmp.Primary {
		cols = append(cols, cmp.TieBreak)
	}
	for _, k := range sortedKeys(cmp.Cells[0].Metrics) {
		if k != cmp.Primary && k != cmp.TieBreak && !strings.HasPrefix(k, "has_answer_rank") {
			cols = append(cols, k)
		}
	}
	return cols
}

// Bar is one bar of a chart; CI, when set, is drawn as an error bar.
type Bar struct {
	Label string
	Value float64
	CI    *Interval
}

// columnTitles are the compare table's headings: a metric with
// intervals says so.
func (cmp Comparison) columnTitles(names []string) []string {
	titles := make([]string, len(names))
	for i, n := range names {
		titles[i] = n
		for _, c := range cmp.Cells {
			if _, ok := c.CI[n]; ok {
				titles[i] = n + " [95% CI]"
				break
			}
		}
	}
	return titles
}

// significanceNote says how "vs best" was computed.
func significanceNote(cmp Comparison) string {
	return fmt.Sprintf("Intervals: 95%% bootstrap over the queries. vs best: paired randomisation test of the best against each configuration on %s over their shared queries, p-values Holm-adjusted; (tie) means not significantly worse at %g.", cmp.Primary, cmp.Alpha)
}

// BarChart draws horizontal bars as inline SVG; values are labelled with
// format (e.g. "%.3f"). With highlight set the first bar (a winner) is
// drawn in the accent colour.
func BarChart(title string, bars []Bar, format string, highlight bool) template.HTML {
	const rowH, labelW, barW, pad = 22, 300, 360, 8
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
		if b.CI != nil {
			maxV = math.Max(maxV, b.CI.Hi)
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	h := len(bars)*rowH + 2*pad + 20
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">`, labelW+barW+80, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&s, `<text x="%d" y="16" class="t">%s</text>`, pad, template.HTMLEscapeString(title))
	scale := func(v float64) int { return int(math.Max(0, v) / maxV * barW) }
	for i, b := range bars {
		y := 20 + pad + i*rowH
		w := scale(b.Value)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="l">%s</text>`, labelW-6, y+15, template.HTMLEscapeString(shorten(b.Label, 48)))
		class := "b1"
		if highlight && i == 0 {
			class = "b0"
		}
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" class="%s"/>`, labelW, y+3, max(w, 1), rowH-6, class)
		end := w
		if b.CI != nil {
			lo, hi, mid := labelW+scale(b.CI.Lo), labelW+scale(b.CI.Hi), y+rowH/2
			fmt.Fprintf(&s, `<path d="M%d %dH%dM%d %dV%dM%d %dV%d" class="err"/>`, lo, mid, hi, lo, mid-5, mid+5, hi, mid-5, mid+5)
			end = max(end, hi-labelW)
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="v">%s</text>`, labelW+end+4, y+15, fmt.Sprintf(format, b.Value))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// LineChart draws points (x ascending) as an inline SVG polyline with a
// log-scaled x axis, which suits recall@k curves.
func LineChart(title string, xs, ys []float64) template.HTML {
	const w, h, pad = 520, 240, 40
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">`, w, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&s, `<text x="%d" y="16" class="t">%s</text>`, pad, template.HTMLEscapeString(title))
	fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="ax"/><line x1="%d" y1="%d" x2="%d" y2="%d" class="ax"/>`, pad, h-pad, w-pad, h-pad, pad, pad, pad, h-pad)
	if len(xs) > 0 {
		lo, hi := math.Log(xs[0]), math.Log(xs[len(xs)-1])
		if hi == lo {
			hi = lo + 1
		}
		var pts []string
		for i := range xs {
			x := pad + (math.Log(xs[i])-lo)/(hi-lo)*float64(w-2*pad)
			y := float64(h-pad) - ys[i]*float64(h-2*pad)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="3" class="p"/><text x="%.1f" y="%d" class="l">%g</text><text x="%.1f" y="%.1f" class="v">%.2f</text>`,
				x, y, x+4, h-pad+14, xs[i], x+4, y-6, ys[i])
		}
		fmt.Fprintf(&s, `<polyline points="%s" class="line"/>`, strings.Join(pts, " "))
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" class="l">1.0</text><text x="%d" y="%d" class="l">0</text>`, pad-4, pad+4, pad-4, h-pad)
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// Histogram buckets values (e.g. latencies) into bins and draws them.
func Histogram(title string, values []float64, bins int, unit string) template.HTML {
	if len(values) == 0 {
		return BarChart(title, nil, "%.0f", false)
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	lo, hi := s[0], s[len(s)-1]
	width := (hi - lo) / float64(bins)
	if width == 0 {
		width = 1
	}
	counts := make([]int, bins)
	for _, v := range s {
		counts[min(bins-1, int((v-lo)/width))]++
	}
	bars := make([]Bar, bins)
	for i, c := range counts {
		bars[i] = Bar{Label: fmt.Sprintf("%.1f–%.1f %s", lo+float64(i)*width, lo+float64(i+1)*width, unit), Value: float64(c)}
	}
	return BarChart(title, bars, "%.0f", false)
}

func shorten(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

const reportCSS = `body{font:14px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th,td:first-child,td.s{text-align:left}tr.win{background:#eef7ee}tr.tie{background:#f6faf6}code{background:#f4f4f4;padding:1px 4px}
svg{display:block;margin:1em 0}.t{font-weight:600;font-size:14px}.l{font-size:12px;text-anchor:end}.v{font-size:12px}
.b0{fill:#2e7d32}.b1{fill:#90a4ae}.ax{stroke:#999}.err{stroke:#222;stroke-width:1.5;fill:none}.line{fill:none;stroke:#1565c0;stroke-width:2}.p{fill:#1565c0}
svg .l{text-anchor:end}svg circle+text.l{text-anchor:middle}`

var compareTemplate = template.Must(template.New("compare").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title><style>` + reportCSS + `</style></head><body>
<h1>{{.Title}}</h1>
<p><strong>Winner:</strong> <code>{{.Cmp.Winner}}</code>{{.TieNote}}<br><strong>Why:</strong> {{.Cmp.Reason}}</p>
{{.PrimaryChart}}
{{.LatencyChart}}
<table><tr><th>rank</th><th>settings</th>{{range .Cols}}<th>{{.}}</th>{{end}}<th>vs best</th><th>p50 ms</th><th>run</th></tr>
{{range $i, $c := .Rows}}<tr{{if eq $i 0}} class="win"{{else if $c.Tied}} class="tie"{{end}}><td>{{inc $i}}</td><td class="s"><code>{{$c.Label}}</code></td>{{range $c.Values}}<td>{{.}}</td>{{end}}<td class="s">{{$c.VsBest}}</td><td>{{printf "%.1f" $c.P50}}</td><td class="s">{{$c.RunID}}</td></tr>
{{end}}</table>
<p>{{.Note}}</p>
{{with .Cmp.HeadToHead}}<h2>Winner against the runner-up ({{.QueryMetric}} per query)</h2>
<p>{{len .Improved}} won, {{len .Worsened}} lost, {{.Unchanged}} tied.</p>
<h3>Largest wins</h3>
<table><tr><th>query</th><th>runner-up</th><th>winner</th></tr>
{{range $.TopWins}}<tr><td class="s">{{.Label}}</td><td>{{printf "%.3f" .A}}</td><td>{{printf "%.3f" .B}}</td></tr>{{end}}
</table>
<h3>Largest losses</h3>
<table><tr><th>query</th><th>runner-up</th><th>winner</th></tr>
{{range $.TopLosses}}<tr><td class="s">{{.Label}}</td><td>{{printf "%.3f" .A}}</td><td>{{printf "%.3f" .B}}</td></tr>{{end}}
</table>{{end}}
</body></html>
`))

type compareRow struct {
	Label  string
	Values []string
	VsBest string
	Tied   bool
	P50    float64
	RunID  string
}

// WriteCompareHTML writes a self-contained HTML comparison report.
func WriteCompareHTML(w io.Writer, title string, cmp Comparison) error {
	cols := compareColumns(cmp)
	data := struct {
		Title                      string
		Cmp                        Comparison
		Cols                       []string
		TieNote, Note              string
		Rows                       []compareRow
		PrimaryChart, LatencyChart template.HTML
		TopWins, TopLosses         []Flip
	}{Title: title, Cmp: cmp, Cols: cmp.columnTitles(cols), TieNote: cmp.tieNote(), Note: significanceNote(cmp)}
	var primary, lat []Bar
	for _, c := range cmp.Cells {
		row := compareRow{Label: c.Label, VsBest: c.VersusBest(), Tied: c.VsBest != nil && c.VsBest.N > 0 && !c.SignificantlyWorse,
			P50: c.Latency.P50, RunID: c.RunID}
		for _, k := range cols {
			row.Values = append(row.Values, c.Shown(k))
		}
		data.Rows = append(data.Rows, row)
		bar := Bar{Label: c.Label, Value: c.Metrics[cmp.Primary]}
		if iv, ok := c.CI[cmp.Primary]; ok {
			bar.CI = &iv
		}
		primary = append(primary, bar)
		lat = append(lat, Bar{Label: c.Label, Value: c.Latency.P50})
	}
	chartTitle := cmp.Primary + " by configuration"
	if len(primary) > 0 && primary[0].CI != nil {
		chartTitle += " (bars: 95% CI)"
	}
	data.PrimaryChart = BarChart(chartTitle, primary, "%.4f", true)
	data.LatencyChart = BarChart("p50 latency (ms) by configuration", lat, "%.1f", true)
	if h := cmp.HeadToHead; h != nil {
		data.TopWins, data.TopLosses = h.Improved[:min(10, len(h.Improved))], h.Worsened[:min(10, len(h.Worsened))]
	}
	return compareTemplate.Execute(w, data)
}
