package corpus

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// CopyReport says what Copy did; its JSON form is part of the CLI contract.
type CopyReport struct {
	Documents int    `json:"documents"`
	Copied    int    `json:"copied"`
	Skipped   int    `json:"skipped"` // already at the target, verified
	Chunks    int    `json:"chunks"`
	Checksum  string `json:"checksum"` // over every document's chunks and vectors
}

// Copy copies every document, with its chunks and vectors, from src to
// dst, binding dst to src's embedder. Documents already at dst with the
// same hash and signature are not written again, which makes an
// interrupted copy resumable; every document is then read back from dst
// and compared by checksum, so a copy either verifies or fails.
func Copy(ctx context.Context, src, dst Corpus, progress func(done, total int)) (CopyReport, error) {
	var rep CopyReport
	id, err := src.Identity(ctx)
	if err != nil {
		return rep, err
	}
	if id.Bound() {
		if err := dst.Bind(ctx, id); err != nil {
			return rep, err
		}
	}
	docs, err := src.Documents(ctx, "")
	if err != nil {
		return rep, err
	}
	have := map[string]DocumentInfo{}
	existing, err := dst.Documents(ctx, "")
	if err != nil {
		return rep, err
	}
	for _, d := range existing {
		have[d.Path] = d
	}
	total := sha256.New()
	for i, info := range docs {
		d, err := src.Document(ctx, info.Path)
		if err != nil {
			return rep, err
		}
		if h, ok := have[d.Path]; ok && h.Hash == d.Hash && h.Signature == d.Signature && h.Chunks == len(d.Chunks) {
			rep.Skipped++
		} else {
			if err := dst.Upsert(ctx, []Document{d}); err != nil {
				return rep, fmt.Errorf("copying %s: %w", d.Path, err)
			}
			rep.Copied++
		}
		back, err := dst.Document(ctx, d.Path)
		if err != nil {
			return rep, fmt.Errorf("reading back %s: %w", d.Path, err)
		}
		want, got := Checksum(d), Checksum(back)
		if want != got {
			return rep, fmt.Errorf("%w: %s differs after copying (checksum %x, target %x)", ErrCopyMismatch, d.Path, want[:6], got[:6])
		}
		total.Write(want[:])
		rep.Documents++
		rep.Chunks += len(d.Chunks)
		if progress != nil {
			progress(i+1, len(docs))
		}
	}
	rep.Checksum = fmt.Sprintf("%x", total.Sum(nil))
	n, err := dst.Documents(ctx, "")
	if err != nil {
		return rep, err
	}
	if len(n) < len(docs) {
		return rep, fmt.Errorf("%w: target holds %d documents, source %d", ErrCopyMismatch, len(n), len(docs))
	}
	// The target's derived indexes (keyword index, vector graph) are
	// brought up to date as an ingest would.
	if err := Refresh(ctx, dst); err != nil {
		return rep, fmt.Errorf("updating the target's search indexes: %w", err)
	}
	return rep, nil
}

// ErrCopyMismatch means a copied document did not read back identical.
var ErrCopyMismatch = errors.New("copy verification failed")

// Checksum covers what a document's retrieval depends on: its identity,
// and every chunk's ID, text, position and vector bits.
func Checksum(d Document) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\n", d.Path, d.Hash, d.Signature, len(d.Chunks))
	var b [4]byte
	for _, c := range d.Chunks {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00%d:%d\x00%d:%d\n", c.ID, c.Ord, c.Text, c.Start, c.End, c.LineStart, c.LineEnd)
		for _, x := range c.Vector {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			h.Write(b[:])
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
