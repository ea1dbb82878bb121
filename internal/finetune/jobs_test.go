package finetune

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/finetune/finetunetest"
)

func TestJobLifecycle(t *testing.T) {
	fake := finetunetest.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p, err := NewProvider(srv.URL+"/v1", "KEY", func(string) string { return "sk-test" })
	if err != nil {
		t.Fatal(err)
	}
	train := filepath.Join(t.TempDir(), "train.jsonl")
	os.WriteFile(train, []byte(`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}`+"\n"), 0o644)
	j, err := p.Start(t.Context(), StartOptions{Model: "gpt-4o-mini-2024-07-18", TrainPath: train, Suffix: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != "validating_files" || fake.Files["file-1"] == "" {
		t.Fatalf("started %+v, files %v", j, fake.Files)
	}
	var seen []string
	for !j.Finished() {
		if j, err = p.Get(t.Context(), j.ID); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, j.Status)
	}
	if strings.Join(seen, ",") != "queued,running,some_new_status,succeeded" || j.FineTunedModel == "" || j.TrainedTokens != 1234 {
		t.Errorf("states %v, job %+v", seen, j)
	}
	evs, err := p.Events(t.Context(), j.ID)
	if err != nil || len(evs) != 5 || evs[0].Message != "step 1" || evs[4].Message != "step 5" {
		t.Errorf("events across pages: %+v %v", evs, err)
	}
	bad, _ := p.Start(t.Context(), StartOptions{Model: "gpt-4o-mini-2024-07-18", TrainPath: train, Suffix: "broken"})
	if bad, _ = p.Get(t.Context(), bad.ID); bad.Status != "failed" || !strings.Contains(bad.Error, "no assistant") {
		t.Errorf("failed job %+v", bad)
	}
	c, _ := p.Start(t.Context(), StartOptions{Model: "gpt-4o-mini-2024-07-18", TrainPath: train})
	if c, err = p.Cancel(t.Context(), c.ID); err != nil || c.Status != "cancelled" || !c.Finished() {
		t.Errorf("cancelled job %+v %v", c, err)
	}
	if j.Method != "supervised" {
		t.Errorf("job method %q", j.Method)
	}
	// A DPO job over chat data is refused by the provider's validation.
	d, err := p.Start(t.Context(), StartOptions{Model: "gpt-4o-mini-2024-07-18", TrainPath: train, Method: "dpo", Beta: 0.1})
	if err != nil || d.Method != "dpo" {
		t.Fatalf("DPO start: %+v %v", d, err)
	}
	if d, _ = p.Get(t.Context(), d.ID); d.Status != "failed" || !strings.Contains(d.Error, "preferred_output") {
		t.Errorf("DPO job on chat data: %+v", d)
	}
	if _, err := p.Start(t.Context(), StartOptions{Model: "m", TrainPath: train, Beta: 0.1}); err == nil {
		t.Error("--beta was accepted for supervised training")
	}
	if _, err := NewProvider(srv.URL+"/v1", "KEY", func(string) string { return "" }); err == nil {
		t.Error("a provider without a key was created")
	}
}
