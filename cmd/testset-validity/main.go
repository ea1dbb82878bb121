// Command testset-validity measures whether a test set that `ragtune eval
// generate` writes offline ranks configurations the way a human-written
// one does: it generates a set from a public collection's corpus, runs
// the same grid of configurations on the collection's own questions and
// on the generated ones, and reports Kendall's tau between the two
// rankings with every configuration's pair of figures.
//
//	make bench-testset
//
// A retrieval collection (BEIR: corpus, queries, qrels) is scored on
// nDCG@10 with the generated questions' source documents as the relevant
// ones; a QA set (-qa, with gold answers) is scored on answers. Indexes
// are shared between the two sets (the corpus is the same).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/testset"
)

type options struct {
	dataset, qa, grid, metric, out string
	size, limit                    int
	seed                           uint64
}

func main() {
	var o options
	flag.StringVar(&o.dataset, "dataset", "../shared/datasets/scifact", "a BEIR collection")
	flag.StringVar(&o.qa, "qa", "", "a QA set with gold answers over the collection (QA mode; default: retrieval on the qrels)")
	flag.StringVar(&o.grid, "grid", "chunk.size=128,256,512;retrieve.mode=lexical,dense,hybrid", "the configurations: key=v1,v2;key=…")
	flag.StringVar(&o.metric, "metric", "", "the metric ranked (default ndcg@10, or contains for QA)")
	flag.IntVar(&o.size, "size", 300, "generated questions")
	flag.IntVar(&o.limit, "limit", 0, "QA mode: human questions used, spread over the file (0: all)")
	flag.Uint64Var(&o.seed, "seed", 1, "generation seed")
	flag.StringVar(&o.out, "out", "", "write the generated set and a results.json here")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testset-validity:", err)
		os.Exit(1)
	}
}

// Result is what the benchmark measured.
type Result struct {
	Dataset      string          `json:"dataset"`
	Metric       string          `json:"metric"`
	HumanItems   int             `json:"human_items"`
	Generated    testset.Report  `json:"generated"`
	GenerateSecs float64         `json:"generate_seconds"`
	Configs      []ConfigFigures `json:"configs"`
	KendallTau   float64         `json:"kendall_tau"`
	TopAgrees    bool            `json:"top_agrees"` // both sets pick the same best configuration
	// Of the pairs of configurations the human set tells apart
	// (paired randomisation test, p < 0.05), how many the generated set
	// orders the same way: tau also counts pairs within the human set's
	// own noise, where no test set could agree but by chance.
	SignificantPairs int `json:"significant_pairs"`
	PairsAgreeing    int `json:"significant_pairs_agreeing"`
}

// ConfigFigures is one configuration's figure on each set.
type ConfigFigures struct {
	Label     string  `json:"label"`
	Human     float64 `json:"human"`
	Generated float64 `json:"generated"`
}

func run(ctx context.Context, o options, w io.Writer) error {
	axes, err := parseGrid(o.grid)
	if err != nil {
		return err
	}
	if o.metric == "" {
		o.metric = "ndcg@10"
		if o.qa != "" {
			o.metric = "contains"
		}
	}
	if o.out == "" {
		if o.out, err = os.MkdirTemp("", "testset-validity-"); err != nil {
			return err
		}
	}
	p, err := openProject(ctx, o.out, axes)
	if err != nil {
		return err
	}
	defer p.Close()
	ds, err := evaluate.LoadBEIR(o.dataset, "test")
	if err != nil {
		return err
	}
	res := Result{Dataset: ds.Name, Metric: o.metric}
	began := time.Now()
	items, rep, err := generate(ctx, p, ds, o)
	if err != nil {
		return err
	}
	res.Generated, res.GenerateSecs = *rep, time.Since(began).Seconds()
	fmt.Fprintf(w, "generated %d questions from %s in %.1fs (%s)\n", len(items), ds.Name, res.GenerateSecs, rep.Generator)
	human, generated, err := grids(o, ds, items, axes)
	if err != nil {
		return err
	}
	res.HumanItems = len(ds.Queries) // LoadBEIR keeps only queries with a relevant document
	if o.qa != "" {
		hs, err := evaluate.LoadQA(o.qa)
		if err != nil {
			return err
		}
		res.HumanItems = len(evaluate.Spread(hs, o.limit))
	}
	hc, err := p.Compare(ctx, human, nil)
	if err != nil {
		return fmt.Errorf("the human set: %w", err)
	}
	gc, err := p.Compare(ctx, generated, nil)
	if err != nil {
		return fmt.Errorf("the generated set: %w", err)
	}
	figures(&res, hc, gc)
	printResult(w, res)
	fmt.Fprintf(w, "results and the generated set: %s\n", o.out)
	return writeJSON(filepath.Join(o.out, "results.json"), res)
}

// openProject is an evaluation project whose caches and history live in
// dir; dense configurations get the built-in embedder.
func openProject(ctx context.Context, dir string, axes map[string][]any) (*project.Project, error) {
	cfg := config.Default()
	cfg.Dir, cfg.Store.Path = dir, filepath.Join(dir, ".ragtune")
	for _, m := range axes["retrieve.mode"] {
		if m != "lexical" {
			cfg.Embed.Provider = embed.Builtin
		}
	}
	return project.OpenForEval(ctx, cfg, project.Env{Getenv: os.Getenv})
}

// generate writes the offline set from the collection's own corpus,
// indexed with the default settings.
func generate(ctx context.Context, p *project.Project, ds *evaluate.Dataset, o options) ([]evaluate.QAItem, *testset.Report, error) {
	s, err := p.OpenScratch(ctx, project.ScratchRequest{Dataset: ds, Mode: retrieve.Lexical})
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	run, err := s.GenerateTestSet(ctx, project.TestSetRequest{Writer: "offline", Options: testset.Options{Size: o.size, Seed: o.seed}})
	if err != nil {
		return nil, nil, err
	}
	return run.Items, run.Report, testset.WriteFile(filepath.Join(o.out, "generated.jsonl"), run.Items)
}

// grids are the same configurations over the human and the generated set.
func grids(o options, ds *evaluate.Dataset, items []evaluate.QAItem, axes map[string][]any) (*evaluate.Grid, *evaluate.Grid, error) {
	human := &evaluate.Grid{Split: "test", Primary: o.metric, Axes: axes}
	gen := &evaluate.Grid{Split: "test", Primary: o.metric, Axes: axes}
	if o.qa != "" {
		human.QA, human.Corpus, human.Limit = o.qa, o.dataset, o.limit
		gen.QA, gen.Corpus = filepath.Join(o.out, "generated.jsonl"), o.dataset
		return human, gen, nil
	}
	human.Dataset = o.dataset
	// The same name as the collection, so the scratch indexes are shared.
	dir := filepath.Join(o.out, "generated", ds.Name)
	if err := writeBEIR(dir, ds, items); err != nil {
		return nil, nil, err
	}
	gen.Dataset = dir
	return human, gen, nil
}

// writeBEIR makes a BEIR collection of the generated questions over the
// same corpus file (linked, so the index is shared): each question's
// source document is its one relevant document.
func writeBEIR(dir string, ds *evaluate.Dataset, items []evaluate.QAItem) error {
	if err := os.MkdirAll(filepath.Join(dir, "qrels"), 0o755); err != nil {
		return err
	}
	corpus, err := filepath.Abs(filepath.Join(ds.Dir, "corpus.jsonl"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(corpus); err != nil {
		corpus += ".gz"
	}
	link := filepath.Join(dir, filepath.Base(corpus))
	os.Remove(link)
	if err := os.Symlink(corpus, link); err != nil {
		return err
	}
	var q, r strings.Builder
	r.WriteString("query-id\tcorpus-id\tscore\n")
	for _, it := range items {
		if !it.ShouldAnswer() || len(it.GoldDocIDs) == 0 {
			continue
		}
		b, _ := json.Marshal(map[string]string{"_id": it.ID, "text": it.Question})
		q.Write(append(b, '\n'))
		fmt.Fprintf(&r, "%s\t%s\t1\n", it.ID, it.GoldDocIDs[0])
	}
	if err := os.WriteFile(filepath.Join(dir, "queries.jsonl"), []byte(q.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte(r.String()), 0o644)
}

func figures(res *Result, hc, gc evaluate.Comparison) {
	gen := map[string]float64{}
	for _, c := range gc.Cells {
		gen[c.Label] = c.Metrics[res.Metric]
	}
	var hs, gs []float64
	for _, c := range hc.Cells {
		f := ConfigFigures{Label: c.Label, Human: c.Metrics[res.Metric], Generated: gen[c.Label]}
		res.Configs = append(res.Configs, f)
		hs, gs = append(hs, f.Human), append(gs, f.Generated)
	}
	res.KendallTau = evaluate.KendallTau(hs, gs)
	for i, a := range hc.Cells {
		for _, b := range hc.Cells[i+1:] {
			t := evaluate.ComparePerQuery(b.PerQuery, a.PerQuery, res.Metric)
			if !t.Significant {
				continue
			}
			res.SignificantPairs++
			ga, gb := gen[a.Label], gen[b.Label]
			if (ga-gb)*t.Delta > 0 {
				res.PairsAgreeing++
			}
		}
	}
	res.TopAgrees = len(hc.Cells) > 0 && len(gc.Cells) > 0 && hc.Cells[0].Label == gc.Cells[0].Label
}

func printResult(w io.Writer, res Result) {
	fmt.Fprintf(w, "\n%-50s %10s %10s\n", "configuration ("+res.Metric+")", "human", "generated")
	for _, c := range res.Configs {
		fmt.Fprintf(w, "%-50s %10.4f %10.4f\n", c.Label, c.Human, c.Generated)
	}
	fmt.Fprintf(w, "\n%s: Kendall tau %.3f over %d configurations (%d human, %d generated questions); same best: %v\n",
		res.Dataset, res.KendallTau, len(res.Configs), res.HumanItems, res.Generated.Items, res.TopAgrees)
	fmt.Fprintf(w, "of the %d pairs the human set tells apart (p < 0.05), the generated set orders %d the same way\n",
		res.SignificantPairs, res.PairsAgreeing)
}

func parseGrid(s string) (map[string][]any, error) {
	axes := map[string][]any{}
	for _, part := range strings.Split(s, ";") {
		k, vs, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" || vs == "" {
			return nil, fmt.Errorf("grid part %q: want key=v1,v2", part)
		}
		for _, v := range strings.Split(vs, ",") {
			axes[k] = append(axes[k], strings.TrimSpace(v))
		}
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("empty grid")
	}
	return axes, nil
}

func writeJSON(path string, v any) error {
	return evaluate.WriteFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
