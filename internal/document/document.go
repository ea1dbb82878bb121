// Package document turns files into plain text that chunkers can slice:
// Markdown, plain text, HTML, PDF, DOCX and source code. Every loader
// returns the same Document shape, with heading spans expressed as byte
// offsets into Document.Text so citations can point back at lines.
package document

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dustin/go-humanize"
)

// Format names a loader.
type Format string

const (
	Markdown Format = "markdown"
	Text     Format = "text"
	HTML     Format = "html"
	PDF      Format = "pdf"
	DOCX     Format = "docx"
	Code     Format = "code"
)

// Document is a loaded file: its text and the structure chunkers need.
type Document struct {
	Path     string // the caller's key for the document (usually a relative path)
	Title    string
	Format   Format
	Language string // for code: the language name
	Text     string // valid UTF-8; byte and line ranges of chunks refer to it
	Headings []Heading
	Tags     []string // from front matter (Markdown); ingest may add more
	Hash     string   // sha256 of the raw file bytes, hex
	Size     int64    // raw size in bytes
	Warnings []string
}

// Heading is a section title inside Text. Start/End span the heading line.
type Heading struct {
	Level int
	Title string
	Start int
	End   int
}

// SkipError reports a file that is deliberately not ingested (unsupported
// type, binary, too large). It is not a failure of the file.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// IsSkip reports whether err says the file was skipped rather than broken.
func IsSkip(err error) bool {
	var s *SkipError
	return errors.As(err, &s)
}

// Options bound the work a single file may cause.
type Options struct {
	// MaxFileBytes caps the raw file size; larger files are skipped.
	MaxFileBytes int64
	// MaxExtractedBytes caps text produced from container formats (DOCX,
	// PDF), which is what stops zip bombs.
	MaxExtractedBytes int64
	// CacheDir holds compiled WebAssembly for the PDF engine; empty disables
	// the cache.
	CacheDir string
}

// DefaultOptions are the limits used when the configuration says nothing.
func DefaultOptions() Options {
	return Options{MaxFileBytes: 50 << 20, MaxExtractedBytes: 64 << 20}
}

// Loader loads documents. It is safe for concurrent use; Close releases the
// PDF engine if one was started.
type Loader struct {
	opts Options
	pdf  *pdfEngine
}

// NewLoader returns a Loader with the given limits.
func NewLoader(opts Options) *Loader {
	d := DefaultOptions()
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = d.MaxFileBytes
	}
	if opts.MaxExtractedBytes <= 0 {
		opts.MaxExtractedBytes = d.MaxExtractedBytes
	}
	return &Loader{opts: opts, pdf: newPDFEngine(opts.CacheDir)}
}

// Close releases resources held by the loader.
func (l *Loader) Close() error { return l.pdf.close() }

// LoadFile reads and loads the file at path; key becomes Document.Path.
func (l *Loader) LoadFile(ctx context.Context, path, key string) (*Document, error) {
	data, err := l.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return l.Load(ctx, key, data)
}

// ReadFile reads a file within the size limit; a larger file is a skip.
func (l *Loader) ReadFile(path string) ([]byte, error) {
	// The type is checked before opening: opening a named pipe blocks
	// until something writes to it, which may be never.
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return nil, &SkipError{Reason: "not a regular file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, &SkipError{Reason: "not a regular file"}
	}
	if info.Size() > l.opts.MaxFileBytes {
		return nil, l.tooLarge(info.Size())
	}
	// Read one byte past the limit so a file that grew after Stat is caught.
	data, err := io.ReadAll(io.LimitReader(f, l.opts.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > l.opts.MaxFileBytes {
		return nil, l.tooLarge(int64(len(data)))
	}
	return data, nil
}

func (l *Loader) tooLarge(n int64) error {
	return &SkipError{Reason: fmt.Sprintf("file is %s, over the %s limit (ingest.max_file_bytes)",
		humanBytes(n), humanBytes(l.opts.MaxFileBytes))}
}

// Load parses data as the format implied by name.
func (l *Loader) Load(ctx context.Context, name string, data []byte) (*Document, error) {
	if int64(len(data)) > l.opts.MaxFileBytes {
		return nil, l.tooLarge(int64(len(data)))
	}
	format, lang, err := Detect(name, data)
	if err != nil {
		return nil, err
	}
	var doc *Document
	switch format {
	case Markdown:
		doc, err = loadMarkdown(data)
	case Text:
		doc, err = loadText(data)
	case Code:
		doc, err = loadText(data)
		if doc != nil {
			doc.Language = lang
		}
	case HTML:
		doc, err = loadHTML(data)
	case PDF:
		doc, err = l.pdf.load(ctx, data, l.opts.MaxExtractedBytes)
	case DOCX:
		doc, err = loadDOCX(data, l.opts.MaxExtractedBytes)
	}
	if err != nil {
		return nil, err
	}
	doc.Path = name
	doc.Format = format
	doc.Size = int64(len(data))
	sum := sha256.Sum256(data)
	doc.Hash = hex.EncodeToString(sum[:])
	if doc.Title == "" {
		doc.Title = titleFromName(name)
	}
	return doc, nil
}

func titleFromName(name string) string {
	base := filepath.Base(name)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func humanBytes(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
