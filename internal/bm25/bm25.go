// Package bm25 is an in-memory inverted index that finds the k best
// documents for a keyword query without scoring every match: block-max
// WAND (Ding and Suel, 2011) over posting lists cut into blocks that
// each know the best score any of their documents can reach.
//
// Scores are SQLite FTS5's bm25() to the last bit (k1 = 1.2, b = 0.75,
// IDF = ln((N − n + 0.5)/(n + 0.5)) floored at 1e-6, a document's length
// counted over all its columns, each query phrase summed in order), so an
// index built from an FTS5 table's own tokens ranks exactly as
// `ORDER BY bm25(...)` does, ties broken on the lower document number.
//
// An Index is immutable once built and safe for concurrent searches; a
// changed corpus gets a new Index (Merge applies a change set to an old
// one without re-reading everything).
package bm25

import (
	"math"

	"modernc.org/libc"
)

// FTS5's bm25() constants.
const (
	K1 = 1.2
	B  = 0.75
)

// BlockSize is how many postings share one block-max bound.
const BlockSize = 64

// Index holds posting lists by term. Term t's postings are
// docs[off[t]:off[t+1]] (ascending) with their term frequencies in
// freq; its blocks are bmax[boff[t]:boff[t+1]], each the largest
// frequency part of the score (see part) any posting of the block has.
type Index struct {
	terms map[string]int32
	names []string // by term number, sorted
	off   []uint32
	docs  []uint32
	freq  []uint32
	boff  []uint32
	bmax  []float32
	// dl is each document's length in tokens by document number, for
	// the documents in live; norm the length part of its score.
	dl     []uint32
	live   []uint32 // the documents, ascending
	tokens uint64   // the sum of dl
	norm   []float64
	avgdl  float64
}

// Docs is the number of documents (N in the IDF).
func (x *Index) Docs() int { return len(x.live) }

// Terms is the number of distinct terms.
func (x *Index) Terms() int { return len(x.names) }

// Postings is the number of (term, document) pairs.
func (x *Index) Postings() int { return len(x.docs) }

// DocFreq is how many documents hold term.
func (x *Index) DocFreq(term string) int {
	t, ok := x.terms[term]
	if !ok {
		return 0
	}
	return int(x.off[t+1] - x.off[t])
}

// IDF is FTS5's inverse document frequency of a term held by n of the
// index's documents.
func (x *Index) IDF(n int) float64 {
	idf := ln((float64(len(x.live)-n) + 0.5) / (float64(n) + 0.5))
	if idf <= 0 {
		idf = 1e-6
	}
	return idf
}

// ln is the natural logarithm SQLite itself calls (modernc's libc: musl's
// log on linux/amd64, Go's math.Log elsewhere), so that IDFs agree with
// FTS5's to the last bit; Go's own math.Log differs in the last bit for
// some inputs. Its argument is always positive and finite here, the
// only case in which the C function touches no thread state.
func ln(v float64) float64 { return libc.Xlog(nil, v) }

// part is the frequency part of a posting's score: the score is IDF ×
// part. The expression is FTS5's, operation for operation.
func (x *Index) part(freq uint32, doc uint32) float64 {
	f := float64(freq)
	return (f * (K1 + 1.0)) / (f + x.norm[doc])
}

// lengthNorm is k1 × (1 − b + b × D / avgdl), rounded at each step as C
// rounds it (explicit conversions keep Go from fusing operations).
func lengthNorm(dl uint32, avgdl float64) float64 {
	bd := float64(B * float64(dl))
	return K1 * float64(1-B+float64(bd/avgdl))
}

// finish computes what follows from the postings and lengths: average
// length, per-document norms and the block maxima.
func (x *Index) finish() {
	x.finishDocs()
	x.finishBlocks()
}

// finishDocs computes the average length and per-document norms.
func (x *Index) finishDocs() {
	x.tokens = 0
	for _, d := range x.live {
		x.tokens += uint64(x.dl[d])
	}
	x.avgdl = 0
	if len(x.live) > 0 {
		x.avgdl = float64(x.tokens) / float64(len(x.live))
	}
	x.norm = make([]float64, len(x.dl))
	for _, d := range x.live {
		x.norm[d] = lengthNorm(x.dl[d], x.avgdl)
	}
}

// finishBlocks computes the block maxima.
func (x *Index) finishBlocks() {
	x.boff = make([]uint32, len(x.names)+1)
	nb := 0
	for t := range x.names {
		x.boff[t] = uint32(nb)
		nb += (int(x.off[t+1]-x.off[t]) + BlockSize - 1) / BlockSize
	}
	x.boff[len(x.names)] = uint32(nb)
	x.bmax = make([]float32, nb)
	for t := range x.names {
		lo, hi := int(x.off[t]), int(x.off[t+1])
		for b := 0; lo+b*BlockSize < hi; b++ {
			best := 0.0
			for p := lo + b*BlockSize; p < min(lo+(b+1)*BlockSize, hi); p++ {
				best = max(best, x.part(x.freq[p], x.docs[p]))
			}
			x.bmax[int(x.boff[t])+b] = roundUp(best)
		}
	}
}

// roundUp is a float32 no smaller than v with room for the rounding of
// the sums it takes part in.
func roundUp(v float64) float32 {
	v *= 1 + 1e-6
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}
