package evaluate

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/store"
)

// Record is an eval run as kept in the store's history.
type Record struct {
	ID         string                 `json:"id"`
	CreatedAt  time.Time              `json:"created_at"`
	Kind       string                 `json:"kind"` // retrieval | qa
	Dataset    string                 `json:"dataset"`
	CorpusHash string                 `json:"corpus_hash"`
	Config     map[string]any         `json:"config"`
	Metrics    map[string]float64     `json:"metrics"`
	PerQuery   map[string]QueryScores `json:"-"`
	RunFile    string                 `json:"run_file,omitempty"`
}

// NewRecordID makes a sortable, unique run ID.
func NewRecordID(t time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// RunStore keeps eval runs.
type RunStore interface {
	SaveEvalRun(ctx context.Context, r store.EvalRun) error
	EvalRuns(ctx context.Context, limit int) ([]store.EvalRun, error)
	EvalRun(ctx context.Context, id string) (store.EvalRun, error)
}

// SaveRecord stores r.
func SaveRecord(ctx context.Context, st RunStore, r Record) error {
	cfg, err := json.Marshal(r.Config)
	if err != nil {
		return err
	}
	met, err := json.Marshal(r.Metrics)
	if err != nil {
		return err
	}
	per, err := json.Marshal(r.PerQuery)
	if err != nil {
		return err
	}
	return st.SaveEvalRun(ctx, store.EvalRun{ID: r.ID, CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339Nano), Kind: r.Kind,
		Dataset: r.Dataset, CorpusHash: r.CorpusHash, Config: string(cfg), Metrics: string(met), PerQuery: string(per), RunFile: r.RunFile})
}

func fromStored(e store.EvalRun) (Record, error) {
	r := Record{ID: e.ID, Kind: e.Kind, Dataset: e.Dataset, CorpusHash: e.CorpusHash, RunFile: e.RunFile}
	r.CreatedAt, _ = time.Parse(time.RFC3339Nano, e.CreatedAt)
	if err := json.Unmarshal([]byte(e.Config), &r.Config); err != nil {
		return r, fmt.Errorf("run %s config: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(e.Metrics), &r.Metrics); err != nil {
		return r, fmt.Errorf("run %s metrics: %w", e.ID, err)
	}
	if e.PerQuery != "" {
		if err := json.Unmarshal([]byte(e.PerQuery), &r.PerQuery); err != nil {
			return r, fmt.Errorf("run %s per-query results: %w", e.ID, err)
		}
	}
	return r, nil
}

// ListRecords returns the newest runs first.
func ListRecords(ctx context.Context, st RunStore, limit int) ([]Record, error) {
	runs, err := st.EvalRuns(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(runs))
	for _, e := range runs {
		r, err := fromStored(e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// LoadRecord loads a run with its per-query results.
func LoadRecord(ctx context.Context, st RunStore, id string) (Record, error) {
	e, err := st.EvalRun(ctx, id)
	if err != nil {
		return Record{}, err
	}
	return fromStored(e)
}

// MetricDelta compares one metric between two runs.
type MetricDelta struct {
	Metric string  `json:"metric"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Delta  float64 `json:"delta"`
}

// Flip is a query whose score moved between two runs.
type Flip struct {
	Query string  `json:"query"`
	Text  string  `json:"text,omitempty"` // the query's text, when known
	A     float64 `json:"a"`
	B     float64 `json:"b"`
	Delta float64 `json:"delta"`
}

// Label is the query's text (with its ID), or its ID when the text is
// not known.
func (f Flip) Label() string {
	if f.Text == "" {
		return f.Query
	}
	return shorten(f.Text, 100) + " (" + f.Query + ")"
}

// WithTexts fills in the flips' query texts from texts (ID → text).
func WithTexts(flips []Flip, texts map[string]string) {
	for i := range flips {
		flips[i].Text = texts[flips[i].Query]
	}
}

// Diff says what changed from run A to run B.
type Diff struct {
	A             string            `json:"a"`
	B             string            `json:"b"`
	SameCorpus    bool              `json:"same_corpus"`
	ConfigChanges map[string][2]any `json:"config_changes"`
	Metrics       []MetricDelta     `json:"metrics"`
	QueryMetric   string            `json:"query_metric"`
	Improved      []Flip            `json:"improved"`
	Worsened      []Flip            `json:"worsened"`
	Unchanged     int               `json:"unchanged"`
	// Test is the paired test of B against A on QueryMetric over the
	// queries both runs scored (Delta: B's mean minus A's).
	Test Paired `json:"test"`
}

// DiffWithTexts is DiffRecords with each flipped query's text, from
// whichever run recorded it (a's first).
func DiffWithTexts(a, b Record, metric string) Diff {
	d := DiffRecords(a, b, metric)
	texts := QueryTexts(b)
	for id, text := range QueryTexts(a) {
		texts[id] = text
	}
	WithTexts(d.Improved, texts)
	WithTexts(d.Worsened, texts)
	return d
}

// DiffRecords compares a and b; per-query changes, and the paired test
// of b against a, use metric (the primary one of the run kind when
// empty) on the queries both runs scored.
func DiffRecords(a, b Record, metric string) Diff {
	if metric == "" {
		metric = PrimaryMetric(a.Kind)
	}
	d := Diff{A: a.ID, B: b.ID, SameCorpus: a.CorpusHash == b.CorpusHash, ConfigChanges: map[string][2]any{}, QueryMetric: metric}
	for _, k := range sortedKeys(a.Metrics, b.Metrics) {
		d.Metrics = append(d.Metrics, MetricDelta{k, a.Metrics[k], b.Metrics[k], b.Metrics[k] - a.Metrics[k]})
	}
	for k, va := range a.Config {
		if vb := b.Config[k]; fmt.Sprint(va) != fmt.Sprint(vb) {
			d.ConfigChanges[k] = [2]any{va, vb}
		}
	}
	for k, vb := range b.Config {
		if _, ok := a.Config[k]; !ok {
			d.ConfigChanges[k] = [2]any{nil, vb}
		}
	}
	for q, sa := range a.PerQuery {
		sb, ok := b.PerQuery[q]
		_, okA := sa[metric]
		_, okB := sb[metric]
		if !ok || !okA || !okB {
			continue
		}
		delta := sb[metric] - sa[metric]
		switch {
		case math.Abs(delta) < 1e-9:
			d.Unchanged++
		case delta > 0:
			d.Improved = append(d.Improved, Flip{Query: q, A: sa[metric], B: sb[metric], Delta: delta})
		default:
			d.Worsened = append(d.Worsened, Flip{Query: q, A: sa[metric], B: sb[metric], Delta: delta})
		}
	}
	d.Test = ComparePerQuery(a.PerQuery, b.PerQuery, metric)
	sort.Slice(d.Improved, func(i, j int) bool { return flipLess(d.Improved[i], d.Improved[j], true) })
	sort.Slice(d.Worsened, func(i, j int) bool { return flipLess(d.Worsened[i], d.Worsened[j], false) })
	return d
}

func flipLess(x, y Flip, desc bool) bool {
	if x.Delta != y.Delta {
		return (x.Delta > y.Delta) == desc
	}
	return x.Query < y.Query
}

// PrimaryMetric is the metric a run kind is judged by by default.
func PrimaryMetric(kind string) string {
	if kind == "qa" {
		return "contains"
	}
	return "ndcg@10"
}

func sortedKeys(ms ...map[string]float64) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// QueryTexts reads the query texts of a stored run from its per-query
// file (a retrieval run's .queries.jsonl beside its TREC file, a QA run's
// per-item file); empty when the file is gone, which only costs the
// texts.
func QueryTexts(r Record) map[string]string {
	texts := map[string]string{}
	path := r.RunFile
	if strings.HasSuffix(path, ".trec") {
		path = strings.TrimSuffix(path, ".trec") + ".queries.jsonl"
	}
	f, err := os.Open(path)
	if err != nil {
		return texts
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct {
			QueryID  string `json:"query_id"`
			Query    string `json:"query"`
			ID       string `json:"id"`
			Question string `json:"question"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if line.QueryID != "" {
			texts[line.QueryID] = line.Query
		} else if line.ID != "" {
			texts[line.ID] = line.Question
		}
	}
	return texts
}

// WriteText writes the diff of two runs for a person: the settings that
// changed, every metric, and the top queries that moved each way.
func (d Diff) WriteText(w io.Writer, recs [2]Record, top int) {
	fmt.Fprintf(w, "A %s  %s %s\nB %s  %s %s\n", recs[0].ID, recs[0].Kind, recs[0].Dataset, recs[1].ID, recs[1].Kind, recs[1].Dataset)
	if !d.SameCorpus {
		fmt.Fprintln(w, "warning: the runs used different corpora; per-query comparison may mislead")
	}
	for k, v := range d.ConfigChanges {
		fmt.Fprintf(w, "  setting %s: %v -> %v\n", k, v[0], v[1])
	}
	fmt.Fprintln(w)
	for _, m := range d.Metrics {
		fmt.Fprintf(w, "  %-22s %.4f -> %.4f  (%+.4f)\n", m.Metric, m.A, m.B, m.Delta)
	}
	fmt.Fprintf(w, "\n%s per query: %d better, %d worse, %d unchanged\n", d.QueryMetric, len(d.Improved), len(d.Worsened), d.Unchanged)
	fmt.Fprintln(w, d.Test.Verdict("B", "A"))
	for _, part := range []struct {
		name  string
		flips []Flip
	}{{"better", d.Improved}, {"worse", d.Worsened}} {
		for _, f := range part.flips[:min(top, len(part.flips))] {
			fmt.Fprintf(w, "  %-6s %-60s %.3f -> %.3f\n", part.name, strings.TrimSpace(f.Label()), f.A, f.B)
		}
	}
}
