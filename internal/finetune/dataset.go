// Package finetune prepares behaviour fine-tuning: it reads examples,
// validates them at least as strictly as OpenAI's data-preparation
// checks, counts tokens with the model's tokenizer, estimates the cost,
// and writes training files for providers and local toolchains.
package finetune

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ragtune/ragtune/internal/answer"
)

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name,omitempty"`
	Weight  *int   `json:"weight,omitempty"` // assistant turns: 0 excludes it from training
}

// Example is one training conversation, with the line it came from. A
// preference (DPO) example has its prompt in Messages and the two
// answers in Preferred and NonPreferred.
type Example struct {
	Line         int       `json:"-"`
	Messages     []Message `json:"messages"`
	Preferred    []Message `json:"preferred_output,omitempty"`
	NonPreferred []Message `json:"non_preferred_output,omitempty"`
}

// IsPreference reports whether ex is a DPO example.
func (ex Example) IsPreference() bool { return len(ex.Preferred) > 0 }

// Problem is a validation finding tied to an input line.
type Problem struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

var roles = map[string]bool{"system": true, "user": true, "assistant": true, "tool": true}

var messageKeys = map[string]bool{"role": true, "content": true, "name": true, "weight": true, "tool_calls": true, "tool_call_id": true}

// Read parses a JSONL file of chat examples ({"messages": [...]}) or of
// question/answer pairs ({"question","answer"}), which become a user and
// an assistant turn after the system prompt. Every bad line is reported;
// good lines are kept.
func Read(path, system string) ([]Example, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading examples: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []Example
	var problems []Problem
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		ex, ps := parseLine(n, raw, system)
		problems = append(problems, ps...)
		if len(ps) == 0 {
			out = append(out, ex)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, problems, nil
}

func parseLine(n int, raw []byte, system string) (Example, []Problem) {
	p := func(code, msg string) []Problem { return []Problem{{n, code, msg}} }
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Example{}, p("not_an_object", "not a JSON object: "+err.Error())
	}
	if _, ok := obj["preferred_output"]; ok {
		return parsePreference(n, raw)
	}
	if _, ok := obj["question"]; ok {
		return parsePair(n, raw, system)
	}
	rawMsgs, ok := obj["messages"]
	if !ok {
		return Example{}, p("missing_messages", `no "messages" list (or "question"/"answer" pair)`)
	}
	var msgObjs []map[string]json.RawMessage
	if err := json.Unmarshal(rawMsgs, &msgObjs); err != nil {
		return Example{}, p("bad_messages", `"messages" is not a list of objects`)
	}
	var problems []Problem
	for i, m := range msgObjs {
		for k := range m {
			if !messageKeys[k] {
				problems = append(problems, Problem{n, "unknown_key", fmt.Sprintf("message %d has unknown key %q", i+1, k)})
			}
		}
	}
	var msgs []Message
	if err := json.Unmarshal(rawMsgs, &msgs); err != nil {
		return Example{}, append(problems, Problem{n, "bad_messages", err.Error()})
	}
	problems = append(problems, checkMessages(n, msgs)...)
	return Example{Line: n, Messages: msgs}, problems
}

func checkMessages(n int, msgs []Message) []Problem {
	var problems []Problem
	assistant := false
	for i, m := range msgs {
		switch {
		case !roles[m.Role]:
			problems = append(problems, Problem{n, "unknown_role", fmt.Sprintf("message %d has role %q", i+1, m.Role)})
		case strings.TrimSpace(m.Content) == "":
			problems = append(problems, Problem{n, "missing_content", fmt.Sprintf("message %d (%s) has no content", i+1, m.Role)})
		}
		if m.Weight != nil && (*m.Weight != 0 && *m.Weight != 1 || m.Role != "assistant") {
			problems = append(problems, Problem{n, "bad_weight", fmt.Sprintf("message %d: weight must be 0 or 1, on assistant turns only", i+1)})
		}
		assistant = assistant || m.Role == "assistant"
	}
	if len(msgs) == 0 {
		problems = append(problems, Problem{n, "empty_messages", "no messages"})
	} else if !assistant {
		problems = append(problems, Problem{n, "no_assistant", "no assistant message to learn from"})
	}
	return problems
}

// parsePair reads {"question","answer"} or a QA test-set line
// {"question","answers":[...],"answerable":bool}: the first gold answer
// is the target, and an unanswerable question is taught to decline.
func parsePair(n int, raw []byte, system string) (Example, []Problem) {
	var pair struct {
		Question   string
		Answer     string
		Answers    []string
		Answerable *bool
	}
	if err := json.Unmarshal(raw, &pair); err != nil {
		return Example{}, []Problem{{n, "bad_pair", "question/answer fields: " + err.Error()}}
	}
	target := pair.Answer
	switch {
	case pair.Answerable != nil && !*pair.Answerable:
		target = answer.Declined // the built-in answerer's refusal, taught for questions the documents do not cover
	case target == "" && len(pair.Answers) > 0:
		target = pair.Answers[0]
	}
	ex := Example{Line: n}
	if system != "" {
		ex.Messages = append(ex.Messages, Message{Role: "system", Content: system})
	}
	ex.Messages = append(ex.Messages, Message{Role: "user", Content: pair.Question}, Message{Role: "assistant", Content: target})
	return ex, checkMessages(n, ex.Messages)
}

// parsePreference reads OpenAI's DPO format: {"input":{"messages":[…]},
// "preferred_output":[assistant], "non_preferred_output":[assistant]}.
func parsePreference(n int, raw []byte) (Example, []Problem) {
	var pref struct {
		Input struct {
			Messages []Message `json:"messages"`
		} `json:"input"`
		Preferred    []Message `json:"preferred_output"`
		NonPreferred []Message `json:"non_preferred_output"`
	}
	p := func(code, msg string) []Problem { return []Problem{{n, code, msg}} }
	if err := json.Unmarshal(raw, &pref); err != nil {
		return Example{}, p("bad_preference", "preference example: "+err.Error())
	}
	ex := Example{Line: n, Messages: pref.Input.Messages, Preferred: pref.Preferred, NonPreferred: pref.NonPreferred}
	var problems []Problem
	if len(ex.Messages) == 0 {
		return ex, p("missing_messages", `no "input.messages" prompt`)
	}
	for i, m := range ex.Messages {
		if !roles[m.Role] || m.Role == "assistant" && i == len(ex.Messages)-1 {
			problems = append(problems, Problem{n, "unknown_role", fmt.Sprintf("input message %d has role %q (the prompt must end with a user turn)", i+1, m.Role)})
		} else if strings.TrimSpace(m.Content) == "" {
			problems = append(problems, Problem{n, "missing_content", fmt.Sprintf("input message %d (%s) has no content", i+1, m.Role)})
		}
	}
	for _, out := range []struct {
		name string
		msgs []Message
	}{{"preferred_output", ex.Preferred}, {"non_preferred_output", ex.NonPreferred}} {
		if len(out.msgs) != 1 || out.msgs[0].Role != "assistant" || strings.TrimSpace(out.msgs[0].Content) == "" {
			problems = append(problems, Problem{n, "bad_preference", out.name + " must be one assistant message with content"})
		}
	}
	if len(problems) == 0 && ex.Preferred[0].Content == ex.NonPreferred[0].Content {
		problems = append(problems, Problem{n, "bad_preference", "preferred and non-preferred outputs are the same"})
	}
	return ex, problems
}
