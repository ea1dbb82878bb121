package evaluate

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAgreesWithTrecEval scores a real TREC run and compares every
// measure with the value trec_eval printed for it (see
// testdata/trec_eval/README.md for where the files come from).
func TestAgreesWithTrecEval(t *testing.T) {
	dir := filepath.Join("testdata", "trec_eval")
	run := readTRECRun(t, filepath.Join(dir, "results-302.trec"))
	qrels, err := readQrels(filepath.Join(dir, "qrels-302.relevant.qrels"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(run["302"]); n != 500 {
		t.Fatalf("run has %d documents for topic 302, want 500 (trec_eval num_ret)", n)
	}
	if n := len(qrels["302"]); n != 77 {
		t.Fatalf("qrels have %d relevant documents, want 77 (trec_eval num_rel)", n)
	}
	want := readExpected(t, filepath.Join(dir, "expected-302.tsv"))
	var metrics []Metric
	for name := range want {
		m, err := ParseMetric(name)
		if err != nil {
			t.Fatal(err)
		}
		metrics = append(metrics, m)
	}
	_, perQuery := Evaluate(run, qrels, metrics)
	for name, w := range want {
		got := perQuery["302"][name]
		if math.Abs(got-w) > 1e-4 {
			t.Errorf("%s = %.6f, trec_eval printed %.4f", name, got, w)
		}
	}
}

// readTRECRun reads "qid Q0 docid rank score tag" lines; the rank column
// is ignored, as trec_eval ignores it.
func readTRECRun(t *testing.T, path string) Run {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run := Run{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 6 {
			t.Fatalf("bad run line %q", sc.Text())
		}
		score, err := strconv.ParseFloat(fs[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		run[fs[0]] = append(run[fs[0]], Scored{DocID: fs[2], Score: score})
	}
	return run
}

func readExpected(t *testing.T, path string) map[string]float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		v, err := strconv.ParseFloat(fs[2], 64)
		if err != nil {
			t.Fatalf("bad expected line %q", line)
		}
		want[fs[1]] = v
	}
	return want
}
