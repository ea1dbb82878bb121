package judge

import (
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

// PromptVersion names the judge prompts below. Change it with any change
// to their wording or reply format: runs judged with different prompts
// are not comparable, and each run records the version it used.
const PromptVersion = "2026-12-06.1"

const correctnessSystem = `You grade an answer to a question against the gold (reference) answers.
- "correct": the answer states what a gold answer states. Wording, units and extra correct detail may differ.
- "partially_correct": it states only part of a gold answer, or hedges between it and something else.
- "incorrect": it contradicts the gold answers, leaves the asked fact out, or declines to answer.
Judge only the fact asked for, not style. Reply with JSON only:
{"verdict": "correct" | "partially_correct" | "incorrect", "reason": "one short sentence"}`

const faithfulnessSystem = `You check whether an answer is supported by the numbered passages it was given.
Split the answer into its atomic factual claims (leave out greetings, refusals and questions).
For each claim decide whether the passages, read on their own, state it or directly imply it;
outside knowledge does not count, and a claim that is true but not in the passages is unsupported.
Name the number of the passage that supports it, or 0 when none does. Reply with JSON only:
{"claims": [{"claim": "the claim in a few words", "supported": true | false, "passage": 0}]}
An answer without factual claims gets {"claims": []}.`

const rubricSystem = `You check an answer against a team's behaviour rubric: tone, format, terminology.
Judge each criterion on its own, from the answer's text alone, not whether the answer is correct.
Reply with JSON only, one entry per criterion, in the rubric's order, with the rubric's ids:
{"criteria": [{"id": "R1", "pass": true | false, "reason": "one short sentence"}]}`

// prompt is one judge request.
type prompt struct {
	name   string // correctness, faithfulness or rubric; names the schema too
	system string
	user   string
	schema map[string]any
}

func correctnessPrompt(it Item) prompt {
	var b strings.Builder
	fmt.Fprintf(&b, "Question: %s\n\nGold answers:\n", oneLine(it.Question))
	for _, g := range it.Gold {
		fmt.Fprintf(&b, "- %s\n", oneLine(g))
	}
	fmt.Fprintf(&b, "\nAnswer to grade:\n<answer>\n%s\n</answer>", it.Answer)
	return prompt{name: "correctness", system: correctnessSystem, user: b.String(), schema: object(map[string]any{
		"verdict": map[string]any{"type": "string", "enum": []string{"correct", "partially_correct", "incorrect"}},
		"reason":  map[string]any{"type": "string"},
	})}
}

func faithfulnessPrompt(it Item) prompt {
	var b strings.Builder
	b.WriteString("Passages:\n")
	for _, p := range it.Passages {
		fmt.Fprintf(&b, "[%d] %s\n\n", p.N, strings.TrimSpace(p.Text))
	}
	fmt.Fprintf(&b, "Answer:\n<answer>\n%s\n</answer>", it.Answer)
	claim := object(map[string]any{
		"claim":     map[string]any{"type": "string"},
		"supported": map[string]any{"type": "boolean"},
		"passage":   map[string]any{"type": "integer"},
	})
	return prompt{name: "faithfulness", system: faithfulnessSystem, user: b.String(), schema: object(map[string]any{
		"claims": map[string]any{"type": "array", "items": claim},
	})}
}

func rubricPrompt(r Rubric, it Item) prompt {
	var b strings.Builder
	b.WriteString("Rubric:\n")
	for i, c := range r.Criteria {
		fmt.Fprintf(&b, "%s: %s\n", criterionID(i), c)
	}
	fmt.Fprintf(&b, "\nQuestion: %s\n\nAnswer:\n<answer>\n%s\n</answer>", oneLine(it.Question), it.Answer)
	crit := object(map[string]any{
		"id":     map[string]any{"type": "string"},
		"pass":   map[string]any{"type": "boolean"},
		"reason": map[string]any{"type": "string"},
	})
	return prompt{name: "rubric", system: rubricSystem, user: b.String(), schema: object(map[string]any{
		"criteria": map[string]any{"type": "array", "items": crit},
	})}
}

func criterionID(i int) string { return fmt.Sprintf("R%d", i+1) }

// object is a strict JSON schema object: every property required, no
// others allowed.
func object(props map[string]any) map[string]any {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	return map[string]any{"type": "object", "properties": props, "required": sortStrings(req), "additionalProperties": false}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// format asks for the reply format the server supports.
func (p prompt) format(kind string) openai.ChatCompletionNewParamsResponseFormatUnion {
	if kind == FormatJSONObject {
		return openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	}
	return openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "ragtune_judge_" + p.name, Strict: openai.Bool(true), Schema: p.schema},
	}}
}
