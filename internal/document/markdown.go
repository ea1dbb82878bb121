package document

import (
	"regexp"
	"strings"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

var mdParser = goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser()

var (
	frontMatterTitle = regexp.MustCompile(`(?m)^title:\s*["']?(.*?)["']?\s*$`)
	frontMatterTags  = regexp.MustCompile(`(?m)^(?:tags|keywords):[ \t]*(.*)$`)
	listItem         = regexp.MustCompile(`^\s*-\s+(.+)$`)
)

// loadMarkdown keeps the source text as-is (so line numbers match the file)
// and records every heading the Markdown parser sees.
func loadMarkdown(data []byte) (*Document, error) {
	src, warns, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	doc := &Document{Text: src, Warnings: warns}
	body, fmEnd, fmTitle := splitFrontMatter(src)
	doc.Title = fmTitle
	doc.Tags = frontMatterTagList(src[:fmEnd])
	root := mdParser.Parse(text.NewReader([]byte(body)))
	walkErr := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		if hd, ok := headingSpan(body, h); ok {
			hd.Start += fmEnd
			hd.End += fmEnd
			doc.Headings = append(doc.Headings, hd)
			if doc.Title == "" && hd.Level == 1 {
				doc.Title = hd.Title
			}
		}
		return ast.WalkSkipChildren, nil
	})
	if walkErr != nil {
		return nil, walkErr
	}
	return doc, nil
}

func headingSpan(src string, h *ast.Heading) (Heading, bool) {
	lines := h.Lines()
	if lines.Len() == 0 {
		return Heading{}, false
	}
	first, last := lines.At(0), lines.At(lines.Len()-1)
	var title strings.Builder
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		title.WriteString(src[seg.Start:seg.Stop])
		title.WriteByte(' ')
	}
	start := strings.LastIndexByte(src[:first.Start], '\n') + 1
	end := last.Stop
	if i := strings.IndexByte(src[end:], '\n'); i >= 0 {
		end += i
	} else {
		end = len(src)
	}
	return Heading{Level: h.Level, Title: cleanHeading(title.String()), Start: start, End: end}, true
}

var inlineMarks = strings.NewReplacer("`", "", "**", "", "__", "", "*", "")

func cleanHeading(s string) string {
	s = strings.TrimSpace(inlineMarks.Replace(s))
	s = strings.TrimRight(s, "# ")
	return strings.Join(strings.Fields(s), " ")
}

// splitFrontMatter hides a leading YAML block from the Markdown parser
// (which would read its closing --- as a heading underline) and returns
// the body, the body's offset in src, and a title if the block has one.
func splitFrontMatter(src string) (string, int, string) {
	if !strings.HasPrefix(src, "---\n") && !strings.HasPrefix(src, "---\r\n") {
		return src, 0, ""
	}
	rest := src[4:]
	end := strings.Index(rest, "\n---")
	if end < 0 {
		return src, 0, ""
	}
	block := rest[:end]
	after := 4 + end + len("\n---")
	if i := strings.IndexByte(src[after:], '\n'); i >= 0 {
		after += i + 1
	} else {
		after = len(src)
	}
	title := ""
	if m := frontMatterTitle.FindStringSubmatch(block); m != nil {
		title = strings.TrimSpace(m[1])
	}
	return src[after:], after, title
}

// frontMatterTagList reads "tags: [a, b]", "tags: a, b" or a dash list
// under "tags:" from a YAML front-matter block.
func frontMatterTagList(block string) []string {
	m := frontMatterTags.FindStringSubmatchIndex(block)
	if m == nil {
		return nil
	}
	inline := strings.TrimSpace(block[m[2]:m[3]])
	var raw []string
	if inline != "" {
		raw = strings.Split(strings.Trim(inline, "[]"), ",")
	} else {
		for _, line := range strings.Split(block[m[1]:], "\n")[1:] {
			item := listItem.FindStringSubmatch(line)
			if item == nil {
				break
			}
			raw = append(raw, item[1])
		}
	}
	return corpus.NormalizeTags(raw)
}
