package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/judge/judgetest"
)

// A QA eval with a judge configured reports the judged figures and
// stores the judge's model, prompt version and rubric hash with the run;
// the judge reaches [generate.openai]'s endpoint when it names none.
func TestEvalQAJudged(t *testing.T) {
	srv := judgetest.New(t)
	dir := t.TempDir()
	cfg, env := newConfig(dir)
	cfg.Generate.OpenAI.BaseURL = srv.BaseURL() // the answers stay the built-in answerer's
	cfg.Judge.Model, cfg.Judge.RubricFile = "gpt-4o-mini", "rubric.md"
	os.WriteFile(filepath.Join(dir, "rubric.md"), []byte("# Tone\n- Never say \"As an AI\".\n"), 0o644)
	p, err := Init(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("# Keys\n\nSigning keys rotate every ninety days.\n"), 0o644)
	if _, err := p.Ingest(t.Context(), IngestRequest{Roots: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	items := []evaluate.QAItem{{ID: "1", Question: "How often do signing keys rotate?", Answers: []string{"every ninety days"}}}
	run, err := p.EvalQA(t.Context(), QAEval{Items: items, Path: "qa.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Metrics["judge_correctness"] != 1 || run.Metrics["judge_faithfulness"] != 1 || run.Metrics["judge_rubric_pass"] != 1 ||
		run.Metrics["judge_agreement_contains"] != 1 || run.Metrics["judge_errors"] != 0 {
		t.Errorf("judged metrics %v (answer %q)", run.Metrics, run.Result.PerItem[0].Answer)
	}
	rec, err := evaluate.LoadRecord(t.Context(), p.store, run.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Config["judge_model"] != "gpt-4o-mini" || rec.Config["judge_prompt_version"] != judge.PromptVersion ||
		rec.Config["judge_rubric_sha256"] != judge.ParseRubric("- Never say \"As an AI\".").Hash() {
		t.Errorf("record config %v", rec.Config)
	}
	if len(srv.Requests()) != 3 {
		t.Errorf("%d judge calls, want 3", len(srv.Requests()))
	}
	// --judge-model overrides; a model the endpoint does not have leaves
	// the run, answered and stored, unjudged with the endpoint's error.
	missing, err := p.EvalQA(t.Context(), QAEval{Items: items, Path: "qa.jsonl", JudgeModel: "missing-model"})
	if err != nil {
		t.Fatal(err)
	}
	if j := missing.Result.Answer.Judge; j == nil || !strings.Contains(j.Failed, "404") || len(missing.Result.PerItem) != len(items) {
		t.Errorf("an unknown judge model: %+v", j)
	}
	if _, err := evaluate.LoadRecord(t.Context(), p.Store(), missing.RunID); err != nil {
		t.Errorf("the unjudged run was not stored: %v", err)
	}
}
