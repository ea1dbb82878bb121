package document

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoad feeds arbitrary bytes to every text-based loader (and DOCX):
// none may panic, and a loaded document must be valid UTF-8 with heading
// spans inside its text.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"sample.md", "sample.html", "sample.docx"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, data)
	}
	f.Add("x.html", []byte("<h1>a<h2>b</h1>c<pre>\n\n</pre><li>d"))
	f.Add("x.md", []byte("---\ntitle: t\n---\n# h\n\nSetext\n---\n"))
	f.Add("x.txt", []byte("\xff\xfeh\x00"))
	l := NewLoader(Options{MaxFileBytes: 1 << 20, MaxExtractedBytes: 1 << 20})
	exts := []string{".md", ".html", ".txt", ".docx", ".go", ""}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ext := exts[len(name)%len(exts)]
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			ext = name[i:]
		}
		if ext == ".pdf" {
			ext = ".txt" // PDF is fuzzed through its own engine below
		}
		doc, err := l.Load(t.Context(), "fuzz"+ext, data)
		if err != nil {
			return
		}
		if !utf8.ValidString(doc.Text) {
			t.Fatalf("text is not valid UTF-8")
		}
		for _, h := range doc.Headings {
			if h.Start < 0 || h.Start > h.End || h.End > len(doc.Text) {
				t.Fatalf("heading %+v outside text of %d bytes", h, len(doc.Text))
			}
		}
	})
}

// FuzzPDF mutates the sample PDF: the engine must turn any input into a
// document or an error, never a crash.
func FuzzPDF(f *testing.F) {
	data, err := os.ReadFile("testdata/sample.pdf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	l := testLoader(f)
	// Start the PDF engine (WebAssembly, seconds on a cold cache) before
	// fuzzing, so its start does not count against the fuzzer's per-input
	// limit.
	if _, err := l.Load(f.Context(), "warm.pdf", data); err != nil {
		f.Fatalf("warming the PDF engine: %v", err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !strings.Contains(string(data[:min(len(data), 1024)]), "%PDF-") {
			return
		}
		doc, err := l.Load(t.Context(), "fuzz.pdf", data)
		if err == nil && !utf8.ValidString(doc.Text) {
			t.Fatal("text is not valid UTF-8")
		}
	})
}
