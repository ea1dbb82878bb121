package finetune

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
)

func counter(t *testing.T, model string) Counter {
	t.Helper()
	c, err := chunk.NewTiktokenCounter(EncodingFor(model))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testdata/examples.jsonl: 12 good examples, then one line of each kind
// of problem (lines 13-19), then a duplicate of line 1 (line 20).
func TestValidation(t *testing.T) {
	exs, problems, err := Read("testdata/examples.jsonl", "")
	if err != nil {
		t.Fatal(err)
	}
	rep, train, val := Prepare(exs, problems, counter(t, "gpt-4o-mini"), Options{Model: "gpt-4o-mini", ValidationSplit: 0.25, Seed: 1})
	want := map[int]string{13: "not_an_object", 14: "not_an_object", 15: "missing_messages", 16: "unknown_role",
		17: "missing_content", 18: "no_assistant", 19: "unknown_key", 20: "duplicate"}
	got := map[int]string{}
	for _, p := range rep.Errors {
		got[p.Line] = p.Code
	}
	for line, code := range want {
		if got[line] != code {
			t.Errorf("line %d: %q, want %q (all: %+v)", line, got[line], code, rep.Errors)
		}
	}
	if rep.Examples != 20 || rep.Valid != 12 || len(train) != 9 || len(val) != 3 || rep.Train+rep.Validation != 12 {
		t.Errorf("examples %d valid %d train %d val %d", rep.Examples, rep.Valid, len(train), len(val))
	}
	if !strings.Contains(strings.Join(rep.Warnings, " "), "only 12 examples") {
		t.Errorf("warnings %v", rep.Warnings)
	}
	// 9 training examples: 9×3 < 100, so the rule gives 100/9 = 11 epochs.
	if rep.Epochs != 11 || rep.BilledTokens != 11*sumTokens(train, counter(t, "gpt-4o-mini")) {
		t.Errorf("epochs %d billed %d", rep.Epochs, rep.BilledTokens)
	}
	if rep.EstimatedCostUSD <= 0 || rep.EstimatedCostUSD != float64(rep.BilledTokens)*3/1e6 {
		t.Errorf("cost %v", rep.EstimatedCostUSD)
	}
}

func sumTokens(exs []Example, c Counter) int {
	n := 0
	for _, ex := range exs {
		t, _ := CountTokens(ex, c)
		n += t
	}
	return n
}

// OpenAI's cookbook counts this conversation as 3 per message, the role
// and content tokens, and 3 for the reply.
func TestCountTokens(t *testing.T) {
	c := counter(t, "gpt-4o-mini")
	ex := Example{Messages: []Message{{Role: "user", Content: "Hello there"}, {Role: "assistant", Content: "Hi"}}}
	total, assistant := CountTokens(ex, c)
	want := 3 + (3 + c.Count("user") + c.Count("Hello there")) + (3 + c.Count("assistant") + c.Count("Hi"))
	if total != want || assistant != c.Count("Hi") {
		t.Errorf("tokens %d (assistant %d), want %d", total, assistant, want)
	}
}

func TestDefaultEpochs(t *testing.T) {
	for n, want := range map[int]int{1: 25, 10: 10, 34: 3, 5000: 3, 10000: 2, 30000: 1} {
		if got := DefaultEpochs(n); got != want {
			t.Errorf("DefaultEpochs(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestPairsTooFewAndExports(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "pairs.jsonl")
	os.WriteFile(in, []byte(`{"question":"What is RAG?","answer":"Retrieval before generation."}`+"\n"), 0o644)
	exs, problems, _ := Read(in, "Be brief.")
	rep, train, val := Prepare(exs, problems, counter(t, "gpt-4o-mini"), Options{Model: "gpt-4o-mini"})
	if len(rep.Errors) != 1 || rep.Errors[0].Code != "too_few" || exs[0].Messages[0].Role != "system" {
		t.Fatalf("errors %+v, messages %+v", rep.Errors, exs[0].Messages)
	}
	files, err := Write(filepath.Join(dir, "out"), train, val, "gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	var line map[string][]Message
	b, _ := os.ReadFile(files["train"])
	if json.Unmarshal(b, &line) != nil || len(line["messages"]) != 3 {
		t.Errorf("train.jsonl: %s", b)
	}
	for _, kind := range []string{"alpaca", "sharegpt", "modelfile", "mlx_train"} {
		if b, err := os.ReadFile(files[kind]); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", kind, err)
		}
	}
	if mf, _ := os.ReadFile(files["modelfile"]); !strings.Contains(string(mf), `SYSTEM """Be brief."""`) {
		t.Errorf("Modelfile:\n%s", mf)
	}
}

func writeLines(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPreferenceExamples(t *testing.T) {
	good := `{"input":{"messages":[{"role":"user","content":"Q%d"}]},"preferred_output":[{"role":"assistant","content":"Good answer [1]."}],"non_preferred_output":[{"role":"assistant","content":"Bad answer."}]}`
	var lines []string
	for i := range 12 {
		lines = append(lines, fmt.Sprintf(good, i))
	}
	lines = append(lines,
		`{"input":{"messages":[{"role":"user","content":"Q"}]},"preferred_output":[{"role":"assistant","content":"Same"}],"non_preferred_output":[{"role":"assistant","content":"Same"}]}`,
		`{"input":{"messages":[]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}`,
		`{"input":{"messages":[{"role":"user","content":"Q"}]},"preferred_output":[{"role":"user","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}`,
		`{"input":{"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}`,
		`{"messages":[{"role":"user","content":"chat"},{"role":"assistant","content":"in a DPO file"}]}`,
	)
	exs, problems, err := Read(writeLines(t, lines...), "")
	if err != nil {
		t.Fatal(err)
	}
	rep, train, val := Prepare(exs, problems, counter(t, "gpt-4o-mini"), Options{Model: "gpt-4o-mini", ValidationSplit: 0.2, Seed: 1})
	got := map[int]string{}
	for _, p := range rep.Errors {
		got[p.Line] = p.Code
	}
	want := map[int]string{13: "bad_preference", 14: "missing_messages", 15: "bad_preference", 16: "unknown_role", 17: "mixed_formats"}
	for line, code := range want {
		if got[line] != code {
			t.Errorf("line %d: %q, want %q (all %+v)", line, got[line], code, rep.Errors)
		}
	}
	if rep.Method != "dpo" || rep.Valid != 12 {
		t.Errorf("method %q valid %d", rep.Method, rep.Valid)
	}
	c := counter(t, "gpt-4o-mini")
	prompt := 3 + (3 + c.Count("user") + c.Count("Q0"))
	if n, _ := CountTokens(exs[0], c); n != prompt+(3+c.Count("assistant")+c.Count("Good answer [1]."))+(3+c.Count("assistant")+c.Count("Bad answer.")) {
		t.Errorf("a preference example counts its prompt and both answers: %d", n)
	}
	files, err := Write(t.TempDir(), train, val, "gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(files["train"])
	var rec struct {
		Input struct {
			Messages []Message `json:"messages"`
		} `json:"input"`
		Preferred []Message `json:"preferred_output"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(string(b), "\n", 2)[0]), &rec); err != nil || len(rec.Input.Messages) != 1 || rec.Preferred[0].Content != "Good answer [1]." {
		t.Errorf("train.jsonl is not OpenAI's DPO format: %s", b)
	}
	if trl, _ := os.ReadFile(files["trl_dpo"]); !strings.Contains(string(trl), `"chosen":[{"role":"assistant","content":"Good answer [1]."}]`) {
		t.Errorf("trl-dpo.jsonl: %s", trl)
	}
	if files["alpaca"] != "" {
		t.Error("preference data has no Alpaca form")
	}
}

// A QA test set (the eval format) is training data too: the first gold
// answer is the target, unanswerable questions are taught to decline.
func TestQASetAsExamples(t *testing.T) {
	exs, problems, err := Read(writeLines(t,
		`{"id":"q1","question":"Where is the Eiffel Tower?","answers":["Paris","in Paris"],"gold_doc_ids":["d1"]}`,
		`{"id":"q2","question":"Who won in 2090?","answers":[],"answerable":false}`,
	), "Answer from the documents.")
	if err != nil || len(problems) != 0 || len(exs) != 2 {
		t.Fatalf("%v %+v", err, problems)
	}
	if got := exs[0].Messages[2].Content; got != "Paris" {
		t.Errorf("answer %q, want the first gold answer", got)
	}
	if got := exs[1].Messages[2].Content; got != answer.Declined {
		t.Errorf("unanswerable question taught %q", got)
	}
}
