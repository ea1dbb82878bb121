package adapter

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/corpus"

	"github.com/viterin/vek/vek32"

	"github.com/ragtune/ragtune/internal/embed"
)

// Labelled is a query with the documents (store paths) that answer it.
type Labelled struct {
	ID       string
	Text     string
	Relevant map[string]int
}

// Split divides queries into training and held-out sets by a seeded
// hash of their IDs, so the same seed always holds out the same queries
// whatever order they come in.
func Split(qs []Labelled, heldOut float64, seed uint64) (train, held []Labelled) {
	for _, q := range qs {
		h := fnv.New64a()
		h.Write([]byte(strconv.FormatUint(seed, 10) + "\x00" + q.ID))
		if float64(h.Sum64()%10000)/10000 < heldOut {
			held = append(held, q)
		} else {
			train = append(train, q)
		}
	}
	return train, held
}

// Corpus is what building pairs needs from a store.
type Corpus interface {
	Document(ctx context.Context, path string) (corpus.Document, error)
	SearchDense(ctx context.Context, q corpus.DenseQuery) ([]corpus.Hit, error)
	VectorsOf(ctx context.Context, rowids []int64) (map[int64][]float32, error)
}

// BuildPairs embeds the queries with the base embedder and pairs each
// with the chunk of each relevant document that is closest to it, plus
// up to negatives hard negatives: the best-scoring chunks of documents
// not judged relevant. Relevant documents missing from the store are
// skipped; queries left with none give no pair.
func BuildPairs(ctx context.Context, c Corpus, e embed.Embedder, qs []Labelled, negatives int, progress func(done, total int)) ([]Pair, error) {
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.Text
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embedding training queries: %w", err)
	}
	docs := map[string]corpus.Document{}
	var pairs []Pair
	for i, q := range qs {
		negs, err := hardNegatives(ctx, c, vecs[i], q.Relevant, negatives)
		if err != nil {
			return nil, err
		}
		for path, grade := range q.Relevant {
			if grade <= 0 {
				continue
			}
			d, ok := docs[path]
			if !ok {
				if d, err = c.Document(ctx, path); errors.Is(err, corpus.ErrNoDocument) {
					continue
				} else if err != nil {
					return nil, err
				}
				docs[path] = d
			}
			if pos := closestChunk(d, vecs[i]); pos != nil {
				pairs = append(pairs, Pair{Query: vecs[i], Positive: pos, Negatives: negs})
			}
		}
		if progress != nil {
			progress(i+1, len(qs))
		}
	}
	return pairs, nil
}

func closestChunk(d corpus.Document, q []float32) []float32 {
	var best []float32
	var bestScore float32
	for _, ch := range d.Chunks {
		if len(ch.Vector) != len(q) {
			continue
		}
		if s := vek32.Dot(ch.Vector, q); best == nil || s > bestScore {
			best, bestScore = ch.Vector, s
		}
	}
	return best
}

func hardNegatives(ctx context.Context, c Corpus, q []float32, relevant map[string]int, n int) ([][]float32, error) {
	if n <= 0 {
		return nil, nil
	}
	hits, err := c.SearchDense(ctx, corpus.DenseQuery{Vector: q, K: n + 2*len(relevant) + 5})
	if err != nil {
		return nil, fmt.Errorf("finding hard negatives: %w", err)
	}
	var ids []int64
	for _, h := range hits {
		if relevant[h.DocPath] <= 0 && len(ids) < n {
			ids = append(ids, h.Rowid)
		}
	}
	vecs, err := c.VectorsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, 0, len(ids))
	for _, id := range ids {
		if v, ok := vecs[id]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

var sentenceEnd = regexp.MustCompile(`[^.!?\n]+[.!?]?`)

// Synthetic makes pseudo-queries from a corpus when no labelled
// questions exist: for up to n chunks, one sentence of 5–40 words taken
// from the chunk is the query and the chunk's document is the answer
// (the inverse cloze task). It is a weaker signal than real questions.
func Synthetic(ctx context.Context, c Corpus, paths []string, n int, seed uint64) ([]Labelled, error) {
	rng := rand.New(rand.NewPCG(seed, 0x51e))
	rng.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	var out []Labelled
	for _, p := range paths {
		if len(out) >= n {
			break
		}
		d, err := c.Document(ctx, p)
		if err != nil {
			return nil, err
		}
		if len(d.Chunks) == 0 {
			continue
		}
		ch := d.Chunks[rng.IntN(len(d.Chunks))]
		var cands []string
		for _, s := range sentenceEnd.FindAllString(ch.Text, -1) {
			if w := len(strings.Fields(s)); w >= 5 && w <= 40 {
				cands = append(cands, strings.TrimSpace(s))
			}
		}
		if len(cands) == 0 {
			continue
		}
		out = append(out, Labelled{ID: ch.ID, Text: cands[rng.IntN(len(cands))], Relevant: map[string]int{p: 1}})
	}
	return out, nil
}
