package vector

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

const magic = "RTHNSW01"

// ErrCorrupt means an index file cannot be read back.
var ErrCorrupt = errors.New("vector index file is corrupt")

// WriteTo serialises the graph: header, then each node's id, tombstone,
// vector and per-layer links. Tombstones are dropped on the way out only
// by a rebuild, never here, so links stay valid.
func (h *HNSW) WriteTo(w io.Writer) (int64, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	bw := bufio.NewWriter(w)
	cw := &countWriter{w: bw}
	put := func(v any) { binary.Write(cw, binary.LittleEndian, v) }
	cw.Write([]byte(magic))
	put([]int64{int64(h.dim), int64(h.p.M), int64(h.p.EfConstruction), int64(h.p.EfSearch), int64(len(h.nodes)), int64(h.entry), int64(h.maxLevel)})
	for _, n := range h.nodes {
		del := uint8(0)
		if n.deleted {
			del = 1
		}
		put(n.id)
		put(del)
		put(n.vec)
		put(uint32(len(n.links)))
		for _, l := range n.links {
			put(uint32(len(l)))
			put(l)
		}
	}
	if cw.err != nil {
		return cw.n, cw.err
	}
	return cw.n, bw.Flush()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// ReadHNSW loads a graph written by WriteTo, checking every link.
func ReadHNSW(r io.Reader, seed uint64) (*HNSW, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	var hdr [7]int64
	if err := binary.Read(br, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	dim, count := int(hdr[0]), int(hdr[4])
	if dim <= 0 || dim > 1<<16 || count < 0 || count > 1<<31 {
		return nil, fmt.Errorf("%w: implausible sizes", ErrCorrupt)
	}
	h := NewHNSW(dim, Params{M: int(hdr[1]), EfConstruction: int(hdr[2]), EfSearch: int(hdr[3]), Seed: seed})
	h.entry, h.maxLevel = int32(hdr[5]), int(hdr[6])
	// Nodes are appended as they are read, so a lying header cannot make
	// us allocate more than the file holds.
	h.nodes = make([]hnode, 0, min(count, 1<<16))
	for k := 0; k < count; k++ {
		h.nodes = append(h.nodes, hnode{})
		n := &h.nodes[k]
		var del uint8
		var layers uint32
		n.vec = make([]float32, dim)
		if err := firstErr(binary.Read(br, binary.LittleEndian, &n.id), binary.Read(br, binary.LittleEndian, &del),
			binary.Read(br, binary.LittleEndian, n.vec), binary.Read(br, binary.LittleEndian, &layers)); err != nil {
			return nil, fmt.Errorf("%w: node %d: %v", ErrCorrupt, k, err)
		}
		if layers == 0 || layers > 64 {
			return nil, fmt.Errorf("%w: node %d has %d layers", ErrCorrupt, k, layers)
		}
		n.links = make([][]int32, layers)
		for l := range n.links {
			var m uint32
			if err := binary.Read(br, binary.LittleEndian, &m); err != nil || m > 4096 {
				return nil, fmt.Errorf("%w: node %d layer %d", ErrCorrupt, k, l)
			}
			n.links[l] = make([]int32, m)
			if err := binary.Read(br, binary.LittleEndian, n.links[l]); err != nil {
				return nil, fmt.Errorf("%w: node %d layer %d: %v", ErrCorrupt, k, l, err)
			}
			for _, x := range n.links[l] {
				if x < 0 || int(x) >= count {
					return nil, fmt.Errorf("%w: node %d links to %d", ErrCorrupt, k, x)
				}
			}
		}
		n.deleted = del == 1
		if !n.deleted {
			h.byID[n.id] = int32(k)
			h.live++
		}
	}
	if count > 0 && (h.entry < 0 || int(h.entry) >= count || h.maxLevel >= len(h.nodes[h.entry].links)) {
		return nil, fmt.Errorf("%w: bad entry point", ErrCorrupt)
	}
	for k, n := range h.nodes {
		for l := range n.links {
			for _, x := range n.links[l] {
				if l >= len(h.nodes[x].links) {
					return nil, fmt.Errorf("%w: node %d links to %d above its top layer", ErrCorrupt, k, x)
				}
			}
		}
	}
	return h, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// SaveFile writes the graph to path atomically (temp file, fsync,
// rename), so a reader never sees half an index.
func (h *HNSW) SaveFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving the vector index: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := h.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the vector index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// LoadFile reads a graph saved by SaveFile, in one read of the file.
func LoadFile(path string) (*HNSW, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ReadHNSW(bytes.NewReader(data), 1)
}
