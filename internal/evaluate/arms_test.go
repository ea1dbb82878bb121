package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestPlanArm(t *testing.T) {
	for _, tc := range []struct {
		arm     string
		models  ArmModels
		model   string
		skipped string
	}{
		{ArmBaseRAG, ArmModels{}, "", ""}, // offline: the built-in answerer
		{ArmBase, ArmModels{}, "", "no chat endpoint"},
		{ArmTuned, ArmModels{Endpoint: true, Base: "b"}, "", "no fine-tuned model"},
		{ArmBase, ArmModels{Endpoint: true}, "", "no base model"},
		{ArmTunedRAG, ArmModels{Endpoint: true, Base: "b", Tuned: "ft:t"}, "ft:t", ""},
		{ArmBase, ArmModels{Endpoint: true, Base: "b", Tuned: "ft:t"}, "b", ""},
	} {
		p := PlanArm(tc.arm, tc.models)
		if p.Model != tc.model || !strings.HasPrefix(p.Skipped, tc.skipped) || (tc.skipped == "") != (p.Skipped == "") {
			t.Errorf("PlanArm(%s, %+v) = %+v", tc.arm, tc.models, p)
		}
		if p.ClosedBook != (tc.arm == ArmBase || tc.arm == ArmTuned) {
			t.Errorf("%s: closed book %v", tc.arm, p.ClosedBook)
		}
	}
}

func TestArmOutcomeAndTable(t *testing.T) {
	f := 0.5
	res := &QAResult{Answer: AnswerMetrics{EM: 0.25, Faithfulness: 1, AbstentionF1: &f}, LatencyMS: Latency{P50: 12}}
	closed := ArmOutcome(PlanArm(ArmBase, ArmModels{Endpoint: true, Base: "m"}), res, "openai:m", "run1")
	open := ArmOutcome(PlanArm(ArmBaseRAG, ArmModels{Endpoint: true, Base: "m"}), res, "openai:m", "run2")
	skipped := ArmOutcome(PlanArm(ArmTuned, ArmModels{Endpoint: true, Base: "m"}), nil, "", "")
	if closed.Answer["faithfulness"] != nil || open.Answer["faithfulness"] != 1.0 || open.Answer["behaviour_pass"] != nil {
		t.Errorf("answers: closed %v, open %v", closed.Answer, open.Answer)
	}
	raw, _ := json.Marshal(open)
	if !strings.Contains(string(raw), `"behaviour_pass":null`) || !strings.Contains(string(raw), `"abstention_f1":0.5`) {
		t.Errorf("JSON = %s", raw)
	}
	var b bytes.Buffer
	if err := WriteArmsTable(&b, []ArmResult{closed, open, skipped}, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| base | m | 0.250 |", "n/a", "| fine-tuned | — | skipped", "fine-tuned skipped: no fine-tuned model"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// qaResult is a QA outcome whose i-th question scores contains(i).
func qaResult(n int, contains func(i int) float64) *QAResult {
	res := &QAResult{LatencyMS: Latency{P50: 10}}
	var sum float64
	for i := range n {
		c := contains(i)
		sum += c
		res.PerItem = append(res.PerItem, ItemResult{ID: fmt.Sprintf("q%02d", i), Answerable: true, Contains: c, F1: c / 2})
	}
	res.Answer.Contains = sum / float64(n)
	return res
}

func TestCompareArms(t *testing.T) {
	m := ArmModels{Endpoint: true, Base: "b", Tuned: "ft:t"}
	rag := qaResult(30, func(i int) float64 { return float64(i % 2) })
	results := []ArmResult{
		ArmOutcome(PlanArm(ArmBase, m), qaResult(30, func(int) float64 { return 0 }), "openai:b", "r1"),
		ArmOutcome(PlanArm(ArmBaseRAG, m), rag, "openai:b", "r2"),
		ArmOutcome(PlanArm(ArmTuned, ArmModels{Endpoint: true, Base: "b"}), nil, "", ""),
		ArmOutcome(PlanArm(ArmTunedRAG, m), qaResult(30, func(i int) float64 { return float64((i + 1) % 2) }), "openai:ft:t", "r4"),
	}
	CompareArms(results, ArmBaseRAG, "contains")
	base, ref, skipped, hybrid := results[0], results[1], results[2], results[3]
	if ref.Versus != nil || skipped.Versus != nil {
		t.Fatalf("only arms that ran are tested, and not the reference: %+v %+v", ref.Versus, skipped.Versus)
	}
	if v := base.Versus; v == nil || v.Against != ArmBaseRAG || v.N != 30 || !v.Significant || v.Delta != -0.5 || v.Tests != 2 {
		t.Errorf("closed book against RAG: %+v", v)
	}
	if v := hybrid.Versus; v == nil || v.Significant || v.Delta != 0 {
		t.Errorf("same accuracy on other questions: %+v", v)
	}
	if iv, ok := ref.CI["contains"]; !ok || iv.Lo >= 0.5 || iv.Hi <= 0.5 {
		t.Errorf("RAG contains interval %+v", ref.CI)
	}
	if _, ok := ref.CI["f1"]; !ok {
		t.Errorf("F1 has an interval too: %+v", ref.CI)
	}
	var b bytes.Buffer
	if err := WriteArmsTable(&b, results, true); err != nil {
		t.Fatal(err)
	}
	iv := ref.CI["contains"]
	for _, want := range []string{"| vs base+rag |", fmt.Sprintf("0.500 [%.2f, %.2f]", iv.Lo, iv.Hi), "| -0.500, p < 0.001 |", "| +0.000, p = 1 n.s. |", "| — |",
		"vs base+rag: contains per question"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	raw, _ := json.Marshal(base)
	if !strings.Contains(string(raw), `"versus":{"against":"base+rag","metric":"contains"`) || !strings.Contains(string(raw), `"ci":{"contains":`) {
		t.Errorf("JSON = %s", raw)
	}
}
