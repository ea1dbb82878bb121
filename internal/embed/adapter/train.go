package adapter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/viterin/vek/vek32"
)

// Pair is one training example: a query, the chunk that answers it, and
// chunks that score close to it but do not answer it (hard negatives).
type Pair struct {
	Query     []float32
	Positive  []float32
	Negatives [][]float32
}

// Options tune training; zero values take the defaults.
type Options struct {
	Epochs       int     // passes over the pairs (20)
	BatchSize    int     // queries per step; each sees the others' positives as negatives (256)
	LearningRate float64 // Adam step size (3e-4)
	Temperature  float64 // of the contrastive softmax over cosine scores (0.05)
	L2           float64 // pull toward the identity, so the map stays near the base model (1e-3)
	Seed         uint64
	// Progress, if set, is called after each epoch.
	Progress func(e EpochStat)
}

func (o *Options) defaults() {
	// Chosen on SQuAD (see docs/embedding-adapter.md): large batches of
	// in-batch negatives and small steps generalised best to held-out
	// questions.
	if o.Epochs <= 0 {
		o.Epochs = 20
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 3e-4
	}
	if o.Temperature <= 0 {
		o.Temperature = 0.05
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 1e-3
	}
}

// EpochStat is what one epoch did. Epoch 0 is the untrained identity.
type EpochStat struct {
	Epoch     int     `json:"epoch"`
	Epochs    int     `json:"epochs"`
	TrainLoss float64 `json:"train_loss"`
	ValidMRR  float64 `json:"validation_mrr"`
}

// ErrNoPairs means there is nothing to train on.
var ErrNoPairs = errors.New("no training pairs")

// Train starts from the identity and returns the weights of the epoch
// whose validation MRR was best (the identity itself when no epoch beat
// it, so training never makes retrieval worse on held-back pairs).
func Train(ctx context.Context, base *Adapter, train, valid []Pair, o Options) (*Adapter, []EpochStat, error) {
	o.defaults()
	if len(train) == 0 {
		return nil, nil, ErrNoPairs
	}
	for _, p := range append(append([]Pair{}, train...), valid...) {
		if len(p.Query) != base.Dim || len(p.Positive) != base.Dim {
			return nil, nil, fmt.Errorf("training pair of dimension %d/%d, adapter is %d", len(p.Query), len(p.Positive), base.Dim)
		}
	}
	t := newTrainer(base, o)
	best := append([]float32(nil), t.a.W...)
	stats := []EpochStat{{Epoch: 0, Epochs: o.Epochs, ValidMRR: validMRR(t.a, valid)}}
	bestMRR := stats[0].ValidMRR
	rng := rand.New(rand.NewPCG(o.Seed, 0xada))
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var loss float64
		for start := 0; start < len(order); start += o.BatchSize {
			if err := ctx.Err(); err != nil {
				return nil, stats, err
			}
			batch := make([]Pair, 0, o.BatchSize)
			for _, k := range order[start:min(len(order), start+o.BatchSize)] {
				batch = append(batch, train[k])
			}
			loss += t.step(batch) * float64(len(batch))
		}
		st := EpochStat{Epoch: epoch, Epochs: o.Epochs, TrainLoss: loss / float64(len(train)), ValidMRR: validMRR(t.a, valid)}
		stats = append(stats, st)
		if o.Progress != nil {
			o.Progress(st)
		}
		if st.ValidMRR > bestMRR || len(valid) == 0 {
			bestMRR = st.ValidMRR
			copy(best, t.a.W)
		}
	}
	out := *base
	out.W = best
	return &out, stats, nil
}

// trainer holds the weights and Adam's moment estimates.
type trainer struct {
	a      *Adapter
	o      Options
	m, v   []float32
	steps  int
	grads  [][]float32 // one gradient buffer per worker
	losses []float64
}

func newTrainer(base *Adapter, o Options) *trainer {
	a := *base
	a.W = append([]float32(nil), base.W...)
	n := len(a.W)
	workers := runtime.GOMAXPROCS(0)
	t := &trainer{a: &a, o: o, m: make([]float32, n), v: make([]float32, n), losses: make([]float64, workers)}
	for range workers {
		t.grads = append(t.grads, make([]float32, n))
	}
	return t
}

// step takes one Adam step on a batch and returns its mean loss.
func (t *trainer) step(batch []Pair) float64 {
	positives := make([][]float32, len(batch))
	for i, p := range batch {
		positives[i] = p.Positive
	}
	var wg sync.WaitGroup
	for w := range t.grads {
		clear(t.grads[w])
		t.losses[w] = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := make([]float32, t.a.Dim)
			for i := w; i < len(batch); i += len(t.grads) {
				t.losses[w] += t.accumulate(batch[i], i, positives, u, t.grads[w])
			}
		}()
	}
	wg.Wait()
	grad := t.grads[0]
	var loss float64
	for w, g := range t.grads {
		if w > 0 {
			vek32.Add_Inplace(grad, g)
		}
		loss += t.losses[w]
	}
	t.update(grad, float32(1/float64(len(batch))))
	return loss / float64(len(batch))
}

// accumulate adds one query's contrastive-loss gradient to grad and
// returns its loss. Scores are cosines of the mapped query with the
// candidates (every positive in the batch, then the query's own hard
// negatives), divided by the temperature.
func (t *trainer) accumulate(p Pair, self int, positives [][]float32, u, grad []float32) float64 {
	d := t.a.Dim
	t.a.mul(p.Query, u)
	norm := vek32.Norm(u)
	if norm == 0 {
		return 0
	}
	vek32.DivNumber_Inplace(u, norm) // u is now the unit direction
	cands := append(positives[:len(positives):len(positives)], p.Negatives...)
	scores := make([]float64, len(cands))
	maxS := math.Inf(-1)
	for c, v := range cands {
		scores[c] = float64(vek32.Dot(u, v)) / t.o.Temperature
		maxS = max(maxS, scores[c])
	}
	var z float64
	for c := range scores {
		scores[c] = math.Exp(scores[c] - maxS)
		z += scores[c]
	}
	// g = Σ (p_c − y_c)·c; the gradient wrt the unnormalised W·q is
	// (g − (u·g)u) / (|W·q|·τ), and wrt W its outer product with q.
	g := make([]float32, d)
	for c, v := range cands {
		coef := scores[c] / z
		if c == self {
			coef--
		}
		if coef != 0 {
			axpy(float32(coef), v, g)
		}
	}
	axpy(-vek32.Dot(u, g), u, g)
	vek32.MulNumber_Inplace(g, float32(1/(float64(norm)*t.o.Temperature)))
	for r := range d {
		if g[r] != 0 {
			axpy(g[r], p.Query, grad[r*d:(r+1)*d])
		}
	}
	return -math.Log(scores[self] / z)
}

// update applies Adam with the L2 pull toward the identity.
func (t *trainer) update(grad []float32, scale float32) {
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	t.steps++
	c1 := 1 - math.Pow(beta1, float64(t.steps))
	c2 := 1 - math.Pow(beta2, float64(t.steps))
	lr, l2, d := t.o.LearningRate, float32(t.o.L2), t.a.Dim
	for i, gi := range grad {
		w := t.a.W[i]
		if i/d == i%d {
			w--
		}
		g := gi*scale + l2*w
		t.m[i] = beta1*t.m[i] + (1-beta1)*g
		t.v[i] = beta2*t.v[i] + (1-beta2)*g*g
		t.a.W[i] -= float32(lr * (float64(t.m[i]) / c1) / (math.Sqrt(float64(t.v[i])/c2) + eps))
	}
}

// validMRR ranks each validation pair's positive among a shared pool:
// every validation positive and every validation hard negative, as
// retrieval over a small corpus would. A pool per query (its own
// negatives only) rewards merely pushing down what the base model
// retrieved, which does not carry over to the whole corpus.
func validMRR(a *Adapter, valid []Pair) float64 {
	if len(valid) == 0 {
		return 0
	}
	var pool [][]float32
	for _, p := range valid {
		pool = append(pool, p.Negatives...)
	}
	var sum float64
	for i, p := range valid {
		u := a.Apply(p.Query)
		pos := vek32.Dot(u, p.Positive)
		rank := 1
		for j, o := range valid {
			if j != i && vek32.Dot(u, o.Positive) > pos && !slices.Equal(o.Positive, p.Positive) {
				rank++
			}
		}
		for _, n := range pool {
			if vek32.Dot(u, n) > pos && !slices.Equal(n, p.Positive) {
				rank++
			}
		}
		sum += 1 / float64(rank)
	}
	return sum / float64(len(valid))
}

func axpy(alpha float32, x, y []float32) {
	for i, xi := range x {
		y[i] += alpha * xi
	}
}
