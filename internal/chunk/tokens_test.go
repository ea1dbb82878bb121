package chunk

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/dlclark/regexp2"
	"github.com/pkoukk/tiktoken-go"
)

// cl100kPattern is tiktoken-go's split pattern for cl100k_base; the
// scanner in pretoken.go must cut text exactly where it does.
const cl100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

var reference = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	return tiktokenEncoding("cl100k_base")
})

var cl100kRegexp = sync.OnceValue(func() *regexp2.Regexp {
	return regexp2.MustCompile(cl100kPattern, regexp2.None)
})

// referencePieces splits s as tiktoken-go does (on runes, bad bytes
// read as U+FFFD).
func referencePieces(t testing.TB, s string) []string {
	runes := []rune(s)
	var out []string
	m, err := cl100kRegexp().FindRunesMatch(runes)
	for ; m != nil && err == nil; m, err = cl100kRegexp().FindNextMatch(m) {
		out = append(out, string(runes[m.Index:m.Index+m.Length]))
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func scannerPieces(s string) []string {
	s = string([]rune(s))
	var out []string
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

func fastCounter(t testing.TB) *TiktokenCounter {
	c, err := NewTiktokenCounter("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	if c.fast == nil {
		t.Fatal("cl100k_base is not on the fast path")
	}
	return c
}

func referenceCounter(t testing.TB) *tiktoken.Tiktoken {
	enc, err := reference()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// checkExact fails when the scanner's pieces or the count differ from
// tiktoken-go's for s.
func checkExact(t testing.TB, b bpeCounter, enc *tiktoken.Tiktoken, name, s string) {
	t.Helper()
	want := len(enc.EncodeOrdinary(s))
	if got := b.count(s); got != want {
		ref, mine := referencePieces(t, s), scannerPieces(s)
		for i := range min(len(ref), len(mine)) {
			if ref[i] != mine[i] {
				t.Fatalf("%s: %d tokens, tiktoken-go %d; piece %d: %q, tiktoken-go %q", name, got, want, i, mine[i], ref[i])
			}
		}
		t.Fatalf("%s: %d tokens, tiktoken-go %d (%d pieces, tiktoken-go %d)", name, got, want, len(mine), len(ref))
	}
}

var trickyStrings = []struct{ name, text string }{
	{"empty", ""},
	{"one space", " "},
	{"one letter", "a"},
	{"contractions", "I'm sure they'll say it's what we'd've done, you're right, we've 't"},
	{"upper-case contractions", "I'LL SAY IT'S WHAT WE'D DONE, YOU'RE RIGHT, WE'VE 'T 'M 'S"},
	{"mixed-case contractions", "I'Ll it'S We'Ve you'rE 'Re 'lL 'L 'r 'v 'x ''s '"},
	{"apostrophe alone", "'"},
	{"apostrophes", "''''s ' s 'hello ''"},
	{"numbers 1-7 digits", "1 12 123 1234 12345 123456 1234567 3.14159 1,000,000 -42 +7e10"},
	{"unicode digits", "٣٤٥٦ ४२ ²³¹ ½ Ⅻ ①②③④ 12٣4"},
	{"unicode letters", "naïve café Ωmega Straße Ελληνικά русский 日本語のテキスト 한국어 עברית العربية"},
	{"combining marks", "cafe\u0301 e\u0301e\u0301 \u0301start a\u0300\u0301\u0302b n\u0303"},
	{"CRLF", "line one\r\nline two\r\n\r\nline three\r\n"},
	{"lone CR and LF", "a\rb\nc\r\r\n\n\rd"},
	{"spaces before newlines", "word   \n   next  \t \n\nend    \r\n  "},
	{"trailing spaces", "end   "},
	{"leading spaces", "    start"},
	{"tabs and spaces", "\t\tindent \t mixed\t"},
	{"unicode spaces", "a\u00a0b\u2003c\u3000d\u0085e\u2028f\u1680g\u202f\u205f h \u00a0\u00a0x"},
	{"vertical tab and form feed", "a\vb\fc \v\f d"},
	{"emoji", "👍 ok 🎉🎉 family 👨‍👩‍👧‍👦 flag 🇫🇷 skin 👋🏽 😀😀😀"},
	{"punctuation runs", "...!!! ?? --> <=> ::: a.b.c (x) [y] {z} \"q\" @#$%^&*"},
	{"punctuation then newlines", "end.\n\nnext!\r\n\r\nthird?\n"},
	{"space then punctuation", " ... ! ,x ;\n"},
	{"code", "func main() {\n\tfmt.Println(\"hi\")\n}\n\nx := []int{1, 2, 3}\r\n"},
	{"url", "https://example.com/path?q=1&r=two#frag"},
	{"long word", strings.Repeat("pneumonoultramicroscopicsilicovolcanoconiosis", 5)},
	{"long spaces", strings.Repeat(" ", 300) + "x" + strings.Repeat("\n", 50)},
	{"long digits", strings.Repeat("9876543210", 30)},
	{"invalid UTF-8", "ok \xff\xfe bad \xc3 half \xe2\x82 cut \x80"},
	{"NUL and controls", "a\x00b\x01\x02 \x7f c"},
	{"replacement char", "\ufffd\ufffd x"},
	{"special token text", "<|endoftext|> <|fim_prefix|>"},
	{"CJK run", "人工知能は、コンピュータが人間のように考えることを可能にする技術です。"},
	{"Thai", "ภาษาไทยไม่มีช่องว่างระหว่างคำ"},
	{"letter-number mix", "abc123def4567 x1y2z3 COVID-19 H2O"},
}

func TestCountMatchesTiktokenTricky(t *testing.T) {
	c, enc := fastCounter(t), referenceCounter(t)
	for _, tc := range trickyStrings {
		t.Run(tc.name, func(t *testing.T) {
			checkExact(t, bpeCounter{ranks: c.fast.ranks}, enc, tc.name, tc.text)
			if got, want := c.Count(tc.text), len(enc.EncodeOrdinary(tc.text)); got != want {
				t.Errorf("Count = %d, tiktoken-go %d", got, want)
			}
		})
	}
}

func TestPiecesMatchRegexp(t *testing.T) {
	for _, tc := range trickyStrings {
		ref, mine := referencePieces(t, tc.text), scannerPieces(tc.text)
		if strings.Join(ref, "|") != strings.Join(mine, "|") {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, mine, ref)
		}
	}
}

// TestContractionFolding backs contraction's ASCII-only case folding:
// regexp2 compares unicode.ToLower(rune) with the pattern's letters.
func TestContractionFolding(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0x80 && strings.ContainsRune("strevmld'", unicode.ToLower(r)) {
			t.Errorf("%U lower-cases to %q", r, unicode.ToLower(r))
		}
	}
}

// TestCountMatchesTiktokenCorpora compares whole documents: the repo's
// docs and Go source, and the shared datasets when present.
func TestCountMatchesTiktokenCorpora(t *testing.T) {
	c, enc := fastCounter(t), referenceCounter(t)
	sources := map[string]func(testing.TB) []string{
		"docs":      func(t testing.TB) []string { return repoFiles(t, "../../docs", ".md") },
		"go source": func(t testing.TB) []string { return repoFiles(t, "../..", ".go") },
		"scifact":   func(t testing.TB) []string { return datasetTexts(t, "scifact/corpus.jsonl.gz") },
		"squad":     func(t testing.TB) []string { return datasetTexts(t, "squad-v1.1-dev/corpus.jsonl") },
		"cranfield": func(t testing.TB) []string { return datasetTexts(t, "cranfield/corpus.jsonl") },
	}
	for name, read := range sources {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			texts, bytes := read(t), 0
			for i, s := range texts {
				checkExact(t, *c.fast, enc, name+" #"+strconv.Itoa(i), s)
				bytes += len(s)
			}
			t.Logf("%d texts, %d bytes: same counts as tiktoken-go", len(texts), bytes)
		})
	}
}

// repoFiles reads every file under root whose name ends in ext.
func repoFiles(t testing.TB, root, ext string) []string {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ext) {
			if err == nil && d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return err
		}
		data, err := os.ReadFile(path)
		out = append(out, string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no %s files under %s", ext, root)
	}
	return out
}

// datasetTexts reads a BEIR corpus (title and text of each document)
// from $RAGTUNE_DATASETS or ../shared/datasets, skipping when absent.
func datasetTexts(t testing.TB, rel string) []string {
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../shared/datasets"
	}
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		t.Skipf("dataset not found (set RAGTUNE_DATASETS): %v", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(rel, ".gz") {
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d struct{ Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Title+"\n\n"+d.Text+"\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func FuzzTokenCount(f *testing.F) {
	for _, tc := range trickyStrings {
		f.Add(tc.text)
	}
	c, enc := fastCounter(f), referenceCounter(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkExact(t, *c.fast, enc, "fuzz", s)
	})
}

// benchTexts is SciFact's first 300 documents (about 450 kB) when the
// datasets are present, else the repo's docs.
func benchTexts(b *testing.B) []string {
	var texts []string
	root := os.Getenv("RAGTUNE_DATASETS")
	if root == "" {
		root = "../../../shared/datasets"
	}
	if _, err := os.Stat(filepath.Join(root, "scifact/corpus.jsonl.gz")); err == nil {
		texts = datasetTexts(b, "scifact/corpus.jsonl.gz")[:300]
	} else {
		texts = repoFiles(b, "../../docs", ".md")
	}
	return texts
}

// BenchmarkTokenCount times the counter against tiktoken-go on the same
// text, alternating in each iteration ("x-tiktoken": tiktoken-go's time
// over ours; ns/op is both together).
// "documents" counts whole texts; "words" counts " "+word, as the
// chunker does. Both go through Count with the merge cache empty at the
// start of each iteration (tiktoken-go runs bare: the cache it had in
// Count held whole short texts).
func BenchmarkTokenCount(b *testing.B) {
	c, enc := fastCounter(b), referenceCounter(b)
	docs := benchTexts(b)
	var words []string
	for _, d := range docs {
		for _, w := range strings.Fields(d) {
			words = append(words, " "+w)
		}
	}
	for _, tc := range []struct {
		name  string
		texts []string
	}{{"documents", docs}, {"words", words}} {
		b.Run(tc.name, func(b *testing.B) {
			size := 0
			for _, s := range tc.texts {
				size += len(s)
			}
			var total, ref time.Duration // interleaved, so load hits both
			for b.Loop() {
				ref += timeCounting(tc.texts, func(s string) int { return len(enc.EncodeOrdinary(s)) })
				cold := &TiktokenCounter{fast: &bpeCounter{c.fast.ranks, newMergeCache()}}
				total += timeCounting(tc.texts, cold.Count)
			}
			per, ref := total/time.Duration(b.N), ref/time.Duration(b.N)
			b.ReportMetric(float64(size)/per.Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(size)/ref.Seconds()/1e6, "tiktoken-MB/s")
			b.ReportMetric(ref.Seconds()/per.Seconds(), "x-tiktoken")
		})
	}
}

func timeCounting(texts []string, count func(string) int) time.Duration {
	began, n := time.Now(), 0
	for _, s := range texts {
		n += count(s)
	}
	if n < 0 {
		panic("negative count")
	}
	return time.Since(began)
}

// TestCountConcurrent shares one counter's merge cache between
// goroutines (go test -race checks the cache's slots).
func TestCountConcurrent(t *testing.T) {
	c := fastCounter(t)
	bare := bpeCounter{ranks: c.fast.ranks}
	var texts []string
	for _, tc := range trickyStrings {
		texts = append(texts, tc.text)
		texts = append(texts, strings.Fields(tc.text)...)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 * len(texts) {
				s := texts[(i*(g+1))%len(texts)]
				if got, want := c.Count(s), bare.count(s); got != want {
					t.Errorf("Count(%q) = %d, uncached %d", s, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
