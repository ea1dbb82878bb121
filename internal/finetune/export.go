package finetune

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Write stores the splits in OpenAI's chat JSONL and the exports local
// toolchains read (Alpaca, ShareGPT), plus an Ollama Modelfile template,
// and returns the files by kind.
func Write(dir string, train, val []Example, model string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing training files: %w", err)
	}
	files := map[string]string{}
	write := func(kind, name string, data []byte) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		files[kind] = p
		return nil
	}
	if len(train) > 0 && train[0].IsPreference() {
		return files, writePreference(write, train, val)
	}
	if err := write("train", "train.jsonl", chatJSONL(train, false)); err != nil {
		return nil, err
	}
	if len(val) > 0 {
		if err := write("validation", "validation.jsonl", chatJSONL(val, false)); err != nil {
			return nil, err
		}
	}
	alpaca, _ := json.MarshalIndent(toAlpaca(train), "", "  ")
	if err := write("alpaca", "alpaca.json", alpaca); err != nil {
		return nil, err
	}
	share, _ := json.MarshalIndent(toShareGPT(train), "", "  ")
	if err := write("sharegpt", "sharegpt.json", share); err != nil {
		return nil, err
	}
	// mlx_lm.lora --data DIR reads train.jsonl and valid.jsonl of chat
	// records; it has no per-turn weights, so they are left out.
	if err := os.MkdirAll(filepath.Join(dir, "mlx"), 0o755); err != nil {
		return nil, fmt.Errorf("writing training files: %w", err)
	}
	if err := write("mlx_train", filepath.Join("mlx", "train.jsonl"), chatJSONL(train, true)); err != nil {
		return nil, err
	}
	if len(val) > 0 {
		if err := write("mlx_valid", filepath.Join("mlx", "valid.jsonl"), chatJSONL(val, true)); err != nil {
			return nil, err
		}
	}
	if err := write("modelfile", "Modelfile", []byte(modelfile(train))); err != nil {
		return nil, err
	}
	return files, nil
}

func chatJSONL(exs []Example, dropWeights bool) []byte {
	var b strings.Builder
	for _, ex := range exs {
		msgs := ex.Messages
		if dropWeights {
			msgs = make([]Message, len(ex.Messages))
			for i, m := range ex.Messages {
				m.Weight = nil
				msgs[i] = m
			}
		}
		line, _ := json.Marshal(map[string]any{"messages": msgs})
		b.Write(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// writePreference writes DPO examples in OpenAI's format, and in TRL's
// conversational preference format (prompt / chosen / rejected) for
// local DPO training.
func writePreference(write func(kind, name string, data []byte) error, train, val []Example) error {
	openai := func(exs []Example) []byte {
		var b strings.Builder
		for _, ex := range exs {
			line, _ := json.Marshal(map[string]any{"input": map[string]any{"messages": ex.Messages},
				"preferred_output": ex.Preferred, "non_preferred_output": ex.NonPreferred})
			b.Write(line)
			b.WriteByte('\n')
		}
		return []byte(b.String())
	}
	if err := write("train", "train.jsonl", openai(train)); err != nil {
		return err
	}
	if len(val) > 0 {
		if err := write("validation", "validation.jsonl", openai(val)); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, ex := range train {
		line, _ := json.Marshal(map[string]any{"prompt": ex.Messages, "chosen": ex.Preferred, "rejected": ex.NonPreferred})
		b.Write(line)
		b.WriteByte('\n')
	}
	return write("trl_dpo", "trl-dpo.jsonl", []byte(b.String()))
}

// toAlpaca keeps single-turn examples: the last user turn as the
// instruction, the last assistant turn as the output.
func toAlpaca(exs []Example) []map[string]string {
	out := []map[string]string{}
	for _, ex := range exs {
		rec := map[string]string{"instruction": "", "input": "", "output": ""}
		for _, m := range ex.Messages {
			switch m.Role {
			case "system":
				rec["system"] = m.Content
			case "user":
				rec["instruction"] = m.Content
			case "assistant":
				rec["output"] = m.Content
			}
		}
		out = append(out, rec)
	}
	return out
}

var shareGPTRole = map[string]string{"system": "system", "user": "human", "assistant": "gpt", "tool": "tool"}

func toShareGPT(exs []Example) []map[string]any {
	out := []map[string]any{}
	for _, ex := range exs {
		var conv []map[string]string
		for _, m := range ex.Messages {
			conv = append(conv, map[string]string{"from": shareGPTRole[m.Role], "value": m.Content})
		}
		out = append(out, map[string]any{"conversations": conv})
	}
	return out
}

// modelfile is a template for serving a locally trained adapter with
// Ollama; the base model and adapter path are the user's to fill in.
func modelfile(exs []Example) string {
	system := ""
	for _, ex := range exs {
		if len(ex.Messages) > 0 && ex.Messages[0].Role == "system" {
			system = ex.Messages[0].Content
			break
		}
	}
	var b strings.Builder
	b.WriteString("# Ollama Modelfile for a model fine-tuned locally on these examples.\n")
	b.WriteString("# Set FROM to the base model you trained on and ADAPTER to the adapter your trainer wrote.\n")
	b.WriteString("FROM llama3.1:8b\nADAPTER ./adapter\n")
	if system != "" {
		fmt.Fprintf(&b, "SYSTEM \"\"\"%s\"\"\"\n", strings.ReplaceAll(system, `"""`, `"`))
	}
	return b.String()
}
