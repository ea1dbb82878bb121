package chunk

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragtune/ragtune/internal/document"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	counterOnce sync.Once
	counter     *TiktokenCounter
)

func testCounter(t testing.TB) Counter {
	counterOnce.Do(func() {
		var err error
		if counter, err = NewTiktokenCounter("cl100k_base"); err != nil {
			t.Fatal(err)
		}
	})
	return counter
}

func loadGuide(t testing.TB) *document.Document {
	t.Helper()
	l := document.NewLoader(document.Options{})
	defer l.Close()
	doc, err := l.LoadFile(t.Context(), "testdata/guide.md", "guide.md")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// checkInvariants holds for every strategy and input: chunks are
// non-empty slices of the text in order, within size unless a single
// unit is larger, with line ranges that match their bytes.
func checkInvariants(t testing.TB, doc *document.Document, opts Options, chunks []Chunk) {
	t.Helper()
	prevStart := -1
	covered := 0
	for i, c := range chunks {
		if c.Index != i {
			t.Fatalf("chunk %d has index %d", i, c.Index)
		}
		if c.Start < 0 || c.End > len(doc.Text) || c.Start >= c.End {
			t.Fatalf("chunk %d range [%d,%d) invalid for %d bytes", i, c.Start, c.End, len(doc.Text))
		}
		if c.Text != doc.Text[c.Start:c.End] || strings.TrimSpace(c.Text) != c.Text {
			t.Fatalf("chunk %d text does not match its range or is not trimmed", i)
		}
		if c.Start <= prevStart {
			t.Fatalf("chunk %d starts at %d, not after the previous start %d", i, c.Start, prevStart)
		}
		if c.Start > covered && strings.TrimSpace(doc.Text[covered:c.Start]) != "" {
			t.Fatalf("text [%d,%d) %q is in no chunk", covered, c.Start, doc.Text[covered:c.Start])
		}
		if c.Tokens > opts.Size && len(strings.Fields(c.Text)) > 1 {
			t.Fatalf("chunk %d has %d tokens, over size %d", i, c.Tokens, opts.Size)
		}
		if want := strings.Count(doc.Text[:c.Start], "\n") + 1; c.LineStart != want {
			t.Fatalf("chunk %d line_start %d, want %d", i, c.LineStart, want)
		}
		if want := c.LineStart + strings.Count(c.Text, "\n"); c.LineEnd != want {
			t.Fatalf("chunk %d line_end %d, want %d", i, c.LineEnd, want)
		}
		prevStart, covered = c.Start, max(covered, c.End)
	}
	if strings.TrimSpace(doc.Text[covered:]) != "" {
		t.Fatalf("tail %q is in no chunk", doc.Text[covered:])
	}
}

func TestStrategiesGolden(t *testing.T) {
	doc := loadGuide(t)
	for _, opts := range []Options{
		{Strategy: Recursive, Size: 64, Overlap: 12},
		{Strategy: Markdown, Size: 64, Overlap: 12},
		{Strategy: Sentence, Size: 64, Overlap: 1, Sentences: 2},
		{Strategy: Fixed, Size: 48, Overlap: 8},
	} {
		t.Run(string(opts.Strategy), func(t *testing.T) {
			chunks, err := Split(doc, opts, testCounter(t))
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, doc, opts, chunks)
			got, _ := json.MarshalIndent(chunks, "", "  ")
			golden := filepath.Join("testdata", "golden", string(opts.Strategy)+".json")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
				t.Errorf("chunks differ from %s (go test -update after checking the change):\n%s", golden, got)
			}
		})
	}
}

func TestMarkdownKeepsSectionsApart(t *testing.T) {
	doc := loadGuide(t)
	chunks, err := Split(doc, Options{Strategy: Markdown, Size: 512, Overlap: 0}, testCounter(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Operations guide", "Operations guide > Backups", "Operations guide > Restores > Planned restores",
		"Operations guide > Restores > Emergency restores", "Operations guide > Key rotation"}
	var got []string
	for _, c := range chunks {
		got = append(got, HeadingString(c.Heading))
		if n := strings.Count(c.Text, "\n#"); n > 0 && !strings.HasPrefix(c.Text, "## Restores") {
			t.Errorf("chunk %d spans %d headings:\n%s", c.Index, n, c.Text)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("heading paths = %q, want %q", got, want)
	}
}

func TestRecursivePrefersParagraphs(t *testing.T) {
	doc := loadGuide(t)
	chunks, err := Split(doc, Options{Strategy: Recursive, Size: 80, Overlap: 0}, testCounter(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		last := c.Text[len(c.Text)-1]
		if last != '.' && last != ':' && !strings.HasPrefix(strings.TrimSpace(c.Text[strings.LastIndex(c.Text, "\n")+1:]), "#") {
			t.Errorf("chunk %d ends mid-sentence: %q", c.Index, c.Text[max(0, len(c.Text)-40):])
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Options{
		{Strategy: "words", Size: 100},
		{Strategy: Recursive, Size: 8},
		{Strategy: Recursive, Size: 100, Overlap: 50},
		{Strategy: Sentence, Size: 100, Sentences: 0},
	}
	for _, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func FuzzSplit(f *testing.F) {
	seed, _ := os.ReadFile("testdata/guide.md")
	f.Add(string(seed), 0, 24, 4)
	f.Add("# a\n#b\n\n\n##\n", 1, 16, 0)
	f.Add("word "+strings.Repeat("x", 1000)+" end.", 2, 16, 2)
	f.Add("日本語の文章です。次の文。\n\n段落", 3, 20, 3)
	f.Fuzz(func(t *testing.T, text string, strat, size, overlap int) {
		opts := Options{Strategy: Strategies[uint(strat)%uint(len(Strategies))], Size: 16 + abs(size)%500, Sentences: 1 + abs(overlap)%4}
		opts.Overlap = abs(overlap) % (opts.Size / 2)
		l := document.NewLoader(document.Options{})
		doc, err := l.Load(t.Context(), "fuzz.md", []byte(text))
		if err != nil {
			return // loader refusals are tested in package document
		}
		chunks, err := Split(doc, opts, testCounter(t))
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, doc, opts, chunks)
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // MinInt
			return 0
		}
		return -n
	}
	return n
}

func BenchmarkSplit(b *testing.B) {
	doc := loadGuide(b)
	big := *doc
	big.Text = strings.Repeat(doc.Text+"\n\n", 50)
	big.Headings = nil
	tok := testCounter(b)
	for _, s := range Strategies {
		b.Run(string(s), func(b *testing.B) {
			opts := DefaultOptions()
			opts.Strategy = s
			b.SetBytes(int64(len(big.Text)))
			for b.Loop() {
				if _, err := Split(&big, opts, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
