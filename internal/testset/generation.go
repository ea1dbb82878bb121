package testset

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// passagesPerItem bounds the passages written from (and so a chat
// model's calls) to this many per wanted item.
const passagesPerItem = 4

type generation struct {
	src    Source
	w      Writer
	opts   Options
	rng    *rand.Rand
	rep    *Report
	docs   []corpus.DocumentInfo
	chunks map[string][]corpus.Chunk // by document path, shuffled
	items  []evaluate.QAItem
	kept   keptQuestions
}

// chunksOf reads a document's chunks once, in a seeded order.
func (g *generation) chunksOf(ctx context.Context, d corpus.DocumentInfo) ([]corpus.Chunk, error) {
	if cs, ok := g.chunks[d.Path]; ok {
		return cs, nil
	}
	doc, err := g.src.Document(ctx, d.Path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.Path, err)
	}
	cs := doc.Chunks
	for i := range cs {
		cs[i].Vector = nil // not needed; a large corpus would keep them all
	}
	g.rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	g.chunks[d.Path] = cs
	return cs, nil
}

// answerable samples passages across documents, one chunk per document
// per round (documents in a seeded order), until Size items are kept or
// the writing budget is spent. Each chunk is written from once; when
// that is not enough, the chunks' further passing candidates are taken in
// the order they were written (at most maxItemsPerChunk a chunk), so a
// small corpus still yields a full set without asking a writer twice.
func (g *generation) answerable(ctx context.Context) error {
	order := g.rng.Perm(len(g.docs))
	budget := g.opts.Size * passagesPerItem
	var written []Passage
	pending := map[string][]Candidate{} // by chunk ID
	for round := 0; len(g.items) < g.opts.Size && g.rep.Sampled < budget; round++ {
		more := false // a document still has a chunk for a later round
		var batch []Passage
		for _, i := range order {
			if len(g.items) >= g.opts.Size || g.rep.Sampled >= budget {
				break
			}
			d := g.docs[i]
			if d.Chunks > 0 && round >= d.Chunks {
				continue // known from the listing: no need to read it
			}
			cs, err := g.chunksOf(ctx, d)
			if err != nil {
				return err
			}
			if round >= len(cs) {
				continue
			}
			more = more || round+1 < len(cs)
			batch = append(batch, Passage{Doc: d, Chunks: []corpus.Chunk{cs[round]}})
			g.rep.Sampled++
			if len(batch) == g.concurrency() {
				if err := g.writeBatch(ctx, batch, pending); err != nil {
					return err
				}
				written, batch = append(written, batch...), nil
			}
		}
		if err := g.writeBatch(ctx, batch, pending); err != nil {
			return err
		}
		written = append(written, batch...)
		if !more {
			break
		}
	}
	g.revisit(written, pending)
	return nil
}

// concurrency is how many passages are written at once.
func (g *generation) concurrency() int {
	if g.opts.Concurrency > 0 {
		return g.opts.Concurrency
	}
	return 4
}

// writeBatch writes the passages at once, then keeps their candidates in
// the passages' order, so the set does not depend on which call returned
// first.
func (g *generation) writeBatch(ctx context.Context, batch []Passage, pending map[string][]Candidate) error {
	cands := make([][]Candidate, len(batch))
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, p := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cands[i], errs[i] = g.w.Write(ctx, p)
		}()
	}
	wg.Wait()
	for i, p := range batch {
		if err := g.writerFailed(ctx, errs[i]); err != nil {
			return err
		}
		if len(g.items) < g.opts.Size {
			pending[p.Chunks[0].ID] = g.keepOne(p, cands[i])
		} else {
			pending[p.Chunks[0].ID] = cands[i]
		}
		g.report(g.opts.Size)
	}
	return nil
}

// revisit takes further candidates of chunks already written from, one
// per chunk per pass, until Size items are kept or none are left.
func (g *generation) revisit(written []Passage, pending map[string][]Candidate) {
	for pass := 1; pass < maxItemsPerChunk && len(g.items) < g.opts.Size; pass++ {
		kept := false
		for _, p := range written {
			if len(g.items) >= g.opts.Size {
				return
			}
			id := p.Chunks[0].ID
			if len(pending[id]) == 0 {
				continue
			}
			n := len(g.items)
			pending[id] = g.keepOne(p, pending[id])
			kept = kept || len(g.items) > n
			g.report(g.opts.Size)
		}
		if !kept {
			return
		}
	}
}

// maxItemsPerChunk bounds the items taken from one chunk.
const maxItemsPerChunk = 3

// pairs asks a PairWriter for questions that need two chunks of one
// document.
func (g *generation) pairs(ctx context.Context) error {
	pw, ok := g.w.(PairWriter)
	want := int(float64(g.opts.Size)*g.opts.PairShare + 0.5)
	if !ok || want == 0 {
		return nil
	}
	var multi []int // documents with two chunks or more
	for i, d := range g.docs {
		if d.Chunks >= 2 {
			multi = append(multi, i)
		}
	}
	got, tried := 0, map[string]bool{}
	for tries := 0; got < want && tries < want*passagesPerItem && len(multi) > 0; tries++ {
		d := g.docs[multi[g.rng.IntN(len(multi))]]
		cs, err := g.chunksOf(ctx, d)
		if err != nil {
			return err
		}
		if len(cs) < 2 {
			continue
		}
		// Neighbouring chunks (by position in the document) are the ones
		// a question most plausibly spans.
		byOrd := slices.Clone(cs)
		slices.SortFunc(byOrd, func(a, b corpus.Chunk) int { return a.Ord - b.Ord })
		j := g.rng.IntN(len(byOrd) - 1)
		pair := []corpus.Chunk{byOrd[j], byOrd[j+1]}
		if tried[pair[0].ID] {
			continue
		}
		tried[pair[0].ID] = true
		p := Passage{Doc: d, Chunks: pair}
		cands, err := pw.WritePair(ctx, p)
		if err := g.writerFailed(ctx, err); err != nil {
			return err
		}
		if g.keptOne(p, cands) {
			got++
		}
	}
	return nil
}

// writerFailed counts a writer's failure on one passage and goes on,
// unless the context ended or the writer says to stop.
func (g *generation) writerFailed(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if isFatal(err) {
		return err
	}
	g.rep.WriterErrs++
	return nil
}

// Fatal wraps a writer error that must stop the whole generation (a
// spent budget, a rejected key) rather than skip one passage.
type Fatal struct{ Err error }

func (f Fatal) Error() string { return f.Err.Error() }
func (f Fatal) Unwrap() error { return f.Err }

func isFatal(err error) bool {
	var f Fatal
	return errors.As(err, &f)
}

// keepOne checks the candidates in order, keeps the first that passes
// and returns the ones after it.
func (g *generation) keepOne(p Passage, cands []Candidate) []Candidate {
	for i, c := range cands {
		if reason := Check(c, p); reason != "" {
			g.rep.Dropped[reason]++
			continue
		}
		if g.kept.near(c.Question) {
			g.rep.Dropped["near_duplicate"]++
			continue
		}
		g.add(p, c)
		return cands[i+1:]
	}
	return nil
}

// keptOne is keepOne for a single try: whether an item was kept.
func (g *generation) keptOne(p Passage, cands []Candidate) bool {
	n := len(g.items)
	g.keepOne(p, cands)
	return len(g.items) > n
}

func (g *generation) add(p Passage, c Candidate) {
	ids := make([]string, len(p.Chunks))
	for i, ch := range p.Chunks {
		ids[i] = ch.ID
	}
	it := evaluate.QAItem{ID: "gen-" + strconv.Itoa(len(g.items)+1), Question: c.Question, Kind: c.Kind,
		Provenance: &evaluate.Provenance{Doc: p.Doc.Path, ChunkIDs: ids, Quote: c.Quote, Generator: g.w.ID(), Method: c.Method,
			Seed: g.opts.Seed, Verified: c.Verified, Generated: g.opts.Now.UTC().Format(time.RFC3339)},
		Review: &evaluate.Review{Status: evaluate.ReviewProposed}}
	if c.Kind == evaluate.KindSwappedEntity || c.Kind == KindOffPassage {
		no := false
		it.Answerable, it.Answers, it.GoldDocIDs = &no, []string{}, []string{}
	} else {
		it.Answers, it.GoldDocIDs = []string{c.Answer}, []string{p.Doc.Path}
	}
	g.items = append(g.items, it)
	g.kept.add(c.Question)
	g.rep.ByKind[c.Kind]++
	g.rep.ByMethod[c.Method]++
}

func (g *generation) report(total int) {
	if g.opts.Progress != nil {
		g.opts.Progress(min(len(g.items), total), total)
	}
}
