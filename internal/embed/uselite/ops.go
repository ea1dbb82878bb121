package uselite

import (
	"fmt"
	"math"

	"github.com/viterin/vek/vek32"
)

// binaryF and binaryI are the float and integer forms of an elementwise
// operation; either may be nil when the graph never needs it.
type binaryOp struct {
	f func(a, b float32) float32
	i func(a, b int32) int32
}

var arith = map[string]binaryOp{
	"Add":     {func(a, b float32) float32 { return a + b }, func(a, b int32) int32 { return a + b }},
	"AddV2":   {func(a, b float32) float32 { return a + b }, func(a, b int32) int32 { return a + b }},
	"Sub":     {func(a, b float32) float32 { return a - b }, func(a, b int32) int32 { return a - b }},
	"Mul":     {func(a, b float32) float32 { return a * b }, func(a, b int32) int32 { return a * b }},
	"RealDiv": {func(a, b float32) float32 { return a / b }, nil},
	"Maximum": {func(a, b float32) float32 { return max(a, b) }, func(a, b int32) int32 { return max(a, b) }},
}

// binary applies op with broadcasting, with fast paths for the shapes a
// transformer produces (equal shapes, scalars, a bias over the last axis).
func elementwise(name string, op binaryOp, a, b *tensor) (*tensor, error) {
	if a.dt != b.dt {
		return nil, fmt.Errorf("%s: mixed %s and %s", name, a.dt, b.dt)
	}
	if a.dt == boolean || (a.dt == f32 && op.f == nil) || (a.dt == i32 && op.i == nil) {
		return nil, fmt.Errorf("%s: unsupported for %s", name, a.dt)
	}
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := newTensor(a.dt, shape)
	if a.dt == f32 {
		if rowwiseF32(name, out, a, b) {
			return out, nil
		}
		if vec, ok := vectorF32[name]; ok {
			vec(out.f, expand(a, shape), expand(b, shape))
			return out, nil
		}
	}
	n := out.size()
	ia, ib := indexer(shape, a.shape), indexer(shape, b.shape)
	if a.dt == f32 {
		for p := 0; p < n; p++ {
			out.f[p] = op.f(a.f[ia(p)], b.f[ib(p)])
		}
	} else {
		for p := 0; p < n; p++ {
			out.i[p] = op.i(a.i[ia(p)], b.i[ib(p)])
		}
	}
	return out, nil
}

// vectorF32 are the float operations vek runs with SIMD on whole slices.
var vectorF32 = map[string]func(dst, x, y []float32){
	"Add":     func(d, x, y []float32) { vek32.Add_Into(d, x, y) },
	"AddV2":   func(d, x, y []float32) { vek32.Add_Into(d, x, y) },
	"Sub":     func(d, x, y []float32) { vek32.Sub_Into(d, x, y) },
	"Mul":     func(d, x, y []float32) { vek32.Mul_Into(d, x, y) },
	"RealDiv": func(d, x, y []float32) { vek32.Div_Into(d, x, y) },
	"Maximum": func(d, x, y []float32) { vek32.Maximum_Into(d, x, y) },
}

// numberF32 are the slice-by-scalar forms of the vector operations.
var numberF32 = map[string]func(dst, x []float32, a float32){
	"Add":     func(d, x []float32, a float32) { vek32.AddNumber_Into(d, x, a) },
	"AddV2":   func(d, x []float32, a float32) { vek32.AddNumber_Into(d, x, a) },
	"Sub":     func(d, x []float32, a float32) { vek32.SubNumber_Into(d, x, a) },
	"Mul":     func(d, x []float32, a float32) { vek32.MulNumber_Into(d, x, a) },
	"RealDiv": func(d, x []float32, a float32) { vek32.DivNumber_Into(d, x, a) },
	"Maximum": func(d, x []float32, a float32) { vek32.MaximumNumber_Into(d, x, a) },
}

// rowwiseF32 handles, row by row and without materialising a broadcast,
// the shapes layer norm and bias use: a full operand with a per-feature
// vector ([d]) or a per-row value ([n,1]) on the other side, and a
// per-feature vector against a per-row value. It reports whether it did.
func rowwiseF32(name string, out, a, b *tensor) bool {
	vec, num := vectorF32[name], numberF32[name]
	if vec == nil || len(out.shape) == 0 {
		return false
	}
	d := out.shape[len(out.shape)-1]
	rows := out.size() / max(d, 1)
	full := func(t *tensor) bool { return sameShape(t.shape, out.shape) }
	perRow := func(t *tensor) bool {
		return len(t.shape) == len(out.shape) && t.shape[len(t.shape)-1] == 1 && t.size() == rows && d > 1
	}
	perFeature := func(t *tensor) bool { return t.size() == d && isTrailing(out.shape, t.shape) && rows > 1 }
	commutes := name == "Add" || name == "AddV2" || name == "Mul" || name == "Maximum"
	switch {
	case full(a) && perFeature(b):
		for r := 0; r < rows; r++ {
			vec(out.f[r*d:(r+1)*d], a.f[r*d:(r+1)*d], b.f)
		}
	case full(a) && perRow(b):
		for r := 0; r < rows; r++ {
			num(out.f[r*d:(r+1)*d], a.f[r*d:(r+1)*d], b.f[r])
		}
	case commutes && perFeature(a) && perRow(b):
		for r := 0; r < rows; r++ {
			num(out.f[r*d:(r+1)*d], a.f, b.f[r])
		}
	case commutes && perRow(a) && perFeature(b):
		for r := 0; r < rows; r++ {
			num(out.f[r*d:(r+1)*d], b.f, a.f[r])
		}
	case commutes && perFeature(a) && full(b):
		for r := 0; r < rows; r++ {
			vec(out.f[r*d:(r+1)*d], b.f[r*d:(r+1)*d], a.f)
		}
	case commutes && perRow(a) && full(b):
		for r := 0; r < rows; r++ {
			num(out.f[r*d:(r+1)*d], b.f[r*d:(r+1)*d], a.f[r])
		}
	default:
		return false
	}
	return true
}

// expand returns t's values broadcast to shape, copying only when t is
// smaller.
func expand(t *tensor, shape []int) []float32 {
	n := numel(shape)
	switch {
	case sameShape(t.shape, shape):
		return t.f
	case t.size() == 1:
		out := make([]float32, n)
		for k := range out {
			out[k] = t.f[0]
		}
		return out
	case isTrailing(shape, t.shape):
		out := make([]float32, n)
		for k := 0; k < n; k += len(t.f) {
			copy(out[k:], t.f)
		}
		return out
	}
	idx := indexer(shape, t.shape)
	out := make([]float32, n)
	for p := range out {
		out[p] = t.f[idx(p)]
	}
	return out
}

// indexer maps an output position to a position in an operand of shape
// in, broadcast to out.
func indexer(out, in []int) func(int) int {
	switch {
	case sameShape(out, in):
		return func(p int) int { return p }
	case numel(in) == 1:
		return func(int) int { return 0 }
	case isTrailing(out, in):
		m := numel(in)
		return func(p int) int { return p % m }
	case len(in) == len(out) && in[len(in)-1] == 1 && sameShape(in[:len(in)-1], out[:len(out)-1]):
		// One value per row ([n,1] against [n,d]), as layer norm uses.
		d := out[len(out)-1]
		return func(p int) int { return p / d }
	}
	idx, _ := broadcastIndex(out, in, in)
	return func(p int) int { return idx[p] }
}

// isTrailing reports whether in equals the last dimensions of out, with
// only leading ones before them (a bias or a per-feature scale).
func isTrailing(out, in []int) bool {
	k := 0
	for k < len(in) && in[k] == 1 {
		k++
	}
	rest := in[k:]
	if len(rest) > len(out) {
		return false
	}
	return sameShape(out[len(out)-len(rest):], rest)
}

func compare(name string, a, b *tensor) (*tensor, error) {
	if a.dt != b.dt || a.dt == boolean {
		return nil, fmt.Errorf("%s: unsupported operands %s, %s", name, a.dt, b.dt)
	}
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := newTensor(boolean, shape)
	ia, ib := indexer(shape, a.shape), indexer(shape, b.shape)
	for p := range out.b {
		var less, greater bool
		if a.dt == f32 {
			x, y := a.f[ia(p)], b.f[ib(p)]
			less, greater = x < y, x > y
		} else {
			x, y := a.i[ia(p)], b.i[ib(p)]
			less, greater = x < y, x > y
		}
		if name == "Less" {
			out.b[p] = less
		} else {
			out.b[p] = greater
		}
	}
	return out, nil
}

var unaryF = map[string]func(float32) float32{
	"Sin":    func(x float32) float32 { return float32(math.Sin(float64(x))) },
	"Cos":    func(x float32) float32 { return float32(math.Cos(float64(x))) },
	"Square": func(x float32) float32 { return x * x },
	"Rsqrt":  func(x float32) float32 { return float32(1 / math.Sqrt(float64(x))) },
	"Relu":   func(x float32) float32 { return max(x, 0) },
	"Tanh":   func(x float32) float32 { return float32(math.Tanh(float64(x))) },
}

func unary(name string, fn func(float32) float32, a *tensor) (*tensor, error) {
	if a.dt != f32 {
		return nil, fmt.Errorf("%s: want float32, have %s", name, a.dt)
	}
	out := newTensor(f32, a.shape)
	for p, x := range a.f {
		out.f[p] = fn(x)
	}
	return out, nil
}

func logicalNot(a *tensor) (*tensor, error) {
	if a.dt != boolean {
		return nil, fmt.Errorf("LogicalNot: want bool, have %s", a.dt)
	}
	out := newTensor(boolean, a.shape)
	for p, x := range a.b {
		out.b[p] = !x
	}
	return out, nil
}

func cast(a *tensor, to dtype) *tensor {
	if a.dt == to {
		return a
	}
	out := newTensor(to, a.shape)
	for p := 0; p < a.size(); p++ {
		var v float64
		switch a.dt {
		case f32:
			v = float64(a.f[p])
		case i32:
			v = float64(a.i[p])
		case boolean:
			if a.b[p] {
				v = 1
			}
		}
		switch to {
		case f32:
			out.f[p] = float32(v)
		case i32:
			out.i[p] = int32(v)
		case boolean:
			out.b[p] = v != 0
		}
	}
	return out
}

// softmax over the last axis, stabilised by the row maximum.
func softmax(a *tensor) (*tensor, error) {
	if a.dt != f32 || len(a.shape) == 0 {
		return nil, fmt.Errorf("Softmax: want a float32 tensor of rank ≥ 1")
	}
	out := newTensor(f32, a.shape)
	n := a.shape[len(a.shape)-1]
	for r := 0; r < len(a.f); r += n {
		row, dst := a.f[r:r+n], out.f[r:r+n]
		m := float32(math.Inf(-1))
		for _, x := range row {
			m = max(m, x)
		}
		var sum float64
		for k, x := range row {
			e := math.Exp(float64(x - m))
			dst[k] = float32(e)
			sum += e
		}
		for k := range dst {
			dst[k] = float32(float64(dst[k]) / sum)
		}
	}
	return out, nil
}

// reduce implements Sum, Mean, Max and Prod over the given axes.
// reduceLast is the fast path for Sum and Mean of float32 rows over the
// last axis, what layer norm asks for.
func reduceLast(name string, a *tensor, axes []int, keep bool) (*tensor, bool) {
	rank := len(a.shape)
	if a.dt != f32 || rank < 2 || len(axes) != 1 || (axes[0] != -1 && axes[0] != rank-1) || (name != "Sum" && name != "Mean") {
		return nil, false
	}
	d := a.shape[rank-1]
	shape := append([]int(nil), a.shape[:rank-1]...)
	if keep {
		shape = append(shape, 1)
	}
	out := newTensor(f32, shape)
	for r := range out.f {
		var sum float64
		for _, x := range a.f[r*d : (r+1)*d] {
			sum += float64(x)
		}
		if name == "Mean" && d > 0 {
			sum /= float64(d)
		}
		out.f[r] = float32(sum)
	}
	return out, true
}

func reduce(name string, a *tensor, axes []int, keep bool) (*tensor, error) {
	rank := len(a.shape)
	if t, ok := reduceLast(name, a, axes, keep); ok {
		return t, nil
	}
	drop := make([]bool, rank)
	for _, ax := range axes {
		if ax < 0 {
			ax += rank
		}
		if ax < 0 || ax >= rank {
			return nil, fmt.Errorf("%s: axis out of range for shape %v", name, a.shape)
		}
		drop[ax] = true
	}
	var outShape, keptShape []int
	for k, d := range a.shape {
		if drop[k] {
			keptShape = append(keptShape, 1)
			continue
		}
		outShape = append(outShape, d)
		keptShape = append(keptShape, d)
	}
	n := numel(keptShape)
	acc := make([]float64, n)
	count := make([]int, n)
	first := make([]bool, n)
	st := strides(keptShape)
	idx := make([]int, rank)
	for p := 0; p < a.size(); p++ {
		o := 0
		for k := range idx {
			if !drop[k] {
				o += idx[k] * st[k]
			}
		}
		var v float64
		if a.dt == f32 {
			v = float64(a.f[p])
		} else {
			v = float64(a.i[p])
		}
		switch {
		case !first[o]:
			acc[o], first[o] = v, true
		case name == "Max":
			acc[o] = math.Max(acc[o], v)
		case name == "Prod":
			acc[o] *= v
		default:
			acc[o] += v
		}
		count[o]++
		for k := rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < a.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	if name == "Mean" {
		for k := range acc {
			if count[k] > 0 {
				acc[k] /= float64(count[k])
			}
		}
	}
	shape := outShape
	if keep {
		shape = keptShape
	}
	out := newTensor(a.dt, shape)
	for k, v := range acc {
		if a.dt == f32 {
			out.f[k] = float32(v)
		} else {
			out.i[k] = int32(v)
		}
	}
	return out, nil
}
