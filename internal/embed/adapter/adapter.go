// Package adapter fine-tunes retrieval offline: a linear map applied to
// query embeddings, trained on (question, relevant chunk) pairs with
// in-batch and hard negatives. Document vectors are left as they are, so
// the index stays valid and the adapter can be switched on and off
// without re-embedding anything.
package adapter

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/viterin/vek/vek32"

	"github.com/ragtune/ragtune/internal/embed"
)

// Adapter maps a query vector q to W·q (normalised). It belongs to one
// index identity: the base embedder and its dimension.
type Adapter struct {
	Embedder  string    `json:"embedder"`
	Dim       int       `json:"dim"`
	Enabled   bool      `json:"enabled"`
	TrainedAt int64     `json:"trained_at"`
	Report    Report    `json:"report"`
	W         []float32 `json:"-"` // Dim×Dim, row-major
}

// Identity returns the Dim×Dim identity adapter for a base embedder: the
// starting point of training, and a no-op when applied.
func Identity(embedderID string, dim int) *Adapter {
	w := make([]float32, dim*dim)
	for i := range dim {
		w[i*dim+i] = 1
	}
	return &Adapter{Embedder: embedderID, Dim: dim, W: w}
}

// Apply maps one query vector; the result has unit length, like the
// vectors the index holds.
func (a *Adapter) Apply(q []float32) []float32 {
	out := make([]float32, a.Dim)
	a.mul(q, out)
	if n := vek32.Norm(out); n > 0 {
		vek32.DivNumber_Inplace(out, n)
	}
	return out
}

// mul writes W·q into out without normalising it.
func (a *Adapter) mul(q, out []float32) {
	d := a.Dim
	for r := range d {
		out[r] = vek32.Dot(a.W[r*d:(r+1)*d], q)
	}
}

// Fingerprint names the weights, so caches keyed by embedder ID never mix
// adapted and plain query vectors.
func (a *Adapter) Fingerprint() string {
	h := sha256.New()
	binary.Write(h, binary.LittleEndian, a.W)
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// Wrap returns an embedder that embeds with e and maps the result. It is
// for queries only: documents must keep e's own vectors.
func (a *Adapter) Wrap(e embed.Embedder) embed.Embedder { return &queryEmbedder{e, a} }

type queryEmbedder struct {
	base embed.Embedder
	a    *Adapter
}

func (q *queryEmbedder) ID() string { return q.base.ID() + "+adapter-" + q.a.Fingerprint() }
func (q *queryEmbedder) Dim() int   { return q.base.Dim() }

func (q *queryEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := q.base.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(vecs))
	for i, v := range vecs {
		out[i] = q.a.Apply(v)
	}
	return out, nil
}

// stored is the persisted form: the weights as base64 little-endian
// float32, beside the metadata.
type stored struct {
	*Adapter
	Weights string `json:"weights"`
}

// Marshal encodes the adapter for the store.
func (a *Adapter) Marshal() ([]byte, error) {
	buf := make([]byte, 4*len(a.W))
	for i, x := range a.W {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return json.Marshal(stored{a, base64.StdEncoding.EncodeToString(buf)})
}

// ErrCorrupt means stored adapter data cannot be read back.
var ErrCorrupt = errors.New("stored query adapter is corrupt")

// Unmarshal decodes what Marshal wrote.
func Unmarshal(data []byte) (*Adapter, error) {
	s := stored{Adapter: &Adapter{}}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	raw, err := base64.StdEncoding.DecodeString(s.Weights)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if s.Dim <= 0 || len(raw) != 4*s.Dim*s.Dim {
		return nil, fmt.Errorf("%w: %d bytes of weights for dimension %d", ErrCorrupt, len(raw), s.Dim)
	}
	s.W = make([]float32, s.Dim*s.Dim)
	for i := range s.W {
		s.W[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return s.Adapter, nil
}

// Report is what training and the held-out check measured; it is kept
// with the adapter so `tune embeddings --status` can show it later.
type Report struct {
	Source         string             `json:"source"` // where the pairs came from
	TrainPairs     int                `json:"train_pairs"`
	ValidPairs     int                `json:"validation_pairs"`
	HeldOutQueries int                `json:"held_out_queries"`
	Epochs         []EpochStat        `json:"epochs"`
	Before         map[string]float64 `json:"before"`     // held-out metrics with the base embedder
	After          map[string]float64 `json:"after"`      // and with the adapter
	DecidedBy      string             `json:"decided_by"` // the held-out figure that decided Enabled
}
