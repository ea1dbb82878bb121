package sqlite

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// A quantised store keeps int8 codes in memory and re-ranks the best
// candidates with their float32 vectors. Those are read from a sidecar
// file beside the store, vectors-<generation>.f32, mapped read-only, so
// that they cost page cache the kernel can reclaim rather than Go heap;
// where memory mapping is not built in (f32map_other.go) they are read
// from SQLite instead, with the same results.
//
// The file is a cache, never trusted: its header must name the current
// generation, dimension and a count that matches the file's size, and
// while the index is built from SQLite every vector is compared, bit for
// bit, with the sidecar's row at its position. A sidecar that fails
// either check is rewritten from the vectors being read; one that cannot
// be written (a read-only store, a full disk) leaves re-ranking on
// SQLite. New files are written under a temporary name, synced, mapped
// from the written descriptor and then renamed into place, so no reader
// sees half a file; a temporary file a crash leaves behind matches no
// sidecar name, is never opened, and is deleted once it is an hour old.
//
// Layout, in the machine's byte order (a file from a machine of the other
// order fails the version check): magic "RTF32VEC", version uint32,
// dimension uint32, count uint64, generation uint64, then count rows of
// dimension float32s.

const (
	f32Prefix, f32Suffix = "vectors-", ".f32"
	f32Magic             = "RTF32VEC"
	f32Version           = 1
	f32HeaderSize        = 32
	// f32TempMaxAge is when a leftover temporary file is surely not being
	// written any more.
	f32TempMaxAge = time.Hour
)

// errF32Invalid means a sidecar file is not one for these vectors.
var errF32Invalid = errors.New("float32 sidecar does not match the store")

// errNoMap means memory mapping is not built in (f32map_other.go).
var errNoMap = errors.New("memory mapping is not built in on this system")

type f32Header struct {
	dim   int
	count int
	gen   uint64
}

func (h f32Header) encode() []byte {
	b := make([]byte, 0, f32HeaderSize)
	b = append(b, f32Magic...)
	b = binary.NativeEndian.AppendUint32(b, f32Version)
	b = binary.NativeEndian.AppendUint32(b, uint32(h.dim))
	b = binary.NativeEndian.AppendUint64(b, uint64(h.count))
	return binary.NativeEndian.AppendUint64(b, h.gen)
}

// decodeF32Header checks a header against the file's size.
func decodeF32Header(b []byte, size int64) (f32Header, error) {
	if len(b) < f32HeaderSize || string(b[:8]) != f32Magic {
		return f32Header{}, fmt.Errorf("%w: bad header", errF32Invalid)
	}
	if v := binary.NativeEndian.Uint32(b[8:]); v != f32Version {
		return f32Header{}, fmt.Errorf("%w: version %d", errF32Invalid, v)
	}
	dim, count := binary.NativeEndian.Uint32(b[12:]), binary.NativeEndian.Uint64(b[16:])
	h := f32Header{dim: int(dim), count: int(count), gen: binary.NativeEndian.Uint64(b[24:])}
	if dim == 0 || dim > 1<<16 || count > 1<<32 {
		return h, fmt.Errorf("%w: implausible sizes", errF32Invalid)
	}
	if want := int64(f32HeaderSize) + 4*int64(dim)*int64(count); size != want {
		return h, fmt.Errorf("%w: %d bytes, the header implies %d", errF32Invalid, size, want)
	}
	return h, nil
}

// f32Map is a read-only mapping of a sidecar's vectors. Searches hold it
// between acquire and release; once retired (its index replaced or the
// store closed) it is unmapped by whichever of retire and the last
// release comes later, so no search reads unmapped memory.
type f32Map struct {
	mu      sync.Mutex
	data    []byte    // the whole mapping; nil once unmapped
	vecs    []float32 // row p is vecs[p*dim : (p+1)*dim]
	dim     int
	count   int
	refs    int
	retired bool
}

func newF32Map(data []byte, h f32Header) *f32Map {
	m := &f32Map{data: data, dim: h.dim, count: h.count}
	if n := h.dim * h.count; n > 0 {
		m.vecs = unsafe.Slice((*float32)(unsafe.Pointer(&data[f32HeaderSize])), n)
	}
	return m
}

// acquire reports whether the mapping may be read, until release.
func (m *f32Map) acquire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retired {
		return false
	}
	m.refs++
	return true
}

func (m *f32Map) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs--
	m.unmapIfIdle()
}

func (m *f32Map) retire() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retired = true
	m.unmapIfIdle()
}

func (m *f32Map) unmapIfIdle() {
	if m.retired && m.refs == 0 && m.data != nil {
		unmap(m.data) // an error leaves the pages mapped: nothing to undo
		m.data, m.vecs = nil, nil
	}
}

// row is the vector at position p; only between acquire and release.
func (m *f32Map) row(p int) []float32 {
	return m.vecs[p*m.dim : (p+1)*m.dim : (p+1)*m.dim]
}

// matches reports whether row p holds exactly vec, bit for bit.
func (m *f32Map) matches(p int, vec []float32) bool {
	return p < m.count && len(vec) == m.dim && bytes.Equal(floatBytes(m.row(p)), floatBytes(vec))
}

func floatBytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// openF32 maps the sidecar at path if its header names generation gen.
func openF32(path string, gen uint64) (*f32Map, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	head := make([]byte, f32HeaderSize)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errF32Invalid, path, err)
	}
	h, err := decodeF32Header(head, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if h.gen != gen {
		return nil, fmt.Errorf("%w: %s is of generation %d, not %d", errF32Invalid, path, h.gen, gen)
	}
	data, err := mapFile(f, int(st.Size()))
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	return newF32Map(data, h), nil
}

// f32Writer writes a sidecar under a temporary name.
type f32Writer struct {
	f   *os.File
	bw  *bufio.Writer
	h   f32Header
	err error
}

func createF32(dir string, gen uint64, dim int) (*f32Writer, error) {
	f, err := os.CreateTemp(dir, f32Name(gen)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("writing the float32 sidecar: %w", err)
	}
	w := &f32Writer{f: f, bw: bufio.NewWriterSize(f, 1<<20), h: f32Header{dim: dim, gen: gen}}
	w.bw.Write(make([]byte, f32HeaderSize)) // the header goes in last, once the count is known
	return w, nil
}

func (w *f32Writer) add(vec []float32) {
	if w.err != nil {
		return
	}
	if len(vec) != w.h.dim {
		w.err = fmt.Errorf("%w: a vector of dimension %d among %d", errF32Invalid, len(vec), w.h.dim)
		return
	}
	_, w.err = w.bw.Write(floatBytes(vec))
	w.h.count++
}

func (w *f32Writer) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// commit syncs the file, maps it from the descriptor just written (so
// the mapping is of these bytes whoever renames what over the name
// next) and renames it to path.
func (w *f32Writer) commit(path string) (*f32Map, error) {
	m, err := w.finish()
	if err != nil {
		w.abort()
		return nil, fmt.Errorf("writing the float32 sidecar: %w", err)
	}
	os.Chmod(w.f.Name(), storePerm(filepath.Dir(path))) // a reader that cannot open it re-ranks from SQLite
	if err := os.Rename(w.f.Name(), path); err != nil {
		m.retire()
		os.Remove(w.f.Name())
		return nil, fmt.Errorf("writing the float32 sidecar: %w", err)
	}
	return m, nil
}

func (w *f32Writer) finish() (*f32Map, error) {
	if w.err != nil {
		return nil, w.err
	}
	if err := w.bw.Flush(); err != nil {
		return nil, err
	}
	if _, err := w.f.WriteAt(w.h.encode(), 0); err != nil {
		return nil, err
	}
	if err := w.f.Sync(); err != nil {
		return nil, err
	}
	size := f32HeaderSize + 4*w.h.dim*w.h.count
	data, err := mapFile(w.f, size)
	if err != nil {
		return nil, err
	}
	if err := w.f.Close(); err != nil {
		unmap(data)
		return nil, err
	}
	return newF32Map(data, w.h), nil
}

func f32Name(gen uint64) string { return f32Prefix + strconv.FormatUint(gen, 10) + f32Suffix }

func (s *Corpus) f32Path(gen uint64) string { return filepath.Join(s.dir, f32Name(gen)) }

// removeOldF32 deletes sidecars of generations before gen and temporary
// files old enough to be left over from a crash. A process still using
// an older sidecar keeps its mapping: the file goes when it unmaps.
func (s *Corpus) removeOldF32(gen uint64, now time.Time) {
	matches, _ := filepath.Glob(filepath.Join(s.dir, f32Prefix+"*"+f32Suffix+"*"))
	for _, f := range matches {
		name := filepath.Base(f)
		if g, ok := f32Gen(name); ok {
			if g < gen {
				os.Remove(f)
			}
			continue
		}
		if st, err := os.Stat(f); err == nil && strings.Contains(name, f32Suffix+".tmp") && now.Sub(st.ModTime()) > f32TempMaxAge {
			os.Remove(f)
		}
	}
}

// f32Gen parses a sidecar's file name.
func f32Gen(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, f32Prefix)
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, f32Suffix); !ok {
		return 0, false
	}
	g, err := strconv.ParseUint(digits, 10, 64)
	return g, err == nil
}

// f32Loader follows the vectors read from SQLite while a quantised index
// is built: it checks each, by position, against the generation's
// existing sidecar, and writes a new sidecar instead when there is none
// or it differs.
type f32Loader struct {
	dir   string
	gen   uint64
	write bool       // this user may write the store: a missing or stale sidecar is written
	old   *f32Map    // the existing sidecar, while every row so far matches
	w     *f32Writer // the new one
	n     int        // vectors seen
	err   error      // why there will be no sidecar
}

func (s *Corpus) newF32Loader(genText string) *f32Loader {
	l := &f32Loader{dir: s.dir, write: !s.readOnly}
	gen, err := strconv.ParseUint(genText, 10, 64)
	switch {
	case !canMap:
		l.err = errNoMap
	case err != nil:
		l.err = fmt.Errorf("%w: vector generation %q: %w", errF32Invalid, genText, err)
	default:
		l.gen = gen
		l.old, _ = openF32(s.f32Path(gen), gen) // missing or invalid: written anew
	}
	return l
}

func (l *f32Loader) add(vec []float32) {
	if l.err != nil {
		return
	}
	if l.old != nil && l.old.matches(l.n, vec) {
		l.n++
		return
	}
	if l.w == nil && !l.start(len(vec)) {
		return
	}
	l.w.add(vec)
	l.n++
}

// start begins a new sidecar with the rows of the old one that matched.
func (l *f32Loader) start(dim int) bool {
	if !l.write {
		l.drop(fmt.Errorf("%w: the store is read-only, and so its sidecar", errF32Invalid))
		return false
	}
	w, err := createF32(l.dir, l.gen, dim)
	if err != nil {
		l.drop(err)
		return false
	}
	l.w = w
	if l.old != nil {
		for p := range l.n {
			w.add(l.old.row(p))
		}
		l.old.retire()
		l.old = nil
	}
	return true
}

// drop gives the sidecar up.
func (l *f32Loader) drop(err error) {
	if l.old != nil {
		l.old.retire()
		l.old = nil
	}
	if l.w != nil {
		l.w.abort()
		l.w = nil
	}
	if l.err == nil {
		l.err = err
	}
}

// done returns the mapped sidecar of the vectors seen: the existing one
// if every row matched, else the one just written. Without vectors
// there is none, and no error.
func (l *f32Loader) done() (*f32Map, error) {
	switch {
	case l.err != nil:
		return nil, l.err
	case l.n == 0:
		l.drop(nil)
		return nil, nil
	case l.old != nil && l.n < l.old.count:
		if !l.start(l.old.dim) {
			return nil, l.err
		}
	case l.old != nil:
		return l.old, nil
	}
	m, err := l.w.commit(filepath.Join(l.dir, f32Name(l.gen)))
	l.w = nil
	return m, err
}
