package advise

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// qaRecord is a QA run of 20 answerable questions, the first `right` of
// them answered right, and one unanswerable question.
func qaRecord(id string, at time.Duration, right int, cfg map[string]any) evaluate.Record {
	per := map[string]evaluate.QueryScores{"q99": {"contains": 0, "f1": 0, "answerable": 0}}
	for i := range 20 {
		c := 0.0
		if i < right {
			c = 1
		}
		per[fmt.Sprintf("q%02d", i)] = evaluate.QueryScores{"contains": c, "f1": c, "answerable": 1}
	}
	acc := float64(right) / 20
	return evaluate.Record{ID: id, CreatedAt: t0.Add(at), Kind: "qa", Dataset: "support", Config: cfg,
		Metrics: map[string]float64{"contains": acc, "f1": acc, "behaviour_pass": 0.9, "tokens_in": 1400, "tokens_out": 120}, PerQuery: per}
}

// runStore is a real project database holding two configurations, an
// arms comparison and a retrieval run.
func runStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Create(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	arm := func(name string) map[string]any {
		return map[string]any{"arm": name, "qa_file": "support-qa.jsonl", "chunk_size": 256}
	}
	recs := []evaluate.Record{
		qaRecord("arm-base", 0, 2, arm(evaluate.ArmBase)),
		qaRecord("arm-rag", time.Minute, 8, arm(evaluate.ArmBaseRAG)),
		qaRecord("arm-tuned-rag", 2*time.Minute, 19, arm(evaluate.ArmTunedRAG)),
		qaRecord("qa-wide", time.Hour, 17, map[string]any{"chunk_size": 512, "mode": "hybrid"}),
		qaRecord("qa-narrow", 2*time.Hour, 8, map[string]any{"chunk_size": 256, "mode": "hybrid"}),
		{ID: "ret", CreatedAt: t0.Add(30 * time.Minute), Kind: "retrieval", Dataset: "scifact", Config: map[string]any{"mode": "dense"},
			Metrics: map[string]float64{"ndcg@10": 0.5}, PerQuery: map[string]evaluate.QueryScores{"a": {"ndcg@10": 0.25}, "b": {"ndcg@10": 0.75}}},
	}
	for _, r := range recs {
		if err := evaluate.SaveRecord(t.Context(), st, r); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestGatherEvidence(t *testing.T) {
	st := runStore(t)
	ev, qa, err := GatherEvidence(t.Context(), EvidenceRequest{Runs: st, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if qa == nil || qa.ID != "qa-narrow" || ev.QA.Source != FromNewest || ev.QA.Questions != 21 || ev.Runs != 6 {
		t.Fatalf("QA evidence %+v (run %v)", ev.QA, qa)
	}
	acc := ev.QA.Metrics[0]
	if acc.Name != "contains" || acc.Mean != 0.4 || acc.Interval == nil || acc.Interval.Lo >= 0.4 || acc.Interval.Hi <= 0.4 {
		t.Errorf("accuracy %+v: the interval must surround the mean over the answerable questions", acc)
	}
	if b := ev.Best; b == nil || b.Run.ID != "qa-wide" || b.Changes["chunk_size"] != [2]any{256.0, 512.0} || !b.VsChosen.Significant || b.VsChosen.MeanB != 0.85 {
		t.Errorf("best configuration %+v", ev.Best)
	}
	if ev.Retrieval == nil || ev.Retrieval.ID != "ret" || ev.Retrieval.Metrics[0].Interval == nil {
		t.Errorf("retrieval evidence %+v", ev.Retrieval)
	}
	if len(ev.Arms) != 3 || ev.Arms[0].Arm != evaluate.ArmBase || ev.Arms[1].VsRAG != nil || ev.Arms[2].Arm != evaluate.ArmTunedRAG {
		t.Fatalf("arms %+v", ev.Arms)
	}
	if tuned := ev.Arms[2].VsRAG; !tuned.Significant || tuned.Delta <= 0 || ev.Arms[0].VsRAG.Delta >= 0 {
		t.Errorf("fine-tuned+rag against base+rag %+v, base %+v", tuned, ev.Arms[0].VsRAG)
	}
	chosen, err := evaluate.LoadRecord(t.Context(), st, "qa-wide")
	if err != nil {
		t.Fatal(err)
	}
	ev, qa, err = GatherEvidence(t.Context(), EvidenceRequest{Runs: st, Chosen: &chosen, Limit: 50})
	if err != nil || qa.ID != "qa-wide" || ev.QA.Source != FromFlag || ev.Best != nil {
		t.Errorf("--from-eval the best run: %+v %v, best %+v", ev.QA, err, ev.Best)
	}
}

// TestMetricCIOldRuns: per-question scores without answerability do
// not average to the stored accuracy, and give no interval.
func TestMetricCIOldRuns(t *testing.T) {
	r := qaRecord("old", 0, 10, nil)
	for id, q := range r.PerQuery {
		delete(q, "answerable")
		r.PerQuery[id] = q
	}
	if m, ok := metricCI(r, "contains"); !ok || m.Mean != 0.5 || m.Interval != nil {
		t.Errorf("metricCI = %+v, %v", m, ok)
	}
}

func TestNextStep(t *testing.T) {
	st := runStore(t)
	ev, qa, err := GatherEvidence(t.Context(), EvidenceRequest{Runs: st, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	w := DefaultWorkload()
	req := Request{Answers: Answers{Attribution: true}, Measured: FromEval(qa.ID, qa.Metrics, &w), Evidence: &ev, Workload: w, Prices: DefaultPrices()}
	low := Advise(req).Next
	if low.Rule != RuleRetrieval || !strings.Contains(strings.Join(low.Details, " "), "run qa-wide") || low.Commands[0] != "ragtune eval diff qa-narrow qa-wide" {
		t.Errorf("poor accuracy: %+v", low)
	}
	good, bad := 0.85, 0.4
	req.Measured = &Measured{Run: "r", Accuracy: &good, BehaviourPass: &bad}
	behave := Advise(req).Next
	if behave.Rule != RuleBehaviour || !strings.Contains(behave.Details[0], "No prepared training data") || !strings.Contains(behave.Commands[0], PreparedFile) {
		t.Errorf("failing behaviour without prepared data: %+v", behave)
	}
	req.Prepared = &Prepared{Path: "ft/prepare.json", Examples: 120, Train: 108, Validation: 12, Method: "supervised", TokensPerEpoch: 50000, Epochs: 3, BilledTokens: 150000, EstimatedCostUSD: 0.45}
	rep := Advise(req)
	if !strings.Contains(rep.Next.Details[0], "120 examples") || !strings.Contains(rep.Next.Details[0], "$0.45") || rep.Next.Commands[0] != "ragtune tune start ft/train.jsonl" {
		t.Errorf("failing behaviour with prepared data: %+v", rep.Next)
	}
	if rep.Workload.TrainingTokens != 50000 || rep.Workload.Epochs != 3 {
		t.Errorf("the cost model ignores the prepared data: %+v", rep.Workload)
	}
	req.Measured, req.Prepared = &Measured{Run: "r", Accuracy: &good}, nil
	if n := Advise(req).Next; n.Rule != RuleDecided || !strings.HasPrefix(n.Text, "Keep RAG") {
		t.Errorf("good accuracy, RAG: %+v", n)
	}
}

// TestReadPrepared reads what `tune prepare --json` prints.
func TestReadPrepared(t *testing.T) {
	dir := t.TempDir()
	rep, err := finetune.PrepareFile(finetune.FileRequest{Path: "../finetune/testdata/examples.jsonl", Out: dir, DropInvalid: true,
		Options: finetune.Options{Model: "gpt-4o-mini", ValidationSplit: 0.1, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(rep)
	os.WriteFile(filepath.Join(dir, "prepare.json"), data, 0o644)
	p, err := ReadPrepared(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Examples != rep.Valid || p.Epochs != rep.Epochs || p.TokensPerEpoch*p.Epochs != rep.BilledTokens || p.EstimatedCostUSD != rep.EstimatedCostUSD {
		t.Errorf("ReadPrepared = %+v from %+v", p, rep)
	}
	os.WriteFile(filepath.Join(dir, "empty.json"), []byte(`{"valid":0}`), 0o644)
	if _, err := ReadPrepared(filepath.Join(dir, "empty.json")); err == nil {
		t.Error("a report with no valid examples was read")
	}
}

// TestDecisionMarkdown compares the Markdown page of a recommendation
// made from a real store's runs with testdata/decision.md (go test
// -update rewrites it).
func TestDecisionMarkdown(t *testing.T) {
	st := runStore(t)
	ev, qa, err := GatherEvidence(t.Context(), EvidenceRequest{Runs: st, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	w := DefaultWorkload()
	w.MonthlyRequests = 200000
	churn := &Churn{Ingests: 9, Days: 56, ChangingIngests: 4, ChangedDocs: 4, Documents: 40, ChangesPerMonth: 4 / (56.0 / 30), ChangedShare: 0.05}
	req := Request{Answers: Answers{KnowledgeChanges: true, Attribution: true}, Churn: churn,
		Sources:  Sources{Knowledge: SourceHistory, Behaviour: SourceFlag, Attribution: SourcePrompt},
		Measured: FromEval(qa.ID, qa.Metrics, &w), Evidence: &ev, Workload: w, Prices: DefaultPrices()}
	rep := Advise(req)
	var got bytes.Buffer
	if err := WriteDecisionMarkdown(&got, rep, PageInfo{Project: "/srv/acme", Made: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "decision.md")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, got.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("decision.md differs from %s (go test -update rewrites it):\n%s", golden, got.String())
	}
	var page bytes.Buffer
	if err := WriteDecisionHTML(&page, rep, PageInfo{Made: t0}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`class="verdict rag"`, `id="costs"`, "<svg", "qa-wide", "arm-tuned-rag", "measured: ingest history"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("decision.html lacks %q", want)
		}
	}
}
