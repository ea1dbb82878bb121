package advise

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// SVG draws monthly cost against volume for the three options, both axes
// on a log scale, as a self-contained SVG image that scales to its
// container; w's own volume is marked. Text is drawn in currentColor and
// each series has a class (s-rag, s-fine-tune, s-hybrid), so a page can
// restyle it for a dark background.
func SVG(w Workload, p Prices) string {
	yours := w.MonthlyRequests
	vols := []float64{1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7}
	series := [3][]float64{}
	lo, hi := math.Inf(1), 0.0
	for _, v := range vols {
		w.MonthlyRequests = v
		c := Monthly(w, p)
		for i, x := range []float64{c.RAG, c.FineTune, c.Hybrid} {
			x = math.Max(x, 0.01)
			series[i] = append(series[i], x)
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	const width, height, pad = 640, 360, 56
	x := func(v float64) float64 {
		return pad + (math.Log10(v)-3)/4*(width-2*pad)
	}
	y := func(c float64) float64 {
		return height - pad - (math.Log10(c)-math.Log10(lo))/math.Max(math.Log10(hi)-math.Log10(lo), 1e-9)*(height-2*pad)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="12" fill="currentColor" role="img" aria-label="monthly cost by volume">`, width, height, width, height)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-weight="bold">Monthly cost (USD) by requests per month, log scales</text>`, pad)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`,
		pad, height-pad, width-pad, height-pad, pad, pad, pad, height-pad)
	for _, v := range []float64{1e3, 1e4, 1e5, 1e6, 1e7} {
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%s</text>`, x(v), height-pad+16, shortNumber(v))
	}
	for _, c := range []float64{lo, math.Sqrt(lo * hi), hi} {
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">$%s</text>`, pad-6, y(c)+4, shortNumber(c))
	}
	colours := []string{"#2e7d32", "#c62828", "#1565c0"}
	names := []string{"RAG", "fine-tune", "hybrid"}
	for i, s := range series {
		var pts []string
		for j, c := range s {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(vols[j]), y(c)))
		}
		fmt.Fprintf(&b, `<polyline class="s-%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, names[i], colours[i], strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text class="s-%s" x="%d" y="%d" fill="%s">%s</text>`, names[i], pad+10, pad+16*i, colours[i], html.EscapeString(names[i]))
	}
	if yours >= 1e3 && yours <= 1e7 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888" stroke-width="1.5"/><text x="%.1f" y="%d" text-anchor="middle">your volume %s</text>`,
			x(yours), pad, x(yours), height-pad, x(yours), pad-6, shortNumber(yours))
	}
	if be, _ := BreakEven(w, p); be != nil && *be >= 1e3 && *be <= 1e7 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555" stroke-dasharray="4 3"/><text x="%.1f" y="%d">break-even %s</text>`,
			x(*be), pad, x(*be), height-pad, x(*be)+4, pad+56, shortNumber(*be))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
