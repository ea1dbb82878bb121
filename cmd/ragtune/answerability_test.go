package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUnanswerableGate answers the held-out SQuAD articles whose
// unanswerable questions stay on topic (examples/squad-unanswerable) and
// gates what the answerability model promises: most on-topic
// unanswerable questions declined, most answerable ones answered with a
// short answer. The gates are its figures on this set (accuracy 0.79,
// abstention recall 0.74, answer recall 0.83, ROC area 0.85, F1 0.37,
// SQuAD 2.0 F1 0.51) less a margin; the coverage-only answerer this
// replaced fails them (abstention recall 0.62, F1 0.14, no score).
func TestUnanswerableGate(t *testing.T) {
	dir := initProject(t)
	data, _ := filepath.Abs("../../examples/squad-unanswerable")
	gates := "answer_or_decline_accuracy=0.75,abstention_recall=0.68,answer_recall=0.78,answerability_auc=0.8,f1=0.32,squad2_f1=0.47"
	out, errOut, code := cli(t, dir, "eval", "run", filepath.Join(data, "qa.jsonl"), "--corpus", data, "--json", "--fail-under", gates)
	if code != 0 {
		t.Fatalf("eval run exit %d: %s\n%s", code, errOut, out)
	}
	a := decode(t, out)["answer"].(map[string]any)
	kinds, _ := a["declined_by_kind"].(map[string]any)
	for _, k := range []string{"answerable", "removed_sentence", "swapped_entity"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("declined_by_kind lacks %s: %v", k, kinds)
		}
	}
	if kinds["swapped_entity"].(float64) <= kinds["answerable"].(float64) || kinds["removed_sentence"].(float64) <= kinds["answerable"].(float64) {
		t.Errorf("unanswerable kinds are declined no more often than answerable ones: %v", kinds)
	}
}

// TestAskReportsAnswerability: ask --json carries the answerability score
// and the short answer beside the quoted, cited sentence.
func TestAskReportsAnswerability(t *testing.T) {
	dir := initProject(t)
	copyDocs(t, dir)
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "docs")); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, errOut)
	}
	out, errOut, code := cli(t, dir, "ask", "What chunk size does ragtune use by default?", "--json")
	if code != 0 {
		t.Fatalf("ask exit %d: %s", code, errOut)
	}
	res := decode(t, out)
	p, ok := res["answerability"].(float64)
	if !ok || p <= 0 || p > 1 {
		t.Fatalf("answerability = %v in %v", res["answerability"], res)
	}
	short, _ := res["short_answer"].(string)
	if res["abstained"] != false || short != "256" || !strings.Contains(res["answer"].(string), short) {
		t.Errorf("short answer %q of answer %q (abstained %v), want 256 quoted from docs/configuration.md", short, res["answer"], res["abstained"])
	}
}
