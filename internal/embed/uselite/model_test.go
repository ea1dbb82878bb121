package uselite

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// modelDir is where scripts/fetch-model.sh (run by `make test`) installs
// the model; the same rule as embed.DefaultModelDir, which imports this
// package and so cannot be imported here.
func modelDir() string {
	if d := os.Getenv("RAGTUNE_MODEL_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	return filepath.Join(cache, "ragtune", "models", "use-lite-"+PackageVersion)
}

var (
	loadOnce sync.Once
	loaded   *Model
	loadErr  error
)

func testModel(t testing.TB) *Model {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = Load(modelDir()) })
	if loadErr != nil {
		t.Fatalf("%v (install it with scripts/fetch-model.sh, which `make test` runs)", loadErr)
	}
	return loaded
}

type golden struct {
	Text      string    `json:"text"`
	Tokens    []int32   `json:"tokens"`
	Embedding []float32 `json:"embedding"`
}

func loadGolden(t testing.TB) []golden {
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g []golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// TestTokenizerMatchesReference compares token ids with the reference
// tokenizer's on varied text (unicode, emoji, full-width, long input).
func TestTokenizerMatchesReference(t *testing.T) {
	m := testModel(t)
	for _, g := range loadGolden(t) {
		// Only the ids the model reads (the first 128) must agree.
		got, want := m.Tokens(g.Text), g.Tokens
		got, want = got[:min(len(got), maxTokensPerText)], want[:min(len(want), maxTokensPerText)]
		if !slices.Equal(got, want) {
			t.Errorf("%q: tokens %v, reference %v", g.Text, got, want)
		}
	}
}

// TestEmbeddingsMatchReference requires cosine ≥ 0.999 to the vectors
// the reference implementation produced (testdata/golden.js).
func TestEmbeddingsMatchReference(t *testing.T) {
	m := testModel(t)
	gs := loadGolden(t)
	texts := make([]string, len(gs))
	for i, g := range gs {
		texts[i] = g.Text
	}
	vecs, err := m.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	worst := 1.0
	for i, g := range gs {
		if g.Embedding == nil {
			for _, x := range vecs[i] {
				if x != 0 {
					t.Errorf("%q has no tokens; want a zero vector", g.Text)
					break
				}
			}
			continue
		}
		c := cosine(vecs[i], g.Embedding)
		worst = math.Min(worst, c)
		if c < 0.999 {
			t.Errorf("%q: cosine %.6f to the reference", g.Text, c)
		}
	}
	t.Logf("lowest cosine to the reference: %.6f", worst)
}

// A text's vector must not depend on what else is in its batch.
func TestBatchIndependence(t *testing.T) {
	m := testModel(t)
	alone, err := m.Embed(t.Context(), []string{"How do I rotate keys?"})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := m.Embed(t.Context(), []string{"a much longer sentence that pads the batch with many more tokens than the other", "How do I rotate keys?", ""})
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(alone[0], batch[1]); c < 0.99999 {
		t.Errorf("same text, different batch: cosine %.7f", c)
	}
}

func TestMissingModel(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil || !errorsIs(err, ErrMissing) {
		t.Errorf("Load(empty dir) = %v, want ErrMissing", err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// TestPooledBuffersAreNotShared embeds the golden texts again and again,
// in batches of different makeup, from several goroutines at once: with
// buffers recycled between ops and runs, a buffer handed back while a
// view of it was still live would change some vector. Every vector must
// equal the one a lone, serial run gives, bit for bit.
func TestPooledBuffersAreNotShared(t *testing.T) {
	m := testModel(t)
	var texts []string
	for _, g := range loadGolden(t) {
		texts = append(texts, g.Text)
	}
	want, err := m.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 5 {
				size := 1 + (w+round)%7
				for start := (w * 3) % len(texts); start < len(texts); start += size {
					end := min(len(texts), start+size)
					got, err := m.Embed(t.Context(), texts[start:end])
					if err != nil {
						errs <- err.Error()
						return
					}
					for i, v := range got {
						if !slices.Equal(v, want[start+i]) {
							errs <- fmt.Sprintf("text %d (batch %d-%d, worker %d, round %d) changed", start+i, start, end, w, round)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
