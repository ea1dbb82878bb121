package finetune

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMethodOfAndDecodeJobs(t *testing.T) {
	dir := t.TempDir()
	chat := filepath.Join(dir, "chat.jsonl")
	var lines []string
	for range 10 {
		lines = append(lines, `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}`)
	}
	os.WriteFile(chat, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if m, err := MethodOf(chat, ""); err != nil || m != "supervised" {
		t.Errorf("MethodOf(chat) = %q, %v", m, err)
	}
	if _, err := MethodOf(chat, "dpo"); err == nil {
		t.Error("--method dpo on a supervised file was accepted")
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("not json\n"), 0o644)
	if _, err := MethodOf(bad, ""); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("MethodOf(bad) = %v", err)
	}
	raw, _ := json.Marshal(Job{ID: "ftjob-1", Status: "succeeded", FineTunedModel: "ft:x"})
	jobs, err := DecodeJobs([]json.RawMessage{raw})
	if err != nil || len(jobs) != 1 || jobs[0].FineTunedModel != "ft:x" {
		t.Errorf("DecodeJobs = %+v, %v", jobs, err)
	}
	if _, err := DecodeJobs([]json.RawMessage{json.RawMessage(`{`)}); err == nil {
		t.Error("a broken record was decoded")
	}
}

func TestPrepareFileWritesOnlySoundData(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "ex.jsonl")
	var lines []string
	for i := range 12 {
		lines = append(lines, `{"question":"q`+string(rune('a'+i))+`","answer":"an answer"}`)
	}
	os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n{oops\n"), 0o644)
	rep, err := PrepareFile(FileRequest{Path: src, Options: Options{Model: "gpt-4o-mini", ValidationSplit: 0.1, Seed: 1}})
	if err != nil || len(rep.Errors) != 1 || len(rep.Files) != 0 {
		t.Fatalf("with a bad line: %+v, %v", rep, err)
	}
	rep, err = PrepareFile(FileRequest{Path: src, DropInvalid: true, Options: Options{Model: "gpt-4o-mini", ValidationSplit: 0.1, Seed: 1},
		Rewrite: func(exs []Example) ([]Example, string, error) { return exs, "rewritten", nil }})
	if err != nil || rep.Valid != 12 || rep.Files["train"] == "" || !strings.Contains(strings.Join(rep.Warnings, ";"), "rewritten") {
		t.Fatalf("--drop-invalid: %+v, %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "finetune", "train.jsonl")); err != nil {
		t.Errorf("train.jsonl beside the input: %v", err)
	}
}
