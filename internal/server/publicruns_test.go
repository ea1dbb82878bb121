package server

import (
	"encoding/json"
	"testing"

	"github.com/ragtune/ragtune/internal/store"
)

func TestScrubRun(t *testing.T) {
	r := scrubRun(store.EvalRun{Dataset: "/srv/team/.ragtune", RunFile: "/home/ana/.cache/x.jsonl",
		Config: `{"qa_file":"/srv/team/testsets/generated.jsonl","corpus":"../../data/beir","mode":"lexical","k":4,"base_url":"https://api.example.org/v1","win":"C:\\data\\qa.jsonl"}`})
	var cfg map[string]any
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"qa_file": "generated.jsonl", "corpus": "beir", "mode": "lexical", "k": 4.0, "base_url": "https://api.example.org/v1", "win": "qa.jsonl"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("%s = %v, want %v", k, cfg[k], v)
		}
	}
	if r.Dataset != ".ragtune" {
		t.Errorf("dataset %q", r.Dataset)
	}
}
