package project

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/testset"
)

// teamDocs are a small team's documents: prose with definitions,
// numbers, names and a procedure under a task heading.
var teamDocs = map[string]string{
	"keys.md": `# Signing keys

A signing key is a secret that proves a token came from the gateway.

## Rotate a signing key

Run the rotation job from the operations console, then restart every gateway replica.
Signing keys rotate every 90 days, and the previous key stays valid for 7 days after a rotation.
The Platform Security team in Lisbon owns the rotation schedule.
`,
	"billing.md": `# Billing

An invoice is a monthly statement of the requests a customer made.

Invoices are sent on the 3rd day of each month by the Finance Operations team.
A customer on the Enterprise plan pays 1200 dollars a month for up to 5 million requests.
Refunds are approved by the Billing Review Board within 14 days of a request.
`,
	"outages.md": `# Outages

An incident is an unplanned interruption of the gateway service.

The on-call engineer opens an incident in the Pager Room within 10 minutes of an alert.
The longest outage lasted 47 minutes during the Frankfurt datacenter migration in 2024.
Postmortems are published to the Reliability Council within 5 working days.
`,
}

// teamProject is a project with teamDocs ingested.
func teamProject(t *testing.T) *Project {
	t.Helper()
	p, dir := initProject(t)
	p.cfg.Chunk.Size, p.cfg.Chunk.Overlap = 40, 0 // several passages per document
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	for name, text := range teamDocs {
		if err := os.WriteFile(filepath.Join(docs, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.IngestPath(t.Context(), docs, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerateOffline(t *testing.T) {
	p := teamProject(t)
	req := TestSetRequest{Options: testset.Options{Size: 6, UnanswerableShare: 0.5, Seed: 3}}
	run, err := p.GenerateTestSet(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if rep.Generator != testset.OfflineID || run.Usage != nil {
		t.Fatalf("writer %s, usage %v: want the offline writer without a model", rep.Generator, run.Usage)
	}
	if rep.ByKind[evaluate.KindAnswerable] < 4 || rep.ByKind[evaluate.KindSwappedEntity] < 1 {
		t.Fatalf("kinds %v (dropped %v): want at least 4 answerable and 1 unanswerable", rep.ByKind, rep.Dropped)
	}
	c, _ := p.Corpus(t.Context())
	docsUsed := map[string]bool{}
	for _, it := range run.Items {
		pv := it.Provenance
		if it.ReviewStatus() != evaluate.ReviewProposed || pv == nil || pv.Generator != testset.OfflineID || pv.Seed != 3 {
			t.Fatalf("%s: not a proposal with provenance: %+v", it.ID, it)
		}
		if !it.ShouldAnswer() {
			// Verified: the swapped-in text occurs in no stored chunk.
			m := regexp.MustCompile(`contains "(.*)"`).FindStringSubmatch(pv.Verified)
			if m == nil {
				t.Fatalf("%s: unanswerable without verification: %+v", it.ID, pv)
			}
			if _, df, _ := c.TermStats(t.Context(), []string{m[1]}); df[m[1]] != 0 {
				t.Fatalf("%s: %q does occur in the corpus", it.ID, m[1])
			}
			continue
		}
		docsUsed[pv.Doc] = true
		src := testset.NewSources(p).Of(t.Context(), it)
		if len(src) == 0 || src[0].Error != "" {
			t.Fatalf("%s: source passage %+v", it.ID, src)
		}
		if !strings.Contains(src[0].Text, pv.Quote) || evaluate.Contains(pv.Quote, it.Answers) != 1 || it.GoldDocIDs[0] != pv.Doc {
			t.Fatalf("%s: quote %q not in its chunk, or not holding %q", it.ID, pv.Quote, it.Answers)
		}
	}
	if len(docsUsed) != len(teamDocs) {
		t.Fatalf("items from %d documents, want all %d (sampling is stratified)", len(docsUsed), len(teamDocs))
	}
	again, err := p.GenerateTestSet(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range run.Items {
		run.Items[i].Provenance.Generated, again.Items[i].Provenance.Generated = "", ""
	}
	if !reflect.DeepEqual(run.Items, again.Items) {
		t.Fatal("the same corpus and seed gave another set")
	}
}

// fakeChat speaks the chat completions wire format (non-streamed, JSON
// mode) and answers the question writer's prompts from their passages,
// the way a careful model would, except where told to misbehave.
type fakeChat struct {
	mu        sync.Mutex
	calls     int
	badQuote  bool // quote something the passage does not say
	malformed int  // reply with broken JSON this many times
	formats   []string
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model          string                           `json:"model"`
		Messages       []struct{ Role, Content string } `json:"messages"`
		ResponseFormat struct{ Type string }            `json:"response_format"`
	}
	if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Messages) != 2 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls++
	f.formats = append(f.formats, body.ResponseFormat.Type)
	malformed := f.malformed > 0
	if malformed {
		f.malformed--
	}
	f.mu.Unlock()
	content := f.reply(body.Messages[0].Content, body.Messages[1].Content)
	if malformed {
		content = `{"question": "unterminated`
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
		"usage":   map[string]any{"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340}})
}

var numRE = regexp.MustCompile(`\b\d+\b`)

var sentenceRE = regexp.MustCompile(`[A-Z][^.\n]*\b\d+\b[^.\n]*\.`)

func (f *fakeChat) reply(system, user string) string {
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch {
	case strings.HasPrefix(system, "Decide whether"):
		return js(map[string]any{"answered": strings.Contains(user, "mascot"), "passage": 0})
	case strings.Contains(system, "does NOT answer"):
		return js(map[string]string{"question": "Which vendor supplies the gateway's hardware security modules?"})
	}
	sents := sentenceRE.FindAllString(user, -1) // sentences with a number
	if len(sents) == 0 {
		return js(map[string]string{"question": "", "answer": "", "quote": ""})
	}
	s := sents[0]
	num := numRE.FindString(s)
	q := "How many are given in: " + strings.Replace(strings.TrimSuffix(s, "."), num, "what number", 1) + "?"
	if i := strings.Index(user, "\nPassage 2"); strings.Contains(system, "BOTH passages") && i > 0 {
		first, second := sentenceRE.FindString(user[:i]), sentenceRE.FindString(user[i:])
		if first == "" || second == "" {
			return js(map[string]string{"question": "", "answer": "", "quote1": "", "quote2": ""})
		}
		n1, n2 := numRE.FindString(first), numRE.FindString(second)
		return js(map[string]string{"question": "What do these add up to: " + strings.Replace(first, n1, "x", 1) + " " + strings.Replace(second, n2, "y", 1) + "?",
			"answer": n1, "quote1": first, "quote2": second})
	}
	if f.badQuote {
		s = "The gateway was rebuilt " + num + " times."
	}
	return js(map[string]string{"question": q, "answer": num, "quote": s})
}

func modelProject(t *testing.T, f *fakeChat) *Project {
	t.Helper()
	p := teamProject(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p.cfg.Generate.Provider = "openai"
	p.cfg.Generate.OpenAI = answer.DefaultLLMConfig()
	p.cfg.Generate.OpenAI.BaseURL, p.cfg.Generate.OpenAI.Model, p.cfg.Generate.OpenAI.MaxRetries = srv.URL+"/v1", "gpt-4.1-mini", 0
	return p
}

func TestGenerateWithModel(t *testing.T) {
	f := &fakeChat{malformed: 1}
	p := modelProject(t, f)
	req := TestSetRequest{Options: testset.Options{Size: 3, UnanswerableShare: 0.67, PairShare: 0.34, Seed: 1}}
	est, err := p.EstimateTestSet(t.Context(), req)
	if err != nil || est.Calls == 0 || est.USD <= 0 || est.MaxUSD < est.USD {
		t.Fatalf("estimate %+v, %v", est, err)
	}
	run, err := p.GenerateTestSet(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if !strings.HasPrefix(rep.Generator, "llm:gpt-4.1-mini/") {
		t.Fatalf("generator %s", rep.Generator)
	}
	if rep.WriterErrs != 1 {
		t.Fatalf("writer errors %d, want the one malformed reply counted", rep.WriterErrs)
	}
	if rep.ByKind[evaluate.KindAnswerable] != 3 || rep.ByKind[testset.KindTwoPassage] != 1 || rep.ByKind[testset.KindOffPassage] != 1 {
		t.Fatalf("kinds %v, dropped %v", rep.ByKind, rep.Dropped)
	}
	u := run.Usage
	if u == nil || u.Calls != f.calls || u.PromptTokens != 300*f.calls {
		t.Fatalf("usage %+v after %d calls", u, f.calls)
	}
	if want := answer.DefaultPrices()["gpt-4.1-mini"].Cost(u.PromptTokens, u.CompletionTokens); math.Abs(u.CostUSD-want) > 1e-12 {
		t.Fatalf("cost %v, want %v", u.CostUSD, want)
	}
	for _, ft := range f.formats {
		if ft != "json_object" {
			t.Fatalf("a call without JSON mode: %v", f.formats)
		}
	}
	for _, it := range run.Items {
		if it.Kind == testset.KindOffPassage && (it.ShouldAnswer() || !strings.Contains(it.Provenance.Verified, "no answer")) {
			t.Fatalf("off-passage item %+v", it)
		}
	}
}

func TestGenerateWithModelDropsMadeUpQuotes(t *testing.T) {
	p := modelProject(t, &fakeChat{badQuote: true})
	run, err := p.GenerateTestSet(t.Context(), TestSetRequest{Options: testset.Options{Size: 2, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Report.ByKind[evaluate.KindAnswerable] != 0 || run.Report.Dropped[testset.DropQuoteNotInSource] == 0 {
		t.Fatalf("made-up quotes kept: %+v", run.Report)
	}
}

func TestGenerateStopsAtMaxCost(t *testing.T) {
	f := &fakeChat{}
	p := modelProject(t, f)
	// A call costs $0.000184 here (300 + 40 tokens), but up to $0.0008 at
	// its reply limit, which is reserved while it runs: with $0.002 no
	// more than two calls can be under way at once, and the generation
	// stops once the spent plus the reserved would pass the limit (how
	// many calls that is depends on how they overlap).
	const limit = 0.002
	run, err := p.GenerateTestSet(t.Context(), TestSetRequest{Options: testset.Options{Size: 50, Seed: 1}, MaxCostUSD: limit})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls < 2 || !strings.Contains(run.Report.Stopped, "cost limit") || len(run.Items) == 0 || run.Usage.CostUSD > limit {
		t.Fatalf("%d calls, %d items, $%.4f, stopped %q: want a stop at the limit, the items made kept, no more spent than the limit", f.calls, len(run.Items), run.Usage.CostUSD, run.Report.Stopped)
	}
}
