package advise

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/ragtune/ragtune/internal/evaluate"
)

// Evidence is what the stored eval runs say, with 95 % intervals from
// their per-question scores.
type Evidence struct {
	QA        *RunEvidence `json:"qa,omitempty"`        // the QA run the decision read
	Retrieval *RunEvidence `json:"retrieval,omitempty"` // the newest retrieval run
	Arms      []ArmRow     `json:"arms,omitempty"`      // the newest arms comparison
	// Best is the best-scoring stored run of the QA run's kind and data
	// set (the winner of an eval compare), when it is not the QA run.
	Best *BestRun `json:"best_configuration,omitempty"`
	// Runs is how many stored runs were looked at.
	Runs int `json:"runs_considered"`
}

// RunEvidence is one stored run and why it was used.
type RunEvidence struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Dataset   string         `json:"dataset"`
	CreatedAt time.Time      `json:"created_at"`
	Source    string         `json:"source"` // "--from-eval" or "newest stored run"
	Questions int            `json:"questions"`
	Metrics   []MetricCI     `json:"metrics"`
	Config    map[string]any `json:"config,omitempty"`
}

// MetricCI is a run's mean of one metric with its 95 % bootstrap
// interval; Interval is nil when the run kept no per-question scores
// of it.
type MetricCI struct {
	Name     string             `json:"metric"`
	Mean     float64            `json:"mean"`
	Interval *evaluate.Interval `json:"ci95,omitempty"`
}

// ArmRow is one arm of an arms comparison, tested against base+rag.
type ArmRow struct {
	Arm       string           `json:"arm"`
	Run       string           `json:"run"`
	Accuracy  MetricCI         `json:"accuracy"`
	Behaviour *float64         `json:"behaviour_pass,omitempty"`
	VsRAG     *evaluate.Paired `json:"vs_rag,omitempty"` // nil for base+rag itself
	Model     string           `json:"generator,omitempty"`
}

// BestRun is the best stored configuration and how it differs from the
// run the decision read.
type BestRun struct {
	Run      RunEvidence       `json:"run"`
	Metric   string            `json:"metric"`
	Changes  map[string][2]any `json:"settings_changed"`
	VsChosen evaluate.Paired   `json:"vs_chosen"`
}

// Metrics shown per run kind, in this order, when the run has them.
var (
	qaMetrics        = []string{"contains", "f1", "em", "behaviour_pass", "faithfulness", "citation_precision", "abstain_rate"}
	retrievalMetrics = []string{"ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100"}
)

// Sources of the evidence.
const (
	FromFlag   = "--from-eval"
	FromNewest = "newest stored run"
)

// EvidenceRequest says where the evidence is read from.
type EvidenceRequest struct {
	Runs evaluate.RunStore
	// Chosen is the run --from-eval named, or nil: then the newest QA
	// run that answered with retrieval (a plain eval or the base+rag arm)
	// is used.
	Chosen *evaluate.Record
	Limit  int // stored runs looked at, newest first
}

// GatherEvidence reads the stored runs: the QA run the decision reads,
// the best configuration measured on its questions, the newest
// retrieval run and the newest arms comparison, each with intervals
// from its per-question scores. It returns the QA run it used (nil when
// there is none).
func GatherEvidence(ctx context.Context, req EvidenceRequest) (Evidence, *evaluate.Record, error) {
	recs, err := evaluate.ListRecords(ctx, req.Runs, req.Limit)
	if err != nil {
		return Evidence{}, nil, fmt.Errorf("listing eval runs: %w", err)
	}
	g := gatherer{ctx: ctx, st: req.Runs, recs: recs, loaded: map[string]evaluate.Record{}}
	ev := Evidence{Runs: len(recs)}
	qa, source := req.Chosen, FromFlag
	if qa != nil {
		g.loaded[qa.ID] = *qa
	} else if i := slices.IndexFunc(recs, answersWithRetrieval); i >= 0 {
		source = FromNewest
		r, err := g.load(recs[i].ID)
		if err != nil {
			return ev, nil, err
		}
		qa = &r
	}
	if qa != nil {
		ev.QA = runEvidence(*qa, source)
		if ev.Best, err = g.bestRun(*qa); err != nil {
			return ev, qa, err
		}
	}
	if i := slices.IndexFunc(recs, func(r evaluate.Record) bool { return r.Kind == "retrieval" }); i >= 0 && (qa == nil || qa.Kind != "retrieval") {
		r, err := g.load(recs[i].ID)
		if err != nil {
			return ev, qa, err
		}
		ev.Retrieval = runEvidence(r, FromNewest)
	}
	ev.Arms, err = g.armRows()
	return ev, qa, err
}

// gatherer loads the listed runs' per-question scores as it needs them
// (the listing leaves them out).
type gatherer struct {
	ctx    context.Context
	st     evaluate.RunStore
	recs   []evaluate.Record
	loaded map[string]evaluate.Record
}

func (g *gatherer) load(id string) (evaluate.Record, error) {
	if r, ok := g.loaded[id]; ok {
		return r, nil
	}
	r, err := evaluate.LoadRecord(g.ctx, g.st, id)
	if err != nil {
		return r, fmt.Errorf("reading eval run %s: %w", id, err)
	}
	g.loaded[id] = r
	return r, nil
}

// answersWithRetrieval: a QA run that is not a closed-book arm.
func answersWithRetrieval(r evaluate.Record) bool {
	arm := armOf(r)
	return r.Kind == "qa" && (arm == "" || arm == evaluate.ArmBaseRAG)
}

func armOf(r evaluate.Record) string {
	s, _ := r.Config["arm"].(string)
	return s
}

func runEvidence(r evaluate.Record, source string) *RunEvidence {
	names := retrievalMetrics
	if r.Kind == "qa" {
		names = qaMetrics
	}
	e := &RunEvidence{ID: r.ID, Kind: r.Kind, Dataset: r.Dataset, CreatedAt: r.CreatedAt, Source: source, Questions: len(r.PerQuery), Config: r.Config}
	for _, name := range names {
		if m, ok := metricCI(r, name); ok {
			e.Metrics = append(e.Metrics, m)
		}
	}
	return e
}

// metricCI is one metric of r: the stored mean, with the bootstrap
// interval of the per-question scores when they were kept. A QA run's
// answer scores average over the answerable questions only; per-question
// scores that do not average to the stored mean (runs made before
// answerability was kept with them) give no interval rather than a
// wrong one.
func metricCI(r evaluate.Record, name string) (MetricCI, bool) {
	mean, ok := r.Metrics[name]
	if !ok {
		return MetricCI{}, false
	}
	m := MetricCI{Name: name, Mean: mean}
	xs := evaluate.Values(answerableOnly(r.PerQuery), name)
	if len(xs) < 2 || math.Abs(avg(xs)-mean) > 1e-6 {
		return m, true
	}
	iv := evaluate.MeanCI(xs)
	m.Interval = &iv
	return m, true
}

// answerableOnly drops the questions marked unanswerable, over which
// no answer score is averaged.
func answerableOnly(per map[string]evaluate.QueryScores) map[string]evaluate.QueryScores {
	out := make(map[string]evaluate.QueryScores, len(per))
	for id, q := range per {
		if a, ok := q["answerable"]; !ok || a == 1 {
			out[id] = q
		}
	}
	return out
}

func avg(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// bestRun is the stored run of chosen's kind and data set with the best
// primary metric, when that is not chosen itself; arms are not
// configurations of retrieval and are left out.
func (g *gatherer) bestRun(chosen evaluate.Record) (*BestRun, error) {
	metric := evaluate.PrimaryMetric(chosen.Kind)
	best, top := "", chosen.Metrics[metric]
	for _, r := range g.recs {
		if r.Kind == chosen.Kind && r.Dataset == chosen.Dataset && armOf(r) == "" && r.ID != chosen.ID && r.Metrics[metric] > top {
			best, top = r.ID, r.Metrics[metric]
		}
	}
	if best == "" {
		return nil, nil
	}
	r, err := g.load(best)
	if err != nil {
		return nil, err
	}
	d := evaluate.DiffRecords(chosen, r, metric)
	return &BestRun{Run: *runEvidence(r, "best stored run on "+chosen.Dataset), Metric: metric, Changes: d.ConfigChanges,
		VsChosen: evaluate.ComparePerQuery(answerableOnly(chosen.PerQuery), answerableOnly(r.PerQuery), metric)}, nil
}

// armRows is the newest arms comparison: the newest run of each arm on
// the data set and question file of the newest arm run, each tested
// against base+rag on accuracy.
func (g *gatherer) armRows() ([]ArmRow, error) {
	i := slices.IndexFunc(g.recs, func(r evaluate.Record) bool { return armOf(r) != "" })
	if i < 0 {
		return nil, nil
	}
	set := func(r evaluate.Record) string { return r.Dataset + "\x00" + fmt.Sprint(r.Config["qa_file"]) }
	want := set(g.recs[i])
	newest := map[string]evaluate.Record{}
	for _, r := range g.recs[i:] {
		if arm := armOf(r); arm != "" && set(r) == want {
			if _, seen := newest[arm]; !seen {
				full, err := g.load(r.ID)
				if err != nil {
					return nil, err
				}
				newest[arm] = full
			}
		}
	}
	rag, hasRAG := newest[evaluate.ArmBaseRAG]
	var rows []ArmRow
	for _, arm := range evaluate.Arms {
		r, ok := newest[arm]
		if !ok {
			continue
		}
		acc, _ := metricCI(r, "contains")
		row := ArmRow{Arm: arm, Run: r.ID, Accuracy: acc}
		row.Model, _ = r.Config["generator"].(string)
		if v, ok := r.Metrics["behaviour_pass"]; ok {
			row.Behaviour = &v
		}
		if hasRAG && arm != evaluate.ArmBaseRAG {
			p := evaluate.ComparePerQuery(answerableOnly(rag.PerQuery), answerableOnly(r.PerQuery), "contains")
			row.VsRAG = &p
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// sortedChanges lists a settings diff in key order, for the pages.
func sortedChanges(c map[string][2]any) []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s %v → %v", k, orNone(c[k][0]), orNone(c[k][1]))
	}
	return out
}

func orNone(v any) any {
	if v == nil {
		return "(none)"
	}
	return v
}
