package bm25

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// The file: magic, the caller's stamp, the counts, then the arrays as
// little-endian uint32s, and a CRC-32C of everything before it.
var magic = []byte("RTBM25\x00\x01")

// ErrCorrupt means an index file does not hold what it claims.
var ErrCorrupt = errors.New("bm25 index file is corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode lays x out as a file, with stamp (what the caller needs to know
// the file matches its data) in the header.
func (x *Index) Encode(stamp string) []byte {
	stamp = stamp[:min(len(stamp), maxStamp)]
	var b bytes.Buffer
	b.Write(magic)
	putString(&b, stamp)
	for _, n := range []int{len(x.names), len(x.docs), len(x.bmax), len(x.dl), len(x.live)} {
		b.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
	}
	for _, name := range x.names {
		putString(&b, name)
	}
	for _, a := range [][]uint32{x.off, x.docs, x.freq, x.boff, x.dl, x.live} {
		putUint32s(&b, a)
	}
	bits := make([]uint32, len(x.bmax))
	for i, f := range x.bmax {
		bits[i] = math.Float32bits(f)
	}
	putUint32s(&b, bits)
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(b.Bytes(), castagnoli)))
	return b.Bytes()
}

// WriteFile writes x to path with permissions perm so that a reader
// sees the old file or the whole new one: a temporary file, synced, then
// renamed over path.
func (x *Index) WriteFile(path, stamp string, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the keyword index: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the keyword index: %w", err)
	}
	if _, err := tmp.Write(x.Encode(stamp)); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the keyword index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the keyword index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the keyword index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the keyword index: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadFile reads an index file in one read and returns it with its stamp.
func ReadFile(path string) (*Index, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading the keyword index: %w", err)
	}
	return Decode(data)
}

// ReadStamp reads only the stamp of an index file (its first bytes).
func ReadStamp(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading the keyword index: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(magic)+binary.MaxVarintLen64+maxStamp)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if len(head) < len(magic) || !bytes.Equal(head[:len(magic)], magic) {
		return "", fmt.Errorf("%w: not a bm25 index file", ErrCorrupt)
	}
	r := &reader{b: head[len(magic):]}
	stamp := r.string()
	if r.err != nil {
		return "", fmt.Errorf("%w: unreadable stamp", ErrCorrupt)
	}
	return stamp, nil
}

// maxStamp bounds what ReadStamp reads.
const maxStamp = 256

// Decode parses and checks an encoded index.
func Decode(data []byte) (*Index, string, error) {
	if len(data) < len(magic)+4 || !bytes.Equal(data[:len(magic)], magic) {
		return nil, "", fmt.Errorf("%w: not a bm25 index file", ErrCorrupt)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, "", fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	r := &reader{b: body[len(magic):]}
	stamp := r.string()
	var n [5]int
	for i := range n {
		n[i] = r.count()
	}
	x := &Index{names: make([]string, 0, min(n[0], len(r.b)))}
	for range n[0] {
		x.names = append(x.names, r.string())
	}
	x.off, x.docs, x.freq = r.uint32s(n[0]+1), r.uint32s(n[1]), r.uint32s(n[1])
	x.boff, x.dl, x.live = r.uint32s(n[0]+1), r.uint32s(n[3]), r.uint32s(n[4])
	bits := r.uint32s(n[2])
	if r.err != nil || len(r.b) != 0 {
		return nil, "", fmt.Errorf("%w: wrong length", ErrCorrupt)
	}
	x.bmax = make([]float32, len(bits))
	for i, v := range bits {
		x.bmax[i] = math.Float32frombits(v)
	}
	if err := x.check(); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	x.terms = make(map[string]int32, len(x.names))
	for i, name := range x.names {
		x.terms[name] = int32(i)
	}
	x.finishDocs() // the block bounds are read as written
	return x, stamp, nil
}

// check validates what search relies on: sorted terms, posting lists in
// range and ascending, documents known, blocks matching the lists.
func (x *Index) check() error {
	if x.off[0] != 0 || x.boff[0] != 0 || int(x.off[len(x.names)]) != len(x.docs) || int(x.boff[len(x.names)]) != len(x.bmax) {
		return errors.New("offsets do not span the arrays")
	}
	for t := range x.names {
		if t > 0 && x.names[t-1] >= x.names[t] {
			return errors.New("terms out of order")
		}
		lo, hi := x.off[t], x.off[t+1]
		if hi <= lo || hi > uint32(len(x.docs)) || x.boff[t+1] < x.boff[t] || x.boff[t+1]-x.boff[t] != (hi-lo+BlockSize-1)/BlockSize {
			return fmt.Errorf("term %d has a malformed posting list", t)
		}
		for p := lo; p < hi; p++ {
			d := x.docs[p]
			if p > lo && d <= x.docs[p-1] || int(d) >= len(x.dl) || x.freq[p] == 0 {
				return fmt.Errorf("term %d has a malformed posting", t)
			}
		}
	}
	for i, d := range x.live {
		if i > 0 && d <= x.live[i-1] || int(d) >= len(x.dl) {
			return errors.New("malformed document list")
		}
	}
	return nil
}

func putString(b *bytes.Buffer, s string) {
	b.Write(binary.AppendUvarint(nil, uint64(len(s))))
	b.WriteString(s)
}

func putUint32s(b *bytes.Buffer, a []uint32) {
	buf := make([]byte, 4*len(a))
	for i, v := range a {
		binary.LittleEndian.PutUint32(buf[4*i:], v)
	}
	b.Write(buf)
}

// reader takes values off the front of b; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) count() int {
	if r.err != nil || len(r.b) < 8 {
		r.err = ErrCorrupt
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	if v > uint64(len(r.b)) { // every counted item takes at least a byte
		r.err = ErrCorrupt
		return 0
	}
	return int(v)
}

func (r *reader) string() string {
	n, k := binary.Uvarint(r.b)
	if r.err != nil || k <= 0 || n > uint64(len(r.b)-k) {
		r.err = ErrCorrupt
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

func (r *reader) uint32s(n int) []uint32 {
	if r.err != nil || n > len(r.b)/4 {
		r.err = ErrCorrupt
		return nil
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(r.b[4*i:])
	}
	r.b = r.b[4*n:]
	return out
}
