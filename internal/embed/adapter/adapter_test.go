package adapter

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/viterin/vek/vek32"
)

func unit(rng *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	vek32.DivNumber_Inplace(v, vek32.Norm(v))
	return v
}

// distortedPairs builds queries that are a fixed linear distortion of
// their documents plus noise: plain cosine ranks them poorly, a learned
// linear map can undo the distortion.
func distortedPairs(seed uint64, d, n int) []Pair {
	rng := rand.New(rand.NewPCG(seed, 1))
	mix := rand.New(rand.NewPCG(99, 1)) // the same distortion for every split
	m := make([]float32, d*d)
	for i := range m {
		m[i] = float32(mix.NormFloat64() / math.Sqrt(float64(d)))
	}
	var pairs []Pair
	for range n {
		doc := unit(rng, d)
		q := make([]float32, d)
		for r := range d {
			q[r] = 0.3*doc[r] + vek32.Dot(m[r*d:(r+1)*d], doc) + 0.2*float32(rng.NormFloat64())/float32(math.Sqrt(float64(d)))
		}
		vek32.DivNumber_Inplace(q, vek32.Norm(q))
		pairs = append(pairs, Pair{Query: q, Positive: doc, Negatives: [][]float32{unit(rng, d), unit(rng, d)}})
	}
	return pairs
}

func TestTrainLearnsADistortion(t *testing.T) {
	const d = 32
	train, valid := distortedPairs(1, d, 600), distortedPairs(2, d, 150)
	base := Identity("test-embedder", d)
	before := validMRR(base, valid)
	a, stats, err := Train(context.Background(), base, train, valid, Options{Epochs: 15, LearningRate: 5e-3, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	after := validMRR(a, valid)
	if len(stats) != 16 || stats[0].ValidMRR != before {
		t.Fatalf("stats %+v", stats)
	}
	if after < before+0.3 {
		t.Fatalf("validation MRR %.3f → %.3f; training should undo most of the distortion", before, after)
	}
	if stats[len(stats)-1].TrainLoss >= stats[1].TrainLoss {
		t.Errorf("training loss did not fall: %+v", stats)
	}
	t.Logf("validation MRR %.3f → %.3f", before, after)
}

func TestTrainKeepsIdentityWhenNothingHelps(t *testing.T) {
	const d = 16
	rng := rand.New(rand.NewPCG(5, 5))
	// Queries equal to their documents: the identity is already perfect.
	var pairs []Pair
	for range 100 {
		v := unit(rng, d)
		pairs = append(pairs, Pair{Query: v, Positive: v})
	}
	base := Identity("e", d)
	a, _, err := Train(context.Background(), base, pairs[:80], pairs[80:], Options{Epochs: 3, LearningRate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if validMRR(a, pairs[80:]) < validMRR(base, pairs[80:]) {
		t.Fatal("training made held-back pairs worse; the best epoch should have been kept")
	}
}

func TestTrainErrors(t *testing.T) {
	base := Identity("e", 4)
	if _, _, err := Train(context.Background(), base, nil, nil, Options{}); !errors.Is(err, ErrNoPairs) {
		t.Fatalf("no pairs: %v", err)
	}
	bad := []Pair{{Query: make([]float32, 3), Positive: make([]float32, 4)}}
	if _, _, err := Train(context.Background(), base, bad, nil, Options{}); err == nil {
		t.Fatal("a pair of the wrong dimension was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good := []Pair{{Query: []float32{1, 0, 0, 0}, Positive: []float32{0, 1, 0, 0}}}
	if _, _, err := Train(ctx, base, good, nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	a := Identity("use-lite", 8)
	a.W[3] = -0.25
	a.Enabled = true
	a.Report = Report{Source: "beir:scifact", TrainPairs: 10}
	data, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Embedder != "use-lite" || b.Dim != 8 || !b.Enabled || b.Report.TrainPairs != 10 || b.Fingerprint() != a.Fingerprint() {
		t.Fatalf("round trip changed the adapter: %+v", b)
	}
	for _, bad := range []string{`{`, `{"dim":8,"weights":"!!"}`, `{"dim":8,"weights":"AAAA"}`, `{"dim":0,"weights":""}`} {
		if _, err := Unmarshal([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestIdentityApplyNormalises(t *testing.T) {
	a := Identity("e", 3)
	got := a.Apply([]float32{3, 0, 4})
	if math.Abs(float64(got[0])-0.6) > 1e-6 || math.Abs(float64(got[2])-0.8) > 1e-6 {
		t.Fatalf("Apply = %v", got)
	}
}
