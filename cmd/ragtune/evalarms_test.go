package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/store"
)

var firstPassage = regexp.MustCompile(`(?s)\[1\] \([^)]*\)\n(.*?)\n\n(?:\[2\] \(|Question:)`)

// armsChat is a chat-completions server (streaming wire format) whose
// base model prefixes "As an AI" (breaking the set's banned-phrase check)
// and whose fine-tuned model does not; with passages both quote the
// first one and cite it, without passages both decline.
func armsChat(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Model    string `json:"model"`
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		user := body.Messages[len(body.Messages)-1].Content
		answer := "I do not have information about that."
		if m := firstPassage.FindStringSubmatch(user); m != nil {
			words := strings.Fields(m[1])
			answer = strings.Join(words[:min(60, len(words))], " ") + " [1]"
		}
		if !strings.HasPrefix(body.Model, "ft:") {
			answer = "As an AI, here is what I found: " + answer
		}
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion.chunk", "created": 1, "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": answer}, "finish_reason": nil}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":20,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n", len(user)/4, len(user)/4+20)
	}))
}

func TestEvalArms(t *testing.T) {
	srv := armsChat(t)
	defer srv.Close()
	dir := initProject(t)
	data, _ := filepath.Abs("../../examples/squad-mini")
	qa := filepath.Join(data, "qa.jsonl")
	arms := func(extra ...string) (map[string]map[string]any, string, int) {
		var out, errb bytes.Buffer
		args := append([]string{"--config", filepath.Join(dir, "ragtune.toml"), "eval", "arms", qa, "--corpus", data, "--limit", "20", "--json"}, extra...)
		code := run(t.Context(), args, streams{stdout: &out, stderr: &errb}, []string{"HOME=" + dir, "LLM_KEY=sk-x"})
		if code != 0 {
			return nil, errb.String(), code
		}
		res := map[string]map[string]any{}
		for _, a := range decode(t, out.String())["arms"].([]any) {
			res[a.(map[string]any)["arm"].(string)] = a.(map[string]any)
		}
		return res, errb.String(), code
	}

	// Offline: only base+rag runs, with the built-in answerer.
	res, errOut, code := arms()
	if code != 0 {
		t.Fatalf("eval arms offline: exit %d %s", code, errOut)
	}
	if res["base+rag"]["skipped"] != nil || res["base+rag"]["generator"] != "builtin-extractive" {
		t.Errorf("offline base+rag: %v", res["base+rag"])
	}
	for _, arm := range []string{"base", "fine-tuned", "fine-tuned+rag"} {
		if s, _ := res[arm]["skipped"].(string); !strings.Contains(s, "no chat endpoint") {
			t.Errorf("offline %s: %v", arm, res[arm])
		}
	}

	// With an endpoint and a base model but no fine-tuned one.
	os.WriteFile(filepath.Join(dir, "ragtune.toml"), []byte(fmt.Sprintf("[generate.openai]\nbase_url = %q\nmodel = \"base-m\"\napi_key_env = \"LLM_KEY\"\n", srv.URL+"/v1")), 0o644)
	res, errOut, code = arms()
	if code != 0 {
		t.Fatalf("eval arms: exit %d %s", code, errOut)
	}
	if s, _ := res["fine-tuned"]["skipped"].(string); !strings.Contains(s, "no fine-tuned model") {
		t.Errorf("fine-tuned arm without a model: %v", res["fine-tuned"])
	}

	// A succeeded job in the store supplies the fine-tuned model.
	st, err := store.Open(t.Context(), filepath.Join(dir, ".ragtune"))
	if err != nil {
		t.Fatal(err)
	}
	st.SaveJob(t.Context(), "ftjob-1", 1, finetune.Job{ID: "ftjob-1", Status: "succeeded", FineTunedModel: "ft:base-m:acme:x"})
	st.Close()
	res, errOut, code = arms("--report", filepath.Join(dir, "arms"))
	if code != 0 {
		t.Fatalf("eval arms: exit %d %s", code, errOut)
	}
	answer := func(arm, k string) any { return res[arm]["answer"].(map[string]any)[k] }
	for _, arm := range []string{"base", "base+rag", "fine-tuned", "fine-tuned+rag"} {
		if res[arm]["skipped"] != nil || res[arm]["run_id"] == nil {
			t.Fatalf("%s did not run: %v", arm, res[arm])
		}
	}
	if res["fine-tuned+rag"]["model"] != "ft:base-m:acme:x" {
		t.Errorf("tuned model %v", res["fine-tuned+rag"]["model"])
	}
	if answer("base+rag", "contains").(float64) <= answer("base", "contains").(float64) {
		t.Errorf("RAG should beat closed book on contains: %v vs %v", answer("base+rag", "contains"), answer("base", "contains"))
	}
	if answer("fine-tuned+rag", "behaviour_pass").(float64) <= answer("base+rag", "behaviour_pass").(float64) {
		t.Errorf("the tuned model keeps the banned phrase out: %v vs %v", answer("fine-tuned+rag", "behaviour_pass"), answer("base+rag", "behaviour_pass"))
	}
	if answer("base", "faithfulness") != nil || answer("base+rag", "faithfulness") == nil {
		t.Errorf("faithfulness is for RAG arms only: %v / %v", answer("base", "faithfulness"), answer("base+rag", "faithfulness"))
	}
	if answer("base+rag", "tokens_in").(float64) <= answer("base", "tokens_in").(float64) {
		t.Errorf("RAG prompts carry passages: tokens in %v vs %v", answer("base+rag", "tokens_in"), answer("base", "tokens_in"))
	}
	// Closed book declines every question the passages answer: its loss
	// to base+rag is significant; base+rag is the reference, not tested.
	versus := func(arm string) map[string]any { v, _ := res[arm]["versus"].(map[string]any); return v }
	if v := versus("base"); v == nil || v["against"] != "base+rag" || v["metric"] != "contains" || v["significant"] != true || v["delta"].(float64) >= 0 {
		t.Errorf("base against base+rag: %v", v)
	}
	if versus("base+rag") != nil || versus("fine-tuned+rag") == nil {
		t.Errorf("versus: reference %v, hybrid %v", versus("base+rag"), versus("fine-tuned+rag"))
	}
	if ci, _ := res["base+rag"]["ci"].(map[string]any)["contains"].(map[string]any); ci == nil || ci["lo"].(float64) > answer("base+rag", "contains").(float64) {
		t.Errorf("base+rag contains interval %v", res["base+rag"]["ci"])
	}
	if md, err := os.ReadFile(filepath.Join(dir, "arms", "arms.md")); err != nil || !strings.Contains(string(md), "| fine-tuned+rag | ft:base-m:acme:x |") || !strings.Contains(string(md), "| vs base+rag |") {
		t.Errorf("arms.md: %v\n%s", err, md)
	}
}
