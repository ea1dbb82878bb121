// Package testset makes a QA test set from a project's own documents,
// for teams that have none: passages are sampled across documents, a
// writer proposes questions with their answers and the verbatim quote
// that supports them, checks drop what would make a poor test item, and
// unanswerable twins are verified against the whole corpus. Generated
// items are proposals: `ragtune eval review` accepts, edits or rejects
// them, and the decisions are kept in the same file.
package testset

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// Source is what a set is generated from: a corpus's documents, and its
// term statistics to verify that no passage mentions what an
// unanswerable question asks about. corpus.Corpus is one.
type Source interface {
	Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error)
	Document(ctx context.Context, path string) (corpus.Document, error)
	TermStats(ctx context.Context, terms []string) (int, map[string]int, error)
}

// Passage is what a writer writes from: one chunk, or two chunks of one
// document for a question that needs both.
type Passage struct {
	Doc    corpus.DocumentInfo
	Chunks []corpus.Chunk
}

// Candidate is a proposed item before checks.
type Candidate struct {
	Question string
	Answer   string
	Quote    string // verbatim from the passage ("" for unanswerable)
	Kind     string // evaluate.KindAnswerable, KindTwoPassage, evaluate.KindSwappedEntity, KindOffPassage
	Method   string // how it was written (definition, cloze, llm…)
	// Verified says how an unanswerable candidate was checked against the
	// corpus; an unanswerable candidate without it is dropped.
	Verified string
}

// Kinds a writer may propose besides evaluate's.
const (
	KindTwoPassage = "two_passage" // needs two passages of one document
	KindOffPassage = "off_passage" // near the corpus' topics, not covered by it
)

// Writer proposes candidates for a passage.
type Writer interface {
	// ID names the writer and its version, recorded with every item.
	ID() string
	Write(ctx context.Context, p Passage) ([]Candidate, error)
}

// PairWriter is a writer that can also write a question needing two
// passages of one document, found by type assertion.
type PairWriter interface {
	Writer
	WritePair(ctx context.Context, p Passage) ([]Candidate, error)
}

// UnanswerableWriter is a writer that can also propose questions near a
// passage's topic that the corpus does not answer, each verified.
type UnanswerableWriter interface {
	Writer
	WriteUnanswerable(ctx context.Context, p Passage) ([]Candidate, error)
}

// Options shape a generation.
type Options struct {
	// Size is the number of answerable items wanted.
	Size int
	// UnanswerableShare of Size is added as verified unanswerable items.
	UnanswerableShare float64
	// PairShare of Size is asked of a PairWriter as two-passage items.
	PairShare float64
	Seed      uint64
	// Concurrency is how many passages are written at once (4 if zero);
	// their candidates are checked in passage order all the same.
	Concurrency int
	// PathPrefix limits the documents sampled.
	PathPrefix string
	// Progress reports passages written; nil reports nothing.
	Progress func(done, total int)
	// Now stamps the items; zero means time.Now.
	Now time.Time
}

// Report says what a generation did.
type Report struct {
	Generator  string         `json:"generator"`
	Seed       uint64         `json:"seed"`
	Documents  int            `json:"documents"` // documents in the corpus
	Sampled    int            `json:"sampled"`   // passages written from
	DocsUsed   int            `json:"docs_used"` // documents with at least one kept item
	Items      int            `json:"items"`     // items kept
	ByKind     map[string]int `json:"by_kind"`   // kept items by kind
	ByMethod   map[string]int `json:"by_method"` // kept items by method
	Dropped    map[string]int `json:"dropped"`   // candidates dropped, by reason
	WriterErrs int            `json:"writer_errors"`
	Stopped    string         `json:"stopped,omitempty"` // why generation ended early
	Seconds    float64        `json:"seconds"`
}

// run goes through the stages. A writer that must stop (a spent
// budget, a refused key) or an interrupt ends the writing; what was kept
// stays, with Report.Stopped saying why, and the unanswerable twins,
// which need no writer, are still made unless the run was interrupted.
func (g *generation) run(ctx context.Context) error {
	want := int(float64(g.opts.Size)*g.opts.UnanswerableShare + 0.5)
	offWant := (want + 1) / 2
	got := 0
	stages := []func(context.Context) error{g.answerable, g.pairs, func(ctx context.Context) (err error) {
		got, err = g.offPassage(ctx, offWant)
		return err
	}}
	for _, stage := range stages {
		err := stage(ctx)
		if err == nil {
			continue
		}
		if ctx.Err() == nil && !isFatal(err) {
			return err
		}
		g.rep.Stopped = err.Error()
		break
	}
	if ctx.Err() != nil {
		g.rep.Stopped = "interrupted: " + context.Cause(ctx).Error()
		return nil
	}
	return g.swapped(ctx, want-got)
}

// ErrEmptyCorpus means there is nothing to generate from.
var ErrEmptyCorpus = errors.New("the corpus holds no documents")

// Generate writes a test set from src with w. The result is the same for
// the same corpus, writer and options.
func Generate(ctx context.Context, src Source, w Writer, opts Options) ([]evaluate.QAItem, *Report, error) {
	began := time.Now()
	if opts.Now.IsZero() {
		opts.Now = began
	}
	if opts.Size <= 0 {
		opts.Size = 50
	}
	docs, err := src.Documents(ctx, opts.PathPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("listing documents: %w", err)
	}
	if len(docs) == 0 {
		return nil, nil, ErrEmptyCorpus
	}
	g := &generation{src: src, w: w, opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x7e57)),
		rep:  &Report{Generator: w.ID(), Seed: opts.Seed, Documents: len(docs), ByKind: map[string]int{}, ByMethod: map[string]int{}, Dropped: map[string]int{}},
		docs: docs, chunks: map[string][]corpus.Chunk{}}
	if err := g.run(ctx); err != nil {
		return nil, nil, err
	}
	g.rep.Items = len(g.items)
	docsUsed := map[string]bool{}
	for _, it := range g.items {
		docsUsed[it.Provenance.Doc] = true
	}
	g.rep.DocsUsed = len(docsUsed)
	g.rep.Seconds = time.Since(began).Seconds()
	return g.items, g.rep, nil
}
