package document

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// skipTags never contribute text: page chrome and non-content.
var skipTags = map[string]bool{
	"script": true, "style": true, "noscript": true, "nav": true, "header": true, "footer": true,
	"aside": true, "form": true, "template": true, "svg": true, "iframe": true, "button": true,
	"select": true, "head": true, "canvas": true, "object": true,
}

var blockTags = map[string]bool{
	"p": true, "div": true, "section": true, "article": true, "main": true, "li": true, "ul": true,
	"ol": true, "table": true, "tr": true, "blockquote": true, "pre": true, "dl": true, "dt": true,
	"dd": true, "figure": true, "figcaption": true, "h1": true, "h2": true, "h3": true, "h4": true,
	"h5": true, "h6": true, "hr": true, "body": true, "details": true, "summary": true,
}

// minArticleShare: if readability keeps less than this share of the
// page's visible text, it probably cut real content (short docs, tables),
// and the whole cleaned body is used instead.
const minArticleShare = 0.3

func loadHTML(data []byte) (*Document, error) {
	src, err := decodeHTML(data)
	if err != nil {
		return nil, err
	}
	root, err := html.Parse(strings.NewReader(src))
	if err != nil {
		// The parser refuses pathological nesting; the tokenizer does not,
		// so the text still comes out, without readability's cleanup.
		doc := renderTokens(src)
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("HTML could not be parsed as a tree (%v); extracted text token by token", err))
		return doc, nil
	}
	body := renderTree(root)
	body.Title = pageTitle(root)
	markHeadingLevels(root)
	parser := readability.NewParser()
	article, err := parser.ParseAndMutate(root, nil)
	if err == nil && article.Node != nil {
		main := renderTree(article.Node)
		if float64(len(main.Text)) >= minArticleShare*float64(len(body.Text)) && strings.TrimSpace(main.Text) != "" {
			main.Title = body.Title
			if t := strings.TrimSpace(article.Title()); main.Title == "" && t != "" {
				main.Title = t
			}
			return main, nil
		}
	}
	return body, nil
}

// decodeHTML honours a declared charset (meta tag or BOM) the way
// browsers do, so legacy pages decode correctly.
func decodeHTML(data []byte) (string, error) {
	if looksBinary(data) {
		return "", &SkipError{Reason: "binary file"}
	}
	enc, name, _ := charset.DetermineEncoding(data, "text/html")
	if name == "utf-8" {
		s, _, err := decodeText(data)
		return s, err
	}
	out, err := io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(data)))
	if err != nil {
		return "", fmt.Errorf("decoding %s: %w", name, err)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// levelAttr carries a heading's original level through readability,
// which renames h1 to h2.
const levelAttr = "data-ragtune-level"

func markHeadingLevels(root *html.Node) {
	walkTree(root, func(n *html.Node, entering bool) bool {
		if entering && n.Type == html.ElementNode {
			if lvl := headingLevel(n.Data); lvl > 0 {
				n.Attr = append(n.Attr, html.Attribute{Key: levelAttr, Val: n.Data[1:]})
			}
		}
		return true
	})
}

func pageTitle(root *html.Node) string {
	var title string
	walkTree(root, func(n *html.Node, entering bool) bool {
		if entering && n.Type == html.ElementNode && n.Data == "title" && title == "" {
			var b strings.Builder
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode {
					b.WriteString(c.Data)
				}
			}
			title = strings.Join(strings.Fields(b.String()), " ")
		}
		return true
	})
	return title
}

// walkTree visits nodes depth-first without recursion; fn returning false
// on entry skips the node's children.
func walkTree(root *html.Node, fn func(n *html.Node, entering bool) bool) {
	type frame struct {
		n     *html.Node
		enter bool
	}
	stack := []frame{{root, true}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !f.enter {
			fn(f.n, false)
			continue
		}
		if !fn(f.n, true) {
			continue
		}
		stack = append(stack, frame{f.n, false})
		var kids []*html.Node
		for c := f.n.FirstChild; c != nil; c = c.NextSibling {
			kids = append(kids, c)
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, frame{kids[i], true})
		}
	}
}

func renderTree(root *html.Node) *Document {
	var r htmlRenderer
	walkTree(root, func(n *html.Node, entering bool) bool {
		switch n.Type {
		case html.TextNode:
			if entering {
				r.text(n.Data)
			}
		case html.ElementNode:
			if skipTags[n.Data] {
				return false
			}
			tag := n.Data
			if headingLevel(tag) > 0 {
				for _, a := range n.Attr {
					if a.Key == levelAttr && headingLevel("h"+a.Val) > 0 {
						tag = "h" + a.Val
					}
				}
			}
			if entering {
				r.open(tag)
			} else {
				r.close(tag)
			}
		}
		return true
	})
	return r.finish()
}

func renderTokens(src string) *Document {
	var r htmlRenderer
	z := html.NewTokenizer(strings.NewReader(src))
	skipDepth := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return r.finish()
		case html.StartTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if skipTags[tag] {
				skipDepth++
			} else if skipDepth == 0 {
				r.open(tag)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if skipTags[tag] && skipDepth > 0 {
				skipDepth--
			} else if skipDepth == 0 {
				r.close(tag)
			}
		case html.TextToken:
			if skipDepth == 0 {
				r.text(string(z.Text()))
			}
		}
	}
}

// htmlRenderer turns a stream of tags and text into readable plain text:
// whitespace collapsed, blocks separated by blank lines, headings recorded.
type htmlRenderer struct {
	buf       []byte
	pre       int
	heading   int // level of the open heading, 0 if none
	headStart int // -1 until the open heading's first text is written
	headings  []Heading
	pendingNL int
}

func headingLevel(tag string) int {
	if len(tag) == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' {
		return int(tag[1] - '0')
	}
	return 0
}

func (r *htmlRenderer) open(tag string) {
	switch {
	case tag == "br":
		r.newlines(1)
	case tag == "li":
		r.newlines(1)
		r.write("- ")
	case blockTags[tag]:
		r.newlines(2)
	}
	if tag == "pre" {
		r.pre++
	}
	if lvl := headingLevel(tag); lvl > 0 && r.heading == 0 {
		r.heading = lvl
		r.headStart = -1
	}
}

func (r *htmlRenderer) close(tag string) {
	if tag == "pre" && r.pre > 0 {
		r.pre--
	}
	if lvl := headingLevel(tag); lvl > 0 && lvl == r.heading {
		if r.headStart >= 0 {
			title := strings.TrimSpace(string(r.buf[r.headStart:]))
			if title != "" {
				r.headings = append(r.headings, Heading{Level: lvl, Title: title, Start: r.headStart, End: len(r.buf)})
			}
		}
		r.heading = 0
	}
	if blockTags[tag] {
		r.newlines(2)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

func (r *htmlRenderer) text(s string) {
	if s == "" {
		return
	}
	if r.pre > 0 {
		r.write(s)
		return
	}
	fields := strings.Fields(s)
	if isSpace(s[0]) {
		r.space()
	}
	if len(fields) == 0 {
		return
	}
	r.write(strings.Join(fields, " "))
	if isSpace(s[len(s)-1]) {
		r.space()
	}
}

func (r *htmlRenderer) space() {
	if len(r.buf) > 0 && r.pendingNL == 0 && !isSpace(r.buf[len(r.buf)-1]) {
		r.buf = append(r.buf, ' ')
	}
}

func (r *htmlRenderer) write(s string) {
	if r.pendingNL > 0 && len(r.buf) > 0 {
		for len(r.buf) > 0 && r.buf[len(r.buf)-1] == ' ' {
			r.buf = r.buf[:len(r.buf)-1]
		}
		for i := 0; i < r.pendingNL; i++ {
			r.buf = append(r.buf, '\n')
		}
	}
	r.pendingNL = 0
	if r.heading > 0 && r.headStart < 0 {
		r.headStart = len(r.buf)
	}
	r.buf = append(r.buf, s...)
}

func (r *htmlRenderer) newlines(n int) { r.pendingNL = max(r.pendingNL, n) }

func (r *htmlRenderer) finish() *Document {
	text := strings.TrimRight(string(r.buf), " \n")
	doc := &Document{Text: text}
	for _, h := range r.headings {
		if h.End <= len(text) {
			doc.Headings = append(doc.Headings, h)
		}
	}
	return doc
}
