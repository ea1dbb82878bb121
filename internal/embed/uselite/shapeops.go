package uselite

import (
	"fmt"
)

func reshape(a *tensor, shape []int) (*tensor, error) {
	s := append([]int(nil), shape...)
	infer, known := -1, 1
	for k, d := range s {
		if d == -1 {
			if infer >= 0 {
				return nil, fmt.Errorf("Reshape: two -1 in %v", shape)
			}
			infer = k
			continue
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 {
			s[infer] = 0
		} else {
			s[infer] = a.size() / known
		}
	}
	if numel(s) != a.size() {
		return nil, fmt.Errorf("Reshape: %v has %d elements, not %d", shape, numel(s), a.size())
	}
	return a.reshaped(s), nil
}

func expandDims(a *tensor, dim int) (*tensor, error) {
	rank := len(a.shape)
	if dim < 0 {
		dim += rank + 1
	}
	if dim < 0 || dim > rank {
		return nil, fmt.Errorf("ExpandDims: dim out of range for %v", a.shape)
	}
	s := append(append(append([]int{}, a.shape[:dim]...), 1), a.shape[dim:]...)
	return a.reshaped(s), nil
}

func squeeze(a *tensor, dims []int) (*tensor, error) {
	drop := map[int]bool{}
	for _, d := range dims {
		if d < 0 {
			d += len(a.shape)
		}
		drop[d] = true
	}
	var s []int
	for k, d := range a.shape {
		if (len(dims) == 0 && d == 1) || drop[k] {
			if d != 1 {
				return nil, fmt.Errorf("Squeeze: dimension %d of %v is not 1", k, a.shape)
			}
			continue
		}
		s = append(s, d)
	}
	return a.reshaped(s), nil
}

func transpose(a *tensor, perm []int) (*tensor, error) {
	rank := len(a.shape)
	if len(perm) != rank {
		return nil, fmt.Errorf("Transpose: perm %v for rank %d", perm, rank)
	}
	shape := make([]int, rank)
	for k, p := range perm {
		shape[k] = a.shape[p]
	}
	out := newTensor(a.dt, shape)
	in := strides(a.shape)
	src := make([]int, rank) // input stride for each output axis
	for k, p := range perm {
		src[k] = in[p]
	}
	idx := make([]int, rank)
	for o := 0; o < out.size(); o++ {
		s := 0
		for k := range idx {
			s += idx[k] * src[k]
		}
		copyElem(out, o, a, s)
		for k := rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out, nil
}

// concat joins tensors along axis.
func concat(ts []*tensor, axis int) (*tensor, error) {
	rank := len(ts[0].shape)
	if axis < 0 {
		axis += rank
	}
	shape := append([]int(nil), ts[0].shape...)
	shape[axis] = 0
	for _, t := range ts {
		if len(t.shape) != rank || t.dt != ts[0].dt {
			return nil, fmt.Errorf("ConcatV2: mismatched inputs")
		}
		shape[axis] += t.shape[axis]
	}
	out := newTensor(ts[0].dt, shape)
	outer := numel(shape[:axis])
	inner := numel(shape[axis+1:])
	o := 0
	for r := 0; r < outer; r++ {
		for _, t := range ts {
			n := t.shape[axis] * inner
			for k := 0; k < n; k++ {
				copyElem(out, o, t, r*n+k)
				o++
			}
		}
	}
	return out, nil
}

func pack(ts []*tensor, axis int) (*tensor, error) {
	var ex []*tensor
	for _, t := range ts {
		e, err := expandDims(t, axis)
		if err != nil {
			return nil, err
		}
		ex = append(ex, e)
	}
	return concat(ex, axis)
}

func splitV(a *tensor, sizes []int, axis int) ([]*tensor, error) {
	rank := len(a.shape)
	if axis < 0 {
		axis += rank
	}
	outer, inner := numel(a.shape[:axis]), numel(a.shape[axis+1:])
	var outs []*tensor
	off := 0
	for _, sz := range sizes {
		shape := append([]int(nil), a.shape...)
		shape[axis] = sz
		t := newTensor(a.dt, shape)
		o := 0
		for r := 0; r < outer; r++ {
			base := (r*a.shape[axis] + off) * inner
			for k := 0; k < sz*inner; k++ {
				copyElem(t, o, a, base+k)
				o++
			}
		}
		off += sz
		outs = append(outs, t)
	}
	if off != a.shape[axis] {
		return nil, fmt.Errorf("SplitV: sizes %v do not cover %d", sizes, a.shape[axis])
	}
	return outs, nil
}

// sliceSpec is a per-axis [begin, end) with stride, plus whether the axis
// is dropped from the output (shrink).
type sliceSpec struct {
	begin, end, stride int
	shrink             bool
}

func gatherSlices(a *tensor, specs []sliceSpec) *tensor {
	var shape, full []int
	for _, s := range specs {
		n := 0
		if s.stride > 0 && s.end > s.begin {
			n = (s.end - s.begin + s.stride - 1) / s.stride
		} else if s.stride < 0 && s.begin > s.end {
			n = (s.begin - s.end - s.stride - 1) / -s.stride
		}
		full = append(full, n)
		if !s.shrink {
			shape = append(shape, n)
		}
	}
	out := newTensor(a.dt, shape)
	in := strides(a.shape)
	idx := make([]int, len(full))
	for o := 0; o < numel(full); o++ {
		src := 0
		for k, s := range specs {
			src += (s.begin + idx[k]*s.stride) * in[k]
		}
		copyElem(out, o, a, src)
		for k := len(full) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < full[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

func slice(a *tensor, begin, size []int) (*tensor, error) {
	specs := make([]sliceSpec, len(a.shape))
	for k, d := range a.shape {
		b, sz := begin[k], size[k]
		if sz == -1 {
			sz = d - b
		}
		if b < 0 || b+sz > d {
			return nil, fmt.Errorf("Slice: [%d,+%d) outside dimension %d", b, sz, d)
		}
		specs[k] = sliceSpec{b, b + sz, 1, false}
	}
	return gatherSlices(a, specs), nil
}

// stridedSlice supports begin, end and shrink-axis masks (the graph uses
// no ellipsis or new-axis masks).
func stridedSlice(a *tensor, begin, end, stride []int, beginMask, endMask, shrinkMask int) (*tensor, error) {
	specs := make([]sliceSpec, len(a.shape))
	for k, d := range a.shape {
		if k >= len(begin) {
			specs[k] = sliceSpec{0, d, 1, false}
			continue
		}
		s := stride[k]
		if s == 0 {
			return nil, fmt.Errorf("StridedSlice: zero stride")
		}
		b, e := begin[k], end[k]
		if b < 0 {
			b += d
		}
		if e < 0 {
			e += d
		}
		if beginMask&(1<<k) != 0 {
			if s > 0 {
				b = 0
			} else {
				b = d - 1
			}
		}
		if endMask&(1<<k) != 0 {
			if s > 0 {
				e = d
			} else {
				e = -1
			}
		}
		shrink := shrinkMask&(1<<k) != 0
		if shrink {
			e, s = b+1, 1
		}
		if s > 0 {
			b, e = clamp(b, 0, d), clamp(e, 0, d)
		} else {
			b, e = clamp(b, -1, d-1), clamp(e, -1, d-1)
		}
		specs[k] = sliceSpec{b, e, s, shrink}
	}
	return gatherSlices(a, specs), nil
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

// gatherV2 picks slices of params along axis.
func gatherV2(params, indices *tensor, axis int) (*tensor, error) {
	if axis < 0 {
		axis += len(params.shape)
	}
	idx, err := indices.ints()
	if err != nil {
		return nil, fmt.Errorf("GatherV2: %w", err)
	}
	shape := append(append(append([]int{}, params.shape[:axis]...), indices.shape...), params.shape[axis+1:]...)
	out := newTensor(params.dt, shape)
	outer, inner, dim := numel(params.shape[:axis]), numel(params.shape[axis+1:]), params.shape[axis]
	o := 0
	for r := 0; r < outer; r++ {
		for _, ix := range idx {
			if ix < 0 || ix >= dim {
				return nil, fmt.Errorf("GatherV2: index %d outside [0,%d)", ix, dim)
			}
			base := (r*dim + ix) * inner
			for k := 0; k < inner; k++ {
				copyElem(out, o, params, base+k)
				o++
			}
		}
	}
	return out, nil
}

func gatherNd(params, indices *tensor) (*tensor, error) {
	idx, err := indices.ints()
	if err != nil {
		return nil, fmt.Errorf("GatherNd: %w", err)
	}
	depth := indices.shape[len(indices.shape)-1]
	lead := indices.shape[:len(indices.shape)-1]
	inner := numel(params.shape[depth:])
	shape := append(append([]int{}, lead...), params.shape[depth:]...)
	out := newTensor(params.dt, shape)
	st := strides(params.shape)
	for r := 0; r < numel(lead); r++ {
		base := 0
		for k := 0; k < depth; k++ {
			v := idx[r*depth+k]
			if v < 0 || v >= params.shape[k] {
				return nil, fmt.Errorf("GatherNd: index %d outside dimension %d", v, params.shape[k])
			}
			base += v * st[k]
		}
		for k := 0; k < inner; k++ {
			copyElem(out, r*inner+k, params, base+k)
		}
	}
	return out, nil
}

// scatterNd adds updates into a zero tensor of the given shape.
func scatterNd(indices, updates *tensor, shape []int) (*tensor, error) {
	idx, err := indices.ints()
	if err != nil {
		return nil, fmt.Errorf("ScatterNd: %w", err)
	}
	depth := indices.shape[len(indices.shape)-1]
	rows := numel(indices.shape[:len(indices.shape)-1])
	inner := numel(shape[depth:])
	out := newTensor(updates.dt, shape)
	st := strides(shape)
	for r := 0; r < rows; r++ {
		base := 0
		for k := 0; k < depth; k++ {
			v := idx[r*depth+k]
			if v < 0 || v >= shape[k] {
				return nil, fmt.Errorf("ScatterNd: index %d outside dimension %d", v, shape[k])
			}
			base += v * st[k]
		}
		for k := 0; k < inner; k++ {
			switch updates.dt {
			case f32:
				out.f[base+k] += updates.f[r*inner+k]
			case i32:
				out.i[base+k] += updates.i[r*inner+k]
			default:
				return nil, fmt.Errorf("ScatterNd: bool updates")
			}
		}
	}
	return out, nil
}

func sparseToDense(indices *tensor, shape []int, values, def *tensor) (*tensor, error) {
	idx, err := indices.ints()
	if err != nil {
		return nil, fmt.Errorf("SparseToDense: %w", err)
	}
	out := newTensor(values.dt, shape)
	for p := 0; p < out.size(); p++ {
		copyElem(out, p, def, 0)
	}
	depth := 1
	if len(indices.shape) == 2 {
		depth = indices.shape[1]
	}
	st := strides(shape)
	for r := 0; r < len(idx)/depth; r++ {
		off := 0
		for k := 0; k < depth; k++ {
			v := idx[r*depth+k]
			if v < 0 || v >= shape[k] {
				return nil, fmt.Errorf("SparseToDense: index %d outside dimension %d", v, shape[k])
			}
			off += v * st[k]
		}
		src := r
		if values.size() == 1 {
			src = 0
		}
		copyElem(out, off, values, src)
	}
	return out, nil
}

// where lists the coordinates of true elements, row-major.
func where(a *tensor) (*tensor, error) {
	if a.dt != boolean {
		return nil, fmt.Errorf("Where: want bool, have %s", a.dt)
	}
	rank := len(a.shape)
	var coords []int32
	idx := make([]int, rank)
	for _, v := range a.b {
		if v {
			for _, c := range idx {
				coords = append(coords, int32(c))
			}
		}
		for k := rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < a.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return &tensor{dt: i32, shape: []int{len(coords) / max(rank, 1), rank}, i: coords}, nil
}

func rangeOp(start, limit, delta *tensor) (*tensor, error) {
	if start.dt == i32 {
		s, l, d := start.i[0], limit.i[0], delta.i[0]
		if d == 0 {
			return nil, fmt.Errorf("Range: zero delta")
		}
		var v []int32
		for x := s; (d > 0 && x < l) || (d < 0 && x > l); x += d {
			v = append(v, x)
		}
		return vectorI(v), nil
	}
	s, l, d := start.f[0], limit.f[0], delta.f[0]
	var v []float32
	for x := s; (d > 0 && x < l) || (d < 0 && x > l); x += d {
		v = append(v, x)
	}
	return &tensor{dt: f32, shape: []int{len(v)}, f: v}, nil
}
