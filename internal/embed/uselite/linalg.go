package uselite

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/viterin/vek/vek32"
)

// gemm computes C[m×n] = A[m×k] · B[k×n] for row-major slices with
// viterin/vek, which uses AVX2/FMA assembly (no cgo) where the CPU has
// it, and parallel pure Go elsewhere.
func gemm(a, b []float32, m, k, n int, c []float32) {
	vek32.MatMul_Into(c[:0], a[:m*k], b[:k*n], k)
}

// transposed2 returns the transpose of a row-major r×c matrix.
func transposed2(a []float32, r, c int) []float32 {
	out := make([]float32, len(a))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = a[i*c+j]
		}
	}
	return out
}

func matMul(a, b *tensor, ta, tb bool) (*tensor, error) {
	if a.dt != f32 || b.dt != f32 || len(a.shape) != 2 || len(b.shape) != 2 {
		return nil, fmt.Errorf("MatMul: want two float32 matrices, have %v and %v", a.shape, b.shape)
	}
	am, ak, bk, bn := a.shape[0], a.shape[1], b.shape[0], b.shape[1]
	af, bf := a.f, b.f
	if ta {
		af, am, ak = transposed2(a.f, am, ak), ak, am
	}
	if tb {
		bf, bk, bn = transposed2(b.f, bk, bn), bn, bk
	}
	if ak != bk {
		return nil, fmt.Errorf("MatMul: inner dimensions %d and %d differ", ak, bk)
	}
	out := newTensor(f32, []int{am, bn})
	gemm(af, bf, am, ak, bn, out.f)
	return out, nil
}

// batchMatMul multiplies the last two axes of equally batched tensors.
func batchMatMul(a, b *tensor, adjX, adjY bool) (*tensor, error) {
	ra, rb := len(a.shape), len(b.shape)
	if a.dt != f32 || b.dt != f32 || ra < 2 || ra != rb || !sameShape(a.shape[:ra-2], b.shape[:rb-2]) {
		return nil, fmt.Errorf("BatchMatMul: unsupported shapes %v and %v", a.shape, b.shape)
	}
	batch := numel(a.shape[:ra-2])
	am, ak := a.shape[ra-2], a.shape[ra-1]
	bk, bn := b.shape[rb-2], b.shape[rb-1]
	m, k := am, ak
	if adjX {
		m, k = ak, am
	}
	kb, n := bk, bn
	if adjY {
		kb, n = bn, bk
	}
	if k != kb {
		return nil, fmt.Errorf("BatchMatMul: inner dimensions %d and %d differ", k, kb)
	}
	shape := append(append([]int{}, a.shape[:ra-2]...), m, n)
	out := newTensor(f32, shape)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := 0; i < batch; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			x := a.f[i*am*ak : (i+1)*am*ak]
			y := b.f[i*bk*bn : (i+1)*bk*bn]
			if adjX {
				x = transposed2(x, am, ak)
			}
			if adjY {
				y = transposed2(y, bk, bn)
			}
			gemm(x, y, m, k, n, out.f[i*m*n:(i+1)*m*n])
		}()
	}
	wg.Wait()
	return out, nil
}

// conv1x1 is Conv2D with a 1×1 kernel, unit strides and NHWC layout: a
// matrix product over the channel axis, which is all the encoder uses.
func conv1x1(x, w *tensor) (*tensor, error) {
	if len(x.shape) != 4 || len(w.shape) != 4 || w.shape[0] != 1 || w.shape[1] != 1 || w.shape[2] != x.shape[3] {
		return nil, fmt.Errorf("Conv2D: only 1x1 NHWC kernels are supported (input %v, filter %v)", x.shape, w.shape)
	}
	rows := numel(x.shape[:3])
	cin, cout := w.shape[2], w.shape[3]
	out := newTensor(f32, []int{x.shape[0], x.shape[1], x.shape[2], cout})
	gemm(x.f, w.f, rows, cin, cout, out.f)
	return out, nil
}

func biasAdd(x, bias *tensor) (*tensor, error) {
	n := x.shape[len(x.shape)-1]
	if bias.size() != n || x.dt != f32 {
		return nil, fmt.Errorf("BiasAdd: bias of %d for last dimension %d", bias.size(), n)
	}
	out := newTensor(f32, x.shape)
	for r := 0; r < len(x.f); r += n {
		vek32.Add_Into(out.f[r:r+n], x.f[r:r+n], bias.f)
	}
	return out, nil
}
