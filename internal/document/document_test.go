package document

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testLoader(t testing.TB) *Loader {
	t.Helper()
	l := NewLoader(Options{CacheDir: filepath.Join(os.TempDir(), "ragtune-test-wazero")})
	t.Cleanup(func() { l.Close() })
	return l
}

func headingTitles(d *Document) []string {
	var out []string
	for _, h := range d.Headings {
		out = append(out, strings.Repeat("#", h.Level)+" "+h.Title)
	}
	return out
}

func TestLoadFixtures(t *testing.T) {
	l := testLoader(t)
	tests := []struct {
		file       string
		format     Format
		title      string
		headings   []string
		contains   []string
		notContain []string
	}{
		{"sample.md", Markdown, "Deploy Guide",
			[]string{"# Deploying the service", "## Configuration", "### Secrets", "## Setext heading"},
			[]string{"Restart after every change."}, nil},
		{"sample.html", HTML, "Release Notes",
			[]string{"# Release 2.0", "## Upgrading"},
			[]string{"This release adds streaming answers and a new web interface.", "- Back up the store first.", "ragtune serve\n  --port 8080"},
			[]string{"tracking", "Home", "Site header", "Copyright footer", "color:red"}},
		{"sample.pdf", PDF, "sample",
			[]string{"# Page 1", "# Page 2"},
			[]string{"Backups run every night at 02:00 UTC.", "A restore takes about twenty minutes"}, nil},
		{"sample.docx", DOCX, "Key Rotation",
			[]string{"# Key Rotation Guide", "## Emergency rotation"},
			[]string{"Rotate signing keys every ninety days.\n\nEmergency rotation"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := l.LoadFile(context.Background(), filepath.Join("testdata", tc.file), tc.file)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if doc.Format != tc.format || doc.Title != tc.title {
				t.Errorf("format/title = %s/%q, want %s/%q", doc.Format, doc.Title, tc.format, tc.title)
			}
			if got := headingTitles(doc); strings.Join(got, "|") != strings.Join(tc.headings, "|") {
				t.Errorf("headings = %q, want %q", got, tc.headings)
			}
			for _, s := range tc.contains {
				if !strings.Contains(doc.Text, s) {
					t.Errorf("text lacks %q; text:\n%s", s, doc.Text)
				}
			}
			for _, s := range tc.notContain {
				if strings.Contains(doc.Text, s) {
					t.Errorf("text has %q, which is page chrome", s)
				}
			}
			for _, h := range doc.Headings {
				if h.Start < 0 || h.End > len(doc.Text) || h.Start > h.End {
					t.Errorf("heading %q span [%d,%d) outside text of %d bytes", h.Title, h.Start, h.End, len(doc.Text))
				} else if !strings.HasPrefix(h.Title, "Page ") && !strings.Contains(doc.Text[h.Start:h.End], strings.Fields(h.Title)[0]) {
					t.Errorf("heading %q span holds %q", h.Title, doc.Text[h.Start:h.End])
				}
			}
			if len(doc.Hash) != 64 {
				t.Errorf("hash %q is not sha256 hex", doc.Hash)
			}
		})
	}
}

func TestHostileInputs(t *testing.T) {
	l := NewLoader(Options{MaxFileBytes: 1 << 20, MaxExtractedBytes: 4 << 20})
	defer l.Close()
	pdf, err := os.ReadFile("testdata/sample.pdf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		skip     bool   // a SkipError rather than a failure
		errPart  string // part of the error text; "" means it must load
		warnPart string
	}{
		{"truncated.pdf", pdf[:len(pdf)/3], false, "PDF", ""},
		{"garbage.pdf", []byte("%PDF-1.4\n\x00\x01garbage"), false, "PDF", ""},
		{"fake.pdf", []byte("hello"), true, "no PDF header", ""},
		{"latin1.txt", []byte("caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve fa\xe7ade"), false, "not valid UTF-8", ""},
		{"mostly-utf8.txt", append(bytes.Repeat([]byte("fine text "), 100), 0xff), false, "", "invalid UTF-8"},
		{"utf16.txt", []byte("\xff\xfeh\x00i\x00"), false, "", ""},
		{"binary.dat", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1}, true, "unsupported file type", ""},
		{"noext", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1}, true, "binary", ""},
		{"big.txt", bytes.Repeat([]byte("a"), 2<<20), true, "over the", ""},
		{"deep.html", []byte(strings.Repeat("<div>", 50000) + "deep text" + strings.Repeat("</div>", 50000)), false, "", "token by token"},
		{"bomb.docx", zipBomb(t, 64<<20), false, "zip bomb", ""},
		{"notzip.docx", []byte("PK\x03\x04 not really"), false, "not a valid DOCX", ""},
		{"empty.md", nil, false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := l.Load(context.Background(), tc.name, tc.data)
			if tc.errPart == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.warnPart != "" && !strings.Contains(strings.Join(doc.Warnings, ";"), tc.warnPart) {
					t.Errorf("warnings %q lack %q", doc.Warnings, tc.warnPart)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want one containing %q", tc.errPart)
			}
			if IsSkip(err) != tc.skip {
				t.Errorf("IsSkip(%v) = %v, want %v", err, IsSkip(err), tc.skip)
			}
			if !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("error %q lacks %q", err, tc.errPart)
			}
		})
	}
}

// zipBomb builds a DOCX whose document.xml inflates to n bytes.
func zipBomb(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>`))
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for i := 0; i < n>>20; i++ {
		w.Write(chunk)
	}
	w.Write([]byte(`</w:t></w:r></w:p></w:body></w:document>`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		lang   string
	}{
		{"a/b/main.go", Code, "go"},
		{"README", Text, ""},
		{"Makefile", Code, "makefile"},
		{"notes.MD", Markdown, ""},
		{"page.htm", HTML, ""},
	}
	for _, tc := range tests {
		f, lang, err := Detect(tc.name, []byte("text"))
		if err != nil || f != tc.format || lang != tc.lang {
			t.Errorf("Detect(%q) = %s, %q, %v; want %s, %q", tc.name, f, lang, err, tc.format, tc.lang)
		}
	}
}

func TestFrontMatterTags(t *testing.T) {
	l := NewLoader(Options{})
	tests := map[string][]string{
		"---\ntitle: Ops\ntags:\n  - Backup\n  - \"security\"\n---\n# Ops\n": {"backup", "security"},
		"---\ntags: [a, B, a]\n---\ntext\n":                                  {"a", "b"},
		"---\nkeywords: x, y z\n---\ntext\n":                                 {"x", "y z"},
		"# no front matter\ntags: nope\n":                                    nil,
	}
	for src, want := range tests {
		doc, err := l.Load(t.Context(), "x.md", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(doc.Tags, "|") != strings.Join(want, "|") {
			t.Errorf("%q: tags %q, want %q", src, doc.Tags, want)
		}
	}
}
