package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestTemplateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := WriteDefault(path, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteDefault(path, false); err == nil {
		t.Fatal("second WriteDefault overwrote the file without force")
	}
	cfg, err := Load(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Dir, want.File = filepath.Dir(path), path
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("template decodes to\n%+v\nwant defaults\n%+v", cfg, want)
	}
}

func TestPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, []byte("[chunk]\nsize = 300\noverlap = 20\n[retrieve]\nk = 5\n"), 0o644)
	cfg, err := Load(path, true, []string{"RAGTUNE_CHUNK_SIZE=512", "RAGTUNE_INGEST_EXCLUDE=a/**, b", "HOME=/x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Chunk.Size != 512 || cfg.Chunk.Overlap != 20 || cfg.Retrieve.K != 5 {
		t.Errorf("size/overlap/k = %d/%d/%d, want 512 (env) / 20 (file) / 5 (file)", cfg.Chunk.Size, cfg.Chunk.Overlap, cfg.Retrieve.K)
	}
	if !reflect.DeepEqual(cfg.Ingest.Exclude, []string{"a/**", "b"}) {
		t.Errorf("exclude = %q", cfg.Ingest.Exclude)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[chunk]\nsise = 3\n"), 0o644)
	tests := []struct {
		path     string
		required bool
		env      []string
		want     string
	}{
		{bad, true, nil, `unknown setting "chunk.sise"`},
		{filepath.Join(dir, "missing.toml"), true, nil, "does not exist"},
		{filepath.Join(dir, "missing.toml"), false, []string{"RAGTUNE_CHUNK_SIZE=big"}, "not an integer"},
		{filepath.Join(dir, "missing.toml"), false, []string{"RAGTUNE_GENERATE_OPENAI_EXAMPLES=x"}, "cannot be set from the environment"},
	}
	for _, tc := range tests {
		_, err := Load(tc.path, tc.required, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) error = %v, want %q", tc.path, err, tc.want)
		}
	}
	cfg := Default()
	cfg.Retrieve.K = 0
	if cfg.Validate() == nil {
		t.Error("k = 0 validated")
	}
}

func TestSet(t *testing.T) {
	cfg := Default()
	for k, v := range map[string]string{"chunk.size": "512", "retrieve.mode": "lexical", "answer.min_support": "0.25", "chunk.strategy": "markdown"} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Chunk.Size != 512 || cfg.Answer.MinSupport != 0.25 || cfg.Chunk.Strategy != "markdown" {
		t.Errorf("after Set: %+v", cfg)
	}
	for _, bad := range [][2]string{{"chunk.sise", "1"}, {"size", "1"}, {"chunk.size", "big"}} {
		if err := cfg.Set(bad[0], bad[1]); err == nil {
			t.Errorf("Set(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestNestedEnv(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "none.toml"), false, []string{"RAGTUNE_EMBED_PROVIDER=openai", "RAGTUNE_EMBED_OPENAI_MODEL=nomic-embed-text", "RAGTUNE_EMBED_OPENAI_DIMENSIONS=768"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Embed.Provider != "openai" || cfg.Embed.OpenAI.Model != "nomic-embed-text" || cfg.Embed.OpenAI.Dimensions != 768 {
		t.Errorf("embed = %+v", cfg.Embed)
	}
}

func TestCollections(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "hr.toml")
	os.WriteFile(other, []byte("[retrieve]\nk = 5\n"), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[retrieve]\nmode = \"fuzzy\"\n"), 0o644)
	got, err := Collections("eng", Default(), []string{"hr=" + other}, nil)
	if err != nil || len(got) != 2 || got["hr"].Retrieve.K != 5 || got["eng"].Retrieve.K != Default().Retrieve.K {
		t.Fatalf("Collections = %v, %v", got, err)
	}
	for _, specs := range [][]string{{"hr"}, {"=x.toml"}, {"eng=" + other}, {"x=" + bad}} {
		if _, err := Collections("eng", Default(), specs, nil); !errors.Is(err, ErrBadCollection) {
			t.Errorf("Collections(%q): %v; want ErrBadCollection", specs, err)
		}
	}
	if _, err := Collections("eng", Default(), []string{"x=" + filepath.Join(dir, "missing.toml")}, nil); err == nil || errors.Is(err, ErrBadCollection) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	named := filepath.Join(dir, "named.toml")
	os.WriteFile(named, []byte("[retrieve]\nk = 7\n"), 0o644)
	if cfg, err := Find(named, nil); err != nil || cfg.Retrieve.K != 7 {
		t.Errorf("named file: %v %v", cfg.Retrieve.K, err)
	}
	if cfg, err := Find("", []string{"RAGTUNE_CONFIG=" + named}); err != nil || cfg.Retrieve.K != 7 {
		t.Errorf("RAGTUNE_CONFIG: %v %v", cfg.Retrieve.K, err)
	}
	if _, err := Find("", []string{"RAGTUNE_CONFIG=" + filepath.Join(dir, "missing.toml")}); err == nil {
		t.Error("a missing RAGTUNE_CONFIG file was accepted")
	}
	if _, err := Find(filepath.Join(dir, "missing.toml"), nil); err == nil {
		t.Error("a missing named file was accepted")
	}
}

// TestFeedback: off unless switched on, from the file or the
// environment; a negative retention is refused.
func TestFeedback(t *testing.T) {
	if d := Default().Feedback; d.Enabled || d.RetentionDays != 90 {
		t.Errorf("default feedback = %+v; want off, 90 days", d)
	}
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, []byte("[feedback]\nenabled = true\nretention_days = 30\n"), 0o644)
	cfg, err := Load(path, true, []string{"RAGTUNE_FEEDBACK_RETENTION_DAYS=0"})
	if err != nil || !cfg.Feedback.Enabled || cfg.Feedback.RetentionDays != 0 {
		t.Errorf("feedback = %+v, %v; want on (file), 0 days (environment)", cfg.Feedback, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("retention 0 (forever) refused: %v", err)
	}
	cfg.Feedback.RetentionDays = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "feedback.retention_days") {
		t.Errorf("retention -1: %v", err)
	}
}

// The judge takes [generate.openai]'s endpoint and key variable unless
// it names its own; a model without any endpoint is an error.
func TestJudgeSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, []byte("[generate.openai]\nbase_url = \"http://gen/v1\"\napi_key_env = \"GEN_KEY\"\n[judge]\nmodel = \"gpt-4o\"\nrubric = \"\"\"\n- Be brief.\n\"\"\"\n"), 0o644)
	cfg, err := Load(path, true, []string{"RAGTUNE_JUDGE_MAX_ITEMS=50"})
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.JudgeSettings()
	if j.BaseURL != "http://gen/v1" || j.APIKeyEnv != "GEN_KEY" || j.Model != "gpt-4o" || j.MaxItems != 50 || !strings.Contains(j.Rubric, "Be brief") {
		t.Errorf("judge settings %+v", j)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	cfg.Judge.BaseURL, cfg.Judge.APIKeyEnv = "http://judge/v1", "JUDGE_KEY"
	if j := cfg.JudgeSettings(); j.BaseURL != "http://judge/v1" || j.APIKeyEnv != "JUDGE_KEY" {
		t.Errorf("own endpoint %+v", j)
	}
	cfg = Default()
	cfg.Judge.Model = "gpt-4o"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("a judge without an endpoint: %v", err)
	}
	if Default().JudgeSettings().Enabled() {
		t.Error("judging is off by default")
	}
}
