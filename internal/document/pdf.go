package document

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// pdfEngine runs PDFium compiled to WebAssembly, so PDF parsing is pure Go
// (no cgo) and a hostile PDF can only crash a sandbox, not the process.
// The engine starts on the first PDF: most ingests never pay for it.
type pdfEngine struct {
	cacheDir string
	once     sync.Once
	pool     pdfium.Pool
	cache    wazero.CompilationCache
	err      error
}

func newPDFEngine(cacheDir string) *pdfEngine { return &pdfEngine{cacheDir: cacheDir} }

func (e *pdfEngine) start() error {
	e.once.Do(func() {
		cfg := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling)
		if e.cacheDir != "" {
			if cache, err := wazero.NewCompilationCacheWithDir(e.cacheDir); err == nil {
				e.cache = cache
				cfg = cfg.WithCompilationCache(cache)
			}
		}
		workers := max(1, runtime.GOMAXPROCS(0))
		e.pool, e.err = webassembly.Init(webassembly.Config{
			MinIdle: 1, MaxIdle: workers, MaxTotal: workers,
			RuntimeConfig: cfg, Stdout: io.Discard, Stderr: io.Discard,
		})
		if e.err != nil {
			e.err = fmt.Errorf("starting the PDF engine: %w", e.err)
		}
	})
	return e.err
}

func (e *pdfEngine) close() error {
	if e.pool == nil {
		return nil
	}
	err := e.pool.Close()
	if e.cache != nil {
		e.cache.Close(context.Background())
	}
	return err
}

func (e *pdfEngine) load(ctx context.Context, data []byte, limit int64) (doc *Document, err error) {
	if err := e.start(); err != nil {
		return nil, err
	}
	inst, err := e.pool.GetInstance(time.Minute)
	if err != nil {
		return nil, fmt.Errorf("waiting for the PDF engine: %w", err)
	}
	defer inst.Close()
	// A WebAssembly trap surfaces as a panic in some call paths; it must
	// fail this file only.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("PDF engine failed on this file: %v", r)
		}
	}()
	opened, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return nil, fmt.Errorf("not a readable PDF: %w", err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: opened.Document})
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: opened.Document})
	if err != nil {
		return nil, fmt.Errorf("counting PDF pages: %w", err)
	}
	return e.pagesText(ctx, inst, opened.Document, count.PageCount, limit)
}

func (e *pdfEngine) pagesText(ctx context.Context, inst pdfium.Pdfium, d references.FPDF_DOCUMENT, pages int, limit int64) (*Document, error) {
	var b strings.Builder
	doc := &Document{}
	for i := 0; i < pages; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := inst.GetPageText(&requests.GetPageText{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: d, Index: i}}})
		if err != nil {
			return nil, fmt.Errorf("reading text of PDF page %d: %w", i+1, err)
		}
		text := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(page.Text, "\r\n", "\n"), "\r", "\n"))
		if text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		// A zero-width heading per page makes citations say which page.
		doc.Headings = append(doc.Headings, Heading{Level: 1, Title: fmt.Sprintf("Page %d", i+1), Start: b.Len(), End: b.Len()})
		b.WriteString(text)
		if int64(b.Len()) > limit {
			return nil, errors.New("extracted text exceeds the extraction limit (ingest.max_extracted_bytes)")
		}
	}
	if b.Len() == 0 {
		return nil, errors.New("PDF has no text layer (scanned images need OCR, which ragtune does not do)")
	}
	doc.Text = strings.ToValidUTF8(b.String(), "\uFFFD")
	return doc, nil
}
