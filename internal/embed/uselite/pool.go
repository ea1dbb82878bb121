package uselite

import (
	"math/bits"
	"sync"
	"unsafe"
)

// The forward pass allocates a new float32 buffer for nearly every op
// output, tens of megabytes per text; left to the garbage collector that
// cost a quarter of the embedding time. graph.run hands buffers back here
// once no live tensor can see them, and newTensor takes them out again.
// Buffers are pooled by power-of-two capacity.
var f32Pools [40]sync.Pool

func getF32(n int) []float32 {
	if n == 0 {
		return nil
	}
	class := bits.Len(uint(n - 1))
	if p, ok := f32Pools[class].Get().(*[]float32); ok {
		buf := (*p)[:n]
		clear(buf)
		return buf
	}
	return make([]float32, n, 1<<class)
}

func putF32(buf []float32) {
	c := cap(buf)
	if c == 0 || c&(c-1) != 0 {
		return // not one of ours
	}
	buf = buf[:c]
	f32Pools[bits.Len(uint(c-1))].Put(&buf)
}

// region is the memory a float32 buffer spans, to tell which tensors are
// views of which.
type region struct{ lo, hi uintptr }

func regionOf(f []float32) region {
	if cap(f) == 0 {
		return region{}
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
	return region{lo, lo + uintptr(cap(f))*4}
}

func (r region) contains(f []float32) bool {
	if cap(f) == 0 || r.lo == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
	return p >= r.lo && p < r.hi
}

// buffer is one pooled allocation and the count of live values that see
// it (the tensor that owns it, and views of it such as reshapes).
type buffer struct {
	reg    region
	f      []float32
	refs   int
	pinned bool // weights, inputs: never recycled
}
