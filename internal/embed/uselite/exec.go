package uselite

import (
	"fmt"
)

// exec runs one node. Each case follows TensorFlow's definition of the op
// for the shapes and attributes this model uses.
func (g *graph) exec(k int, n *node, in []*tensor, feeds map[string]*tensor) ([]*tensor, error) {
	one := func(t *tensor, err error) ([]*tensor, error) {
		if err != nil {
			return nil, err
		}
		return []*tensor{t}, nil
	}
	ints := func(j int) []int {
		v, _ := in[j].ints()
		return v
	}
	switch n.Op {
	case "Const":
		if t, ok := g.consts[k]; ok {
			return []*tensor{t}, nil
		}
		return nil, fmt.Errorf("constant without a weight")
	case "Placeholder":
		t, ok := feeds[n.Name]
		if !ok {
			return nil, fmt.Errorf("no value fed")
		}
		return []*tensor{t}, nil
	case "Identity":
		return []*tensor{in[0]}, nil
	case "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum":
		return one(elementwise(n.Op, arith[n.Op], in[0], in[1]))
	case "Less", "Greater":
		return one(compare(n.Op, in[0], in[1]))
	case "LogicalNot":
		return one(logicalNot(in[0]))
	case "Sin", "Cos", "Square", "Rsqrt", "Relu", "Tanh":
		return one(unary(n.Op, unaryF[n.Op], in[0]))
	case "Softmax":
		return one(softmax(in[0]))
	case "Cast":
		to, err := n.Attr["DstT"].dtype()
		if err != nil {
			return nil, err
		}
		return one(cast(in[0], to), nil)
	case "Sum", "Mean", "Max", "Prod":
		return one(reduce(n.Op, in[0], ints(1), n.Attr["keep_dims"].B != nil && *n.Attr["keep_dims"].B))
	case "Shape":
		s := make([]int32, len(in[0].shape))
		for j, d := range in[0].shape {
			s[j] = int32(d)
		}
		return one(vectorI(s), nil)
	case "Reshape":
		return one(reshape(in[0], ints(1)))
	case "ExpandDims":
		return one(expandDims(in[0], ints(1)[0]))
	case "Squeeze":
		return one(squeeze(in[0], n.Attr["squeeze_dims"].ints()))
	case "Transpose":
		return one(transpose(in[0], ints(1)))
	case "ConcatV2":
		return one(concat(in[:len(in)-1], ints(len(in) - 1)[0]))
	case "Pack":
		return one(pack(in, n.Attr["axis"].int()))
	case "SplitV":
		return splitV(in[0], ints(1), ints(2)[0])
	case "Slice":
		return one(slice(in[0], ints(1), ints(2)))
	case "StridedSlice":
		if n.Attr["ellipsis_mask"].int() != 0 || n.Attr["new_axis_mask"].int() != 0 {
			return nil, fmt.Errorf("ellipsis and new-axis masks are not supported")
		}
		return one(stridedSlice(in[0], ints(1), ints(2), ints(3),
			n.Attr["begin_mask"].int(), n.Attr["end_mask"].int(), n.Attr["shrink_axis_mask"].int()))
	case "GatherV2":
		return one(gatherV2(in[0], in[1], ints(2)[0]))
	case "GatherNd":
		return one(gatherNd(in[0], in[1]))
	case "ScatterNd":
		return one(scatterNd(in[0], in[1], ints(2)))
	case "SparseToDense":
		return one(sparseToDense(in[0], ints(1), in[2], in[3]))
	case "Where":
		return one(where(in[0]))
	case "Range":
		return one(rangeOp(in[0], in[1], in[2]))
	case "MatMul":
		return one(matMul(in[0], in[1], flag(n, "transpose_a"), flag(n, "transpose_b")))
	case "BatchMatMul", "BatchMatMulV2":
		return one(batchMatMul(in[0], in[1], flag(n, "adj_x"), flag(n, "adj_y")))
	case "Conv2D":
		return one(conv1x1(in[0], in[1]))
	case "BiasAdd":
		return one(biasAdd(in[0], in[1]))
	}
	return nil, fmt.Errorf("unsupported op %s", n.Op)
}

func flag(n *node, name string) bool {
	a, ok := n.Attr[name]
	return ok && a.B != nil && *a.B
}
