package uselite

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// modelFile is the TF.js graph-model format: a GraphDef as JSON plus a
// manifest of weight shards.
type modelFile struct {
	ModelTopology struct {
		Node []nodeDef `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
			Dtype string `json:"dtype"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

type nodeDef struct {
	Name  string          `json:"name"`
	Op    string          `json:"op"`
	Input []string        `json:"input"`
	Attr  map[string]attr `json:"attr"`
}

type attr struct {
	I    string          `json:"i"`
	B    *bool           `json:"b"`
	Type json.RawMessage `json:"type"`
	List *struct {
		I []string `json:"i"`
	} `json:"list"`
}

func (a attr) int() int {
	n, _ := strconv.Atoi(a.I)
	return n
}

func (a attr) ints() []int {
	if a.List == nil {
		return nil
	}
	out := make([]int, len(a.List.I))
	for k, s := range a.List.I {
		out[k], _ = strconv.Atoi(s)
	}
	return out
}

// dtype reads a TensorFlow DataType enum (number or name).
func (a attr) dtype() (dtype, error) {
	s := strings.Trim(string(a.Type), `"`)
	switch s {
	case "1", "DT_FLOAT":
		return f32, nil
	case "3", "9", "DT_INT32", "DT_INT64":
		return i32, nil
	case "10", "DT_BOOL":
		return boolean, nil
	}
	return 0, fmt.Errorf("unsupported data type %s", s)
}

type ref struct{ node, out int }

type node struct {
	nodeDef
	in []ref
}

// graph is a loaded model ready to run.
type graph struct {
	nodes  []node
	index  map[string]int
	consts map[int]*tensor
	order  []int // nodes needed for the output, dependencies first
	uses   []int // how many inputs read each node, to free values early
	output ref
}

func loadGraph(dir string) (*graph, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, err
	}
	var mf modelFile
	if err := json.Unmarshal(raw, &mf); err != nil {
		return nil, fmt.Errorf("parsing model.json: %w", err)
	}
	g := &graph{index: map[string]int{}, consts: map[int]*tensor{}}
	for _, nd := range mf.ModelTopology.Node {
		g.index[nd.Name] = len(g.nodes)
		g.nodes = append(g.nodes, node{nodeDef: nd})
	}
	for k := range g.nodes {
		for _, in := range g.nodes[k].Input {
			if strings.HasPrefix(in, "^") {
				continue // control dependency: ordering only
			}
			r, err := g.ref(in)
			if err != nil {
				return nil, err
			}
			g.nodes[k].in = append(g.nodes[k].in, r)
		}
	}
	if err := g.loadWeights(dir, &mf); err != nil {
		return nil, err
	}
	return g, g.plan()
}

func (g *graph) ref(name string) (ref, error) {
	out := 0
	if i := strings.LastIndexByte(name, ':'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			name, out = name[:i], n
		}
	}
	k, ok := g.index[name]
	if !ok {
		return ref{}, fmt.Errorf("model graph refers to unknown node %q", name)
	}
	return ref{k, out}, nil
}

// loadWeights reads the shards as one little-endian stream, in manifest
// order, and binds each weight to its Const node.
func (g *graph) loadWeights(dir string, mf *modelFile) error {
	for _, group := range mf.WeightsManifest {
		var data []byte
		for _, p := range group.Paths {
			b, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				return fmt.Errorf("reading weights: %w", err)
			}
			data = append(data, b...)
		}
		off := 0
		for _, w := range group.Weights {
			n := numel(w.Shape)
			if off+4*n > len(data) {
				return fmt.Errorf("weights end early at %s", w.Name)
			}
			t := &tensor{shape: append([]int{}, w.Shape...)}
			switch w.Dtype {
			case "float32":
				t.dt, t.f = f32, make([]float32, n)
				for k := range t.f {
					t.f[k] = math.Float32frombits(binary.LittleEndian.Uint32(data[off+4*k:]))
				}
			case "int32":
				t.dt, t.i = i32, make([]int32, n)
				for k := range t.i {
					t.i[k] = int32(binary.LittleEndian.Uint32(data[off+4*k:]))
				}
			default:
				return fmt.Errorf("weight %s has unsupported dtype %s", w.Name, w.Dtype)
			}
			off += 4 * n
			k, ok := g.index[w.Name]
			if !ok {
				return fmt.Errorf("weight %s has no node", w.Name)
			}
			g.consts[k] = t
		}
		if off != len(data) {
			return fmt.Errorf("weight shards hold %d bytes, manifest describes %d", len(data), off)
		}
	}
	return nil
}

// plan orders the nodes the output depends on. The output is the one
// node that nothing consumes.
func (g *graph) plan() error {
	consumed := make([]bool, len(g.nodes))
	for _, n := range g.nodes {
		for _, r := range n.in {
			consumed[r.node] = true
		}
	}
	out := -1
	for k, n := range g.nodes {
		if !consumed[k] && n.Op != "Const" && n.Op != "Placeholder" {
			if out >= 0 {
				return fmt.Errorf("model graph has several outputs (%s, %s)", g.nodes[out].Name, n.Name)
			}
			out = k
		}
	}
	if out < 0 {
		return fmt.Errorf("model graph has no output")
	}
	g.output = ref{out, 0}
	state := make([]uint8, len(g.nodes)) // 0 new, 1 visiting, 2 done
	var visit func(k int) error
	visit = func(k int) error {
		switch state[k] {
		case 1:
			return fmt.Errorf("model graph has a cycle at %s", g.nodes[k].Name)
		case 2:
			return nil
		}
		state[k] = 1
		for _, r := range g.nodes[k].in {
			if err := visit(r.node); err != nil {
				return err
			}
		}
		state[k] = 2
		g.order = append(g.order, k)
		return nil
	}
	if err := visit(out); err != nil {
		return err
	}
	g.uses = make([]int, len(g.nodes))
	for _, k := range g.order {
		for _, r := range g.nodes[k].in {
			g.uses[r.node]++
		}
	}
	return nil
}

// run evaluates the graph for the given placeholder values.
func (g *graph) run(feeds map[string]*tensor) (*tensor, error) {
	vals := make([][]*tensor, len(g.nodes))
	left := append([]int(nil), g.uses...)
	var live buffers
	for _, k := range g.order {
		n := &g.nodes[k]
		in := make([]*tensor, len(n.in))
		for j, r := range n.in {
			outs := vals[r.node]
			if r.out >= len(outs) || outs[r.out] == nil {
				return nil, fmt.Errorf("%s: input %d has no value", n.Name, j)
			}
			in[j] = outs[r.out]
		}
		outs, err := g.exec(k, n, in, feeds)
		if err != nil {
			return nil, fmt.Errorf("running %s (%s): %w", n.Name, n.Op, err)
		}
		vals[k] = outs
		for _, t := range outs {
			live.hold(t, in, n.Op == "Const" || n.Op == "Placeholder")
		}
		for _, r := range n.in {
			if left[r.node]--; left[r.node] == 0 && g.nodes[r.node].Op != "Const" {
				for _, t := range vals[r.node] {
					live.release(t)
				}
				vals[r.node] = nil
			}
		}
	}
	return vals[g.output.node][g.output.out], nil
}

// buffers tracks, for one run, which float32 buffer each live value sees.
type buffers struct {
	of map[*tensor]*buffer
}

// hold records a new value: a view of one of its inputs' buffers shares
// that buffer; anything else owns a buffer of its own, recyclable unless
// it is a weight or a fed input.
func (b *buffers) hold(t *tensor, in []*tensor, pinned bool) {
	if t == nil || t.dt != f32 || cap(t.f) == 0 {
		return
	}
	if b.of == nil {
		b.of = map[*tensor]*buffer{}
	}
	for _, x := range in {
		if x == nil || x.dt != f32 || cap(x.f) == 0 {
			continue
		}
		buf := b.of[x]
		if buf == nil {
			// An input this run did not make (a weight, a fed tensor)
			// gets a pinned record, so views of it stay pinned.
			buf = &buffer{reg: regionOf(x.f), pinned: true, refs: 1}
			b.of[x] = buf
		}
		if buf.reg.contains(t.f) {
			buf.refs++
			b.of[t] = buf
			return
		}
	}
	if old, ok := b.of[t]; ok { // the same tensor value again (Identity)
		old.refs++
		return
	}
	b.of[t] = &buffer{reg: regionOf(t.f), f: t.f, refs: 1, pinned: pinned}
}

// release drops a dead value; a buffer no live value sees goes back to
// the pool.
func (b *buffers) release(t *tensor) {
	buf := b.of[t]
	if buf == nil {
		return
	}
	if buf.refs--; buf.refs == 0 && !buf.pinned {
		putF32(buf.f)
	}
}
