package evaluate

import (
	"bytes"
	"encoding/json"
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
