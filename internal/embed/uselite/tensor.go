package uselite

import (
	"fmt"
)

// dtype is a tensor's element type. TF.js runs int64 graphs as int32, and
// so does this interpreter.
type dtype uint8

const (
	f32 dtype = iota
	i32
	boolean
)

func (d dtype) String() string { return [...]string{"float32", "int32", "bool"}[d] }

// tensor is a dense row-major array; exactly one of f, i, b is used.
type tensor struct {
	dt    dtype
	shape []int
	f     []float32
	i     []int32
	b     []bool
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func newTensor(dt dtype, shape []int) *tensor {
	t := &tensor{dt: dt, shape: append([]int(nil), shape...)}
	n := numel(shape)
	switch dt {
	case f32:
		t.f = getF32(n)
	case i32:
		t.i = make([]int32, n)
	case boolean:
		t.b = make([]bool, n)
	}
	return t
}

func scalarI(v int32) *tensor   { return &tensor{dt: i32, shape: []int{}, i: []int32{v}} }
func vectorI(v []int32) *tensor { return &tensor{dt: i32, shape: []int{len(v)}, i: v} }

func (t *tensor) size() int { return numel(t.shape) }

// ints reads an int32 tensor (a shape, an axis list) as ints.
func (t *tensor) ints() ([]int, error) {
	if t.dt != i32 {
		return nil, fmt.Errorf("want an int32 tensor, have %s", t.dt)
	}
	out := make([]int, len(t.i))
	for k, v := range t.i {
		out[k] = int(v)
	}
	return out, nil
}

// reshaped shares data under a new shape.
func (t *tensor) reshaped(shape []int) *tensor {
	c := *t
	c.shape = shape
	return &c
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for k := len(shape) - 1; k >= 0; k-- {
		s[k] = acc
		acc *= shape[k]
	}
	return s
}

// copyElem copies element src[si] into dst[di]; both tensors share dtype.
func copyElem(dst *tensor, di int, src *tensor, si int) {
	switch src.dt {
	case f32:
		dst.f[di] = src.f[si]
	case i32:
		dst.i[di] = src.i[si]
	case boolean:
		dst.b[di] = src.b[si]
	}
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// broadcastShape follows NumPy rules.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for k := 0; k < n; k++ {
		da, db := 1, 1
		if k >= n-len(a) {
			da = a[k-(n-len(a))]
		}
		if k >= n-len(b) {
			db = b[k-(n-len(b))]
		}
		switch {
		case da == db || db == 1:
			out[k] = da
		case da == 1:
			out[k] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastIndex maps each output position to positions in a and b.
func broadcastIndex(out, a, b []int) ([]int, []int) {
	n := numel(out)
	ia, ib := make([]int, n), make([]int, n)
	sa, sb := paddedStrides(a, len(out)), paddedStrides(b, len(out))
	idx := make([]int, len(out))
	for p := 0; p < n; p++ {
		oa, ob := 0, 0
		for k := range out {
			oa += idx[k] * sa[k]
			ob += idx[k] * sb[k]
		}
		ia[p], ib[p] = oa, ob
		for k := len(out) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < out[k] {
				break
			}
			idx[k] = 0
		}
	}
	return ia, ib
}

// paddedStrides gives strides aligned to rank n, 0 where a dimension is
// broadcast.
func paddedStrides(shape []int, n int) []int {
	s := strides(shape)
	out := make([]int, n)
	off := n - len(shape)
	for k := range shape {
		if shape[k] != 1 {
			out[off+k] = s[k]
		}
	}
	return out
}
