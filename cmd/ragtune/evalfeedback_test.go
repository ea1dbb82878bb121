package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/finetune"
)

// feedbackServer is a served project with feedback on and a read key.
type feedbackServer struct {
	t        *testing.T
	dir, url string
	key      string
}

func (s feedbackServer) post(path string, body any) (int, map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// ask asks and returns the interaction ID.
func (s feedbackServer) ask(question string, history ...map[string]string) string {
	s.t.Helper()
	code, out := s.post("/v1/ask", map[string]any{"question": question, "history": history})
	id, _ := out["interaction_id"].(string)
	if code != 200 || id == "" {
		s.t.Fatalf("ask %q: %d %v", question, code, out)
	}
	return id
}

func (s feedbackServer) rate(id, rating, correction string) {
	s.t.Helper()
	if code, out := s.post("/v1/feedback", map[string]string{"interaction_id": id, "rating": rating, "correction": correction}); code != 204 {
		s.t.Fatalf("rating %s: %d %v", id, code, out)
	}
}

// startFeedbackServer makes a project of a few notes, turns feedback on
// in its ragtune.toml and serves it as a process.
func startFeedbackServer(t *testing.T) feedbackServer {
	t.Helper()
	dir := initProject(t)
	notes := map[string]string{
		"keys.md":    "# Keys\n\nSigning keys rotate every ninety days. To rotate a key by hand, run the rotate command.\n",
		"backups.md": "# Backups\n\nBackups run every night at two in the morning. Backups are kept for thirty days.\n",
		"deploys.md": "# Deploys\n\nDeploys go out on Tuesdays and Thursdays. A deploy is rolled back with the revert button.\n",
	}
	os.MkdirAll(filepath.Join(dir, "notes"), 0o755)
	for name, text := range notes {
		os.WriteFile(filepath.Join(dir, "notes", name), []byte(text), 0o644)
	}
	if _, errOut, code := cli(t, dir, "ingest", filepath.Join(dir, "notes")); code != 0 {
		t.Fatal(errOut)
	}
	toml := filepath.Join(dir, "ragtune.toml")
	raw, _ := os.ReadFile(toml)
	if n := strings.Count(string(raw), "\nenabled = false\n"); n != 1 {
		t.Fatalf("the template has %d feedback switches", n)
	}
	os.WriteFile(toml, bytes.Replace(raw, []byte("\nenabled = false\n"), []byte("\nenabled = true\n"), 1), 0o644)
	out, errOut, code := cli(t, dir, "keys", "add", "support-ui", "--scope", "read", "--json")
	if code != 0 {
		t.Fatal(errOut)
	}
	_, url := startServe(t, dir)
	return feedbackServer{t: t, dir: dir, url: url, key: decode(t, out)["key"].(string)}
}

// TestFeedbackExport goes from use to test set and training data: a
// served project records answers, users rate them, export writes a QA
// file eval reads and chat examples tune prepare accepts.
func TestFeedbackExport(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	s := startFeedbackServer(t)
	questions := []string{"How often do signing keys rotate?", "How do I rotate a signing key by hand?", "When do backups run?",
		"How long are backups kept?", "On which days do deploys go out?", "How is a deploy rolled back?", "What rotates every ninety days?",
		"What runs every night at two in the morning?", "What is rolled back with the revert button?", "Are backups kept for thirty days?"}
	approved := 0
	for _, q := range questions {
		s.rate(s.ask(q), "up", "")
		approved++
	}
	corrected := s.ask("When do signing keys rotate?")
	s.rate(corrected, "up", "")
	s.rate(corrected, "down", "Every 90 days, or by hand with the rotate command.") // the newer rating replaces the first
	s.rate(s.ask("At what time do the nightly backups start?"), "down", "")
	followUp := s.ask("And how long are they kept?", map[string]string{"role": "user", "content": "When do backups run?"},
		map[string]string{"role": "assistant", "content": "Every night at two [1]."})
	s.rate(followUp, "up", "")
	s.ask("Who wrote the deploy notes?") // never rated

	out, errOut, code := cli(t, s.dir, "eval", "feedback", "list", "--json")
	if code != 0 {
		t.Fatalf("list: exit %d %s", code, errOut)
	}
	var list struct {
		Interactions []map[string]any `json:"interactions"`
	}
	if json.Unmarshal([]byte(out), &list); len(list.Interactions) != 14 || list.Interactions[0]["key_name"] != "support-ui" {
		t.Fatalf("list: %.600s", out)
	}
	if out, _, _ := cli(t, s.dir, "eval", "feedback", "list", "--rating", "down"); strings.Count(out, "\n") != 2 || !strings.Contains(out, "down+fix") {
		t.Errorf("list --rating down:\n%s", out)
	}

	qa, chat := filepath.Join(s.dir, "qa.jsonl"), filepath.Join(s.dir, "chat.jsonl")
	out, errOut, code = cli(t, s.dir, "eval", "feedback", "export", "--qa", qa, "--chat", chat, "--since", "1h", "--json")
	if code != 0 {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	rep := decode(t, out)
	skipped := rep["skipped"].(map[string]any)
	if rep["interactions"] != 13.0 || rep["qa_items"] != float64(approved+1) || rep["chat_examples"] != float64(approved+2) ||
		skipped["down_without_correction"] != 1.0 || skipped["follow_up_not_in_qa"] != 1.0 {
		t.Errorf("export report %v", rep)
	}
	items, err := evaluate.LoadQA(qa)
	if err != nil {
		t.Fatal(err)
	}
	byOrigin := map[string]evaluate.QAItem{}
	answered := 0
	for _, it := range items {
		byOrigin[it.Origin] = it
		if it.Kind != "feedback" || it.ID == "" {
			t.Errorf("item %+v", it)
		}
		if it.ShouldAnswer() && len(it.Answers) > 0 && len(it.GoldDocIDs) > 0 && strings.HasPrefix(it.GoldDocIDs[0], "notes/") {
			answered++
		}
	}
	if c := byOrigin[corrected]; len(c.Answers) != 1 || c.Answers[0] != "Every 90 days, or by hand with the rotate command." || len(c.GoldDocIDs) != 0 {
		t.Errorf("the corrected item: %+v", c)
	}
	if _, ok := byOrigin[followUp]; ok || answered == 0 {
		t.Errorf("follow-up in the QA file, or no approved answer with its cited notes (%d): %+v", answered, items)
	}
	if _, errOut, code := cli(t, s.dir, "tune", "prepare", chat, "--out", filepath.Join(s.dir, "ft"), "--json"); code != 0 {
		t.Errorf("tune prepare on the exported chat file: exit %d %s", code, errOut)
	}
	exs, problems, err := finetune.Read(chat, "")
	if err != nil || len(problems) != 0 {
		t.Fatalf("reading the chat file: %v %v", problems, err)
	}
	var withHistory int
	for _, ex := range exs {
		if ex.Messages[0].Role != "system" || ex.Messages[len(ex.Messages)-1].Role != "assistant" || strings.Contains(ex.Messages[len(ex.Messages)-1].Content, "[1]") {
			t.Errorf("example %+v", ex.Messages)
		}
		if len(ex.Messages) == 5 {
			withHistory++
		}
	}
	if withHistory != 1 {
		t.Errorf("%d examples carry the follow-up's history, want 1", withHistory)
	}
	if _, _, code := cli(t, s.dir, "eval", "feedback", "export", "--qa", qa, "--since", time.Now().Add(time.Hour).Format(time.RFC3339)); code != 0 {
		t.Errorf("export of nothing: exit %d", code)
	}
}

func TestFeedbackExportUsage(t *testing.T) {
	dir := initProject(t)
	for _, args := range [][]string{
		{"eval", "feedback", "export"},
		{"eval", "feedback", "export", "--qa", "x.jsonl", "--rating", "sideways"},
		{"eval", "feedback", "export", "--qa", "x.jsonl", "--rating", "unrated"},
		{"eval", "feedback", "list", "--since", "last tuesday"},
		{"eval", "feedback", "bogus"},
	} {
		if _, errOut, code := cli(t, dir, args...); code != exitUsage || errOut == "" {
			t.Errorf("%q: exit %d %s; want %d with a message", args, code, errOut, exitUsage)
		}
	}
	if out, _, code := cli(t, dir, "eval", "feedback", "list"); code != 0 || !strings.Contains(out, "enabled = true") {
		t.Errorf("list with nothing recorded: exit %d %s", code, out)
	}
}

// TestFeedbackOnPreviousReleaseStore: a store from before feedback lists
// nothing, and once served with feedback on records and rates.
func TestFeedbackOnPreviousReleaseStore(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/store-v1")); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := cli(t, dir, "eval", "feedback", "list", "--json"); code != 0 || !strings.Contains(out, `"interactions": []`) {
		t.Fatalf("list on the old store: exit %d %s %s", code, out, errOut)
	}
	f, err := os.OpenFile(filepath.Join(dir, "ragtune.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[feedback]\nenabled = true\n")
	f.Close()
	_, url := startServe(t, dir, "--insecure-local")
	s := feedbackServer{t: t, dir: dir, url: url}
	s.rate(s.ask("Why is an unchanged file skipped on the next ingest?"), "up", "")
	out, errOut, code := cli(t, dir, "eval", "feedback", "list")
	if code != 0 || !strings.Contains(out, " up ") || strings.Count(out, "\n") != 1 {
		t.Errorf("list after one rated answer: exit %d %s %s", code, out, errOut)
	}
}
