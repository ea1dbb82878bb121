package judge

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/judge/judgetest"
)

const testRubric = `# Support tone
- Never say "As an AI".
- At most 12 words.
`

func newJudge(t *testing.T, srv *judgetest.Server, cfg Config) *Judge {
	t.Helper()
	cfg.BaseURL, cfg.APIKeyEnv = srv.BaseURL(), "JUDGE_KEY"
	if cfg.Model == "" {
		cfg.Model = "gpt-4o-mini"
	}
	j, err := New(cfg, Options{Getenv: func(k string) string { return map[string]string{"JUDGE_KEY": "sk-judge"}[k] },
		Prices: answer.DefaultPrices(), Rubric: ParseRubric(testRubric)})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

var keyPassages = []Passage{{N: 1, Text: "Backups run nightly at two in the morning."}, {N: 2, Text: "Signing keys rotate\nevery ninety days."}}

func TestGrade(t *testing.T) {
	srv := judgetest.New(t)
	j := newJudge(t, srv, Config{MaxRetries: 2})
	cases := []struct {
		answer       string
		grade        float64
		faithfulness float64
		rubricPass   bool
	}{
		{"Signing keys rotate every ninety days [2].", 1, 1, true},
		{"Keys do not rotate every ninety days. Ask support.", 0, 0, true},
		{"As an AI, I think they rotate yearly. Backups run nightly at two in the morning [1].", 0, 0.5, false},
		{"Signing keys rotate every year.", 0.5, 0, true},
	}
	for _, c := range cases {
		v, err := j.Grade(t.Context(), Item{Question: "How often do signing keys rotate?", Gold: []string{"every ninety days", "90 days"},
			Answer: c.answer, Passages: keyPassages})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Errors) > 0 || v.Correctness == nil || v.Faithfulness == nil || v.RubricPass == nil {
			t.Fatalf("%q: incomplete verdict %+v", c.answer, v)
		}
		if v.Correctness.Grade != c.grade || *v.Faithfulness != c.faithfulness || *v.RubricPass != c.rubricPass {
			t.Errorf("%q: grade %v faithfulness %v rubric %v; want %v %v %v (%+v)", c.answer, v.Correctness.Grade,
				*v.Faithfulness, *v.RubricPass, c.grade, c.faithfulness, c.rubricPass, v)
		}
		if v.Usage.Calls != 3 || v.Usage.PromptTokens == 0 || math.Abs(v.Usage.CostUSD-answer.DefaultPrices()["gpt-4o-mini"].Cost(v.Usage.PromptTokens, v.Usage.CompletionTokens)) > 1e-12 {
			t.Errorf("%q: usage %+v", c.answer, v.Usage)
		}
	}
	for _, r := range srv.Requests() {
		if r.Temperature == nil || *r.Temperature != 0 || r.ResponseFormat != "json_schema" || !strings.HasPrefix(r.SchemaName, "ragtune_judge_") ||
			r.Authorization != "Bearer sk-judge" || r.Model != "gpt-4o-mini" {
			t.Errorf("request %+v", r)
		}
	}
	if u := srv.Requests()[1].User; !strings.Contains(u, "[2] Signing keys rotate\nevery ninety days.") {
		t.Errorf("faithfulness prompt lacks the numbered passages: %s", u)
	}
}

// Only the parts an item allows are judged: no gold, no correctness;
// declined, no claims and correctness 0 without a call.
func TestGradeParts(t *testing.T) {
	srv := judgetest.New(t)
	j := newJudge(t, srv, Config{})
	j.rubric = Rubric{}
	v, err := j.Grade(t.Context(), Item{Question: "q", Answer: "Backups run nightly.", Passages: keyPassages})
	if err != nil || v.Correctness != nil || v.Faithfulness == nil || v.RubricPass != nil || v.Usage.Calls != 1 {
		t.Errorf("no gold, no rubric: %+v %v", v, err)
	}
	v, err = j.Grade(t.Context(), Item{Question: "q", Gold: []string{"ninety days"}, Declined: true, Answer: answer.Declined, Passages: keyPassages})
	if err != nil || v.Correctness == nil || v.Correctness.Grade != 0 || v.Correctness.Called || v.Claims != nil || v.Usage.Calls != 0 {
		t.Errorf("declined: %+v %v", v, err)
	}
}

func TestGradeRetriesAndFailures(t *testing.T) {
	srv := judgetest.New(t)
	j := newJudge(t, srv, Config{MaxRetries: 2})
	j.rubric = Rubric{}
	srv.FailNext(429, 503)
	v, err := j.Grade(t.Context(), Item{Question: "q", Gold: []string{"ninety days"}, Answer: "Every ninety days."})
	if err != nil || len(v.Errors) > 0 || v.Correctness == nil || v.Correctness.Grade != 1 || len(srv.Requests()) != 3 {
		t.Errorf("after a 429 and a 503 the third try should grade: %+v %v after %d requests", v, err, len(srv.Requests()))
	}
	srv.FailNext(500, 500, 500)
	v, err = j.Grade(t.Context(), Item{Question: "q", Gold: []string{"ninety days"}, Answer: "Every ninety days."})
	if err != nil || v.Correctness != nil || len(v.Errors) != 1 || !strings.Contains(v.Errors[0], "500") {
		t.Errorf("a call that fails its retries is an error of the item: %+v %v", v, err)
	}
	missing := newJudge(t, srv, Config{Model: "missing-model"})
	if _, err := missing.GradeAll(t.Context(), []Item{{Question: "q", Gold: []string{"x"}, Answer: "x"}}, nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("an unknown model must end the run: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := j.GradeAll(ctx, []Item{{Question: "q", Gold: []string{"x"}, Answer: "x"}}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestGradeMalformed(t *testing.T) {
	srv := judgetest.New(t)
	j := newJudge(t, srv, Config{ResponseFormat: FormatJSONObject})
	v, err := j.Grade(t.Context(), Item{Question: "q", Gold: []string{"ninety days"}, Answer: "MALFORMED ninety days", Passages: keyPassages})
	if err != nil {
		t.Fatal(err)
	}
	if v.Correctness != nil || v.Faithfulness != nil || v.RubricPass != nil || len(v.Errors) != 3 {
		t.Fatalf("malformed verdicts must not score: %+v", v)
	}
	for _, e := range v.Errors {
		if !strings.Contains(e, ErrMalformed.Error()) {
			t.Errorf("error %q", e)
		}
	}
	if r := srv.Requests()[0]; r.ResponseFormat != "json_object" {
		t.Errorf("JSON mode: %+v", r)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []string{"correct", `{"verdict":"correct"}`, `{"verdict":"yes","reason":"r"}`, `{"verdict":"correct","reason":"r"} extra`, "```json\n{\"verdict\":\"correct\",\"reason\":\"r\"}\n```"} {
		if _, err := parseCorrectness(c); !errors.Is(err, ErrMalformed) {
			t.Errorf("correctness %q: %v", c, err)
		}
	}
	if c, err := parseCorrectness(`{"verdict":"partially_correct","reason":"r","confidence":0.9}`); err != nil || c.Grade != 0.5 {
		t.Errorf("an extra key is allowed: %+v %v", c, err)
	}
	for _, c := range []string{`{}`, `{"claims":[{"claim":"a","supported":true}]}`, `{"claims":[{"claim":"a","supported":true,"passage":3}]}`, `{"claims":[{"claim":"","supported":false,"passage":0}]}`} {
		if _, err := parseClaims(c, []int{1, 2}); !errors.Is(err, ErrMalformed) {
			t.Errorf("claims %q: %v", c, err)
		}
	}
	for _, c := range []string{`{"criteria":[{"id":"R1","pass":true,"reason":""}]}`, `{"criteria":[{"id":"R1","pass":true,"reason":""},{"id":"R1","pass":false,"reason":""}]}`,
		`{"criteria":[{"id":"R1","pass":true,"reason":""},{"id":"R3","pass":true,"reason":""}]}`} {
		if _, err := parseCriteria(c, 2); !errors.Is(err, ErrMalformed) {
			t.Errorf("criteria %q: %v", c, err)
		}
	}
	got, err := parseCriteria(`{"criteria":[{"id":"R2","pass":false,"reason":"b"},{"id":"R1","pass":true,"reason":"a"}]}`, 2)
	if err != nil || got[0].ID != "R1" || got[1].Pass {
		t.Errorf("criteria come back in rubric order: %+v %v", got, err)
	}
}

func TestRubric(t *testing.T) {
	r := ParseRubric(testRubric + "\n1. Use the term \"signing key\".\n3 sentences at most.\n")
	want := []string{`Never say "As an AI".`, "At most 12 words.", `Use the term "signing key".`, "3 sentences at most."}
	if strings.Join(r.Criteria, "|") != strings.Join(want, "|") {
		t.Errorf("criteria %q", r.Criteria)
	}
	if r.Hash() == "" || r.Hash() == ParseRubric(testRubric).Hash() || (Rubric{}).Hash() != "" {
		t.Errorf("hash %q", r.Hash())
	}
	if _, err := LoadRubric(Config{Rubric: "# only a heading"}, t.TempDir()); err == nil {
		t.Error("a rubric without criteria must fail")
	}
	if _, err := LoadRubric(Config{RubricFile: "missing.md"}, t.TempDir()); err == nil {
		t.Error("a missing rubric file must fail")
	}
	if err := (Config{Model: "m", BaseURL: "u", Rubric: "a", RubricFile: "b"}).Validate(); err == nil {
		t.Error("rubric and rubric_file together must fail")
	}
}

func TestDecodeRejectsTrailingText(t *testing.T) {
	var v struct{ Verdict string }
	for _, s := range []string{`{"verdict":"correct"}}`, `{"verdict":"correct"} and more`, `{"verdict":"correct"}]`} {
		if err := decode(s, &v); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := decode("  {\"verdict\":\"correct\"}\n", &v); err != nil || v.Verdict != "correct" {
		t.Errorf("a clean reply: %v %+v", err, v)
	}
}
