package uselite

import (
	"math/rand/v2"
	"testing"
)

func randTensor(r *rand.Rand, shape ...int) *tensor {
	t := newTensor(f32, shape)
	for i := range t.f {
		t.f[i] = float32(r.NormFloat64())
	}
	return t
}

// The row-wise fast paths must agree with plain broadcasting.
func TestRowwiseMatchesBroadcast(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	full, row, feat := randTensor(r, 5, 7), randTensor(r, 5, 1), randTensor(r, 7)
	pairs := [][2]*tensor{{full, feat}, {full, row}, {feat, row}, {row, feat}, {feat, full}, {row, full}}
	for _, name := range []string{"Add", "Sub", "Mul", "RealDiv", "Maximum"} {
		for i, p := range pairs {
			shape, _ := broadcastShape(p[0].shape, p[1].shape)
			want := newTensor(f32, shape)
			ia, ib := indexer(shape, p[0].shape), indexer(shape, p[1].shape)
			for k := range want.f {
				want.f[k] = arith[name].f(p[0].f[ia(k)], p[1].f[ib(k)])
			}
			got, err := elementwise(name, arith[name], p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			for k := range want.f {
				if d := got.f[k] - want.f[k]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%s pair %d: element %d = %v, want %v", name, i, k, got.f[k], want.f[k])
				}
			}
		}
	}
	m, _ := reduce("Mean", full, []int{-1}, true)
	var s float32
	for _, x := range full.f[7:14] {
		s += x
	}
	if d := m.f[1] - s/7; d > 1e-5 || d < -1e-5 || len(m.shape) != 2 || m.shape[1] != 1 {
		t.Errorf("Mean over the last axis: %v (shape %v), want %v", m.f[1], m.shape, s/7)
	}
}
