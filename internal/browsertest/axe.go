package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ragtune/ragtune/internal/npmtest"
)

// AxeVersion is the axe-core release the accessibility checks pin.
const AxeVersion = "4.14.1"

// Axe reads axe-core (the npm package, installed once into the user
// cache by npmtest) for injection into pages. Without Node.js or the
// registry the test skips, unless RAGTUNE_REQUIRE_NODE_SDK=1 (CI).
func Axe(t *testing.T) string {
	t.Helper()
	dir := npmtest.Package(t, "axe-core", AxeVersion)
	src, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("reading axe-core: %v", err)
	}
	return string(src)
}

// Violation is one axe-core rule a page breaks, with the elements that
// break it.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var where []string
	for _, n := range v.Nodes {
		where = append(where, fmt.Sprint(n.Target...))
	}
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(where, ", "))
}

// RunAxe injects axe-core into the page (once) and checks it against
// WCAG 2.x A and AA, returning the violations.
func RunAxe(ctx context.Context, axe string) ([]Violation, error) {
	var loaded bool
	if err := chromedp.Evaluate(`typeof window.axe === "object"`, &loaded).Do(ctx); err != nil {
		return nil, err
	}
	if !loaded {
		if err := chromedp.Evaluate(axe, nil).Do(ctx); err != nil {
			return nil, fmt.Errorf("injecting axe-core: %w", err)
		}
	}
	var out string
	run := `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`
	if err := chromedp.Evaluate(run, &out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }).Do(ctx); err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("reading axe-core's results: %w", err)
	}
	return vs, nil
}

// Serious keeps the violations of serious or critical impact.
func Serious(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
		}
	}
	return out
}
