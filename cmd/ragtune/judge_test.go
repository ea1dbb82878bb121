package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/judge/judgetest"
)

// TestEvalRunJudge: a [judge] section makes eval run grade the built-in
// answerer's answers through the judge endpoint; the figures gate, reach
// the per-question file and the report, and arms reports them per arm.
func TestEvalRunJudge(t *testing.T) {
	srv := judgetest.New(t)
	dir := initProject(t)
	data, _ := filepath.Abs("../../examples/squad-mini")
	qa := filepath.Join(data, "qa.jsonl")
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(fmt.Sprintf(
		"[judge]\nbase_url = %q\nmodel = \"gpt-4o-mini\"\napi_key_env = \"JUDGE_KEY\"\nrubric = \"\"\"\n- Never say \"As an AI\".\n- At most 80 words.\n\"\"\"\n", srv.BaseURL())), 0o644)
	eval := func(args ...string) (map[string]any, string, int) {
		var out, errb bytes.Buffer
		args = append([]string{"--config", filepath.Join(dir, "ragtune.toml"), "eval"}, args...)
		code := run(t.Context(), args, streams{stdout: &out, stderr: &errb}, []string{"HOME=" + dir, "JUDGE_KEY=sk-judge"})
		if !strings.HasPrefix(strings.TrimSpace(out.String()), "{") {
			return nil, errb.String(), code
		}
		return decode(t, out.String()), errb.String(), code
	}
	res, errOut, code := eval("run", qa, "--corpus", data, "--limit", "12", "--json", "--report", filepath.Join(dir, "report"))
	if code != 0 {
		t.Fatalf("eval run: exit %d %s", code, errOut)
	}
	j, _ := res["answer"].(map[string]any)["judge"].(map[string]any)
	if j == nil || j["model"] != "gpt-4o-mini" || j["prompt_version"] != judge.PromptVersion || j["items"] != 12.0 || j["errors"] != 0.0 {
		t.Fatalf("judge figures %v", j)
	}
	hasKeys(t, "judge", j, "correctness", "faithfulness", "rubric_pass", "agreement_contains", "agreement_faithfulness", "kappa_contains", "cost_usd")
	correct := j["correctness"].(float64)
	// The extractive answerer quotes its passages: the fake judge finds
	// every claim in them, as the lexical check does.
	if correct <= 0 || j["faithfulness"] != 1.0 || j["agreement_faithfulness"] != 1.0 || j["agreement_contains"].(float64) < 0.8 {
		t.Errorf("judged figures implausible: %v", j)
	}
	if srv.Requests()[0].Authorization != "Bearer sk-judge" {
		t.Errorf("the key from JUDGE_KEY was not sent: %q", srv.Requests()[0].Authorization)
	}
	lines, err := os.ReadFile(res["per_query_file"].(string))
	if err != nil || !strings.Contains(string(lines), `"judge":{"correctness":`) || !strings.Contains(string(lines), `"agrees_contains":`) {
		t.Errorf("per-question file lacks the verdicts: %v %.400s", err, lines)
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "report", "report.md")); !strings.Contains(string(md), "## Judge") {
		t.Errorf("report lacks the judge section:\n%s", md)
	}

	// Gates on judged figures: at the measured value it passes, above it
	// fails; a judged gate without a judge fails as unmeasured.
	if _, errOut, code := eval("run", qa, "--corpus", data, "--limit", "12", "--json", "--fail-under", fmt.Sprintf("judge_correctness=%g", correct)); code != 0 {
		t.Errorf("gate at the measured value: exit %d %s", code, errOut)
	}
	if _, _, code := eval("run", qa, "--corpus", data, "--limit", "12", "--json", "--fail-under", fmt.Sprintf("judge_correctness=%g", correct+0.01)); code != exitGate {
		t.Errorf("gate above the measured value: exit %d, want %d", code, exitGate)
	}
	if _, errOut, code := eval("run", qa, "--corpus", data, "--limit", "12", "--judge-model", "missing-model"); code == 0 || !strings.Contains(errOut, "404") {
		t.Errorf("--judge-model overrides [judge] model: exit %d %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), nil, 0o644)
	if _, errOut, code := eval("run", qa, "--corpus", data, "--limit", "4", "--fail-under", "judge_correctness=0.7"); code != exitGate || !strings.Contains(errOut, "judge_correctness was not measured") {
		t.Errorf("judged gate without a judge: exit %d %s", code, errOut)
	}

	// arms: offline, base+rag runs with the built-in answerer, judged.
	res, errOut, code = eval("arms", qa, "--corpus", data, "--limit", "6", "--json", "--judge-model", "gpt-4o-mini")
	if code == 0 {
		t.Errorf("--judge-model without any endpoint must fail: %v", res)
	}
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(fmt.Sprintf("[judge]\nbase_url = %q\n", srv.BaseURL())), 0o644)
	res, errOut, code = eval("arms", qa, "--corpus", data, "--limit", "6", "--json", "--judge-model", "gpt-4o-mini")
	if code != 0 {
		t.Fatalf("eval arms: exit %d %s", code, errOut)
	}
	for _, a := range res["arms"].([]any) {
		arm := a.(map[string]any)
		if arm["arm"] == "base+rag" && arm["answer"].(map[string]any)["judge_correctness"] == nil {
			t.Errorf("base+rag not judged: %v", arm)
		}
	}
}
