package document

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// errTooLarge marks a container whose decompressed content exceeds the
// extraction limit: the defence against zip bombs.
var errTooLarge = errors.New("decompressed content exceeds the extraction limit (ingest.max_extracted_bytes); possibly a zip bomb")

var headingStyleName = regexp.MustCompile(`(?i)^heading\s*([1-9])$`)

func loadDOCX(data []byte, limit int64) (*Document, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a valid DOCX (zip) file: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	main := files["word/document.xml"]
	if main == nil {
		return nil, errors.New("not a valid DOCX file: word/document.xml is missing")
	}
	budget := &limitBudget{left: limit}
	styles := map[string]int{}
	if sf := files["word/styles.xml"]; sf != nil {
		if styles, err = readDOCXStyles(sf, budget); err != nil {
			return nil, err
		}
	}
	doc, err := readDOCXBody(main, styles, budget)
	if err != nil {
		return nil, err
	}
	if cf := files["docProps/core.xml"]; cf != nil {
		doc.Title, _ = readDOCXTitle(cf, budget)
	}
	return doc, nil
}

// limitBudget is shared by every part of one container, so many small
// parts cannot add up to a bomb either.
type limitBudget struct{ left int64 }

func (b *limitBudget) open(f *zip.File) (io.ReadCloser, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("opening %s in DOCX: %w", f.Name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{&budgetReader{r: rc, b: b}, rc}, nil
}

type budgetReader struct {
	r io.Reader
	b *limitBudget
}

func (br *budgetReader) Read(p []byte) (int, error) {
	if br.b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > br.b.left {
		p = p[:br.b.left]
	}
	n, err := br.r.Read(p)
	br.b.left -= int64(n)
	return n, err
}

// readDOCXStyles maps style IDs to heading levels (0 = not a heading).
// Style IDs are localised ("berschrift1"), names are not ("heading 1").
func readDOCXStyles(f *zip.File, budget *limitBudget) (map[string]int, error) {
	rc, err := budget.open(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	levels := map[string]int{}
	dec := xml.NewDecoder(rc)
	var id string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return levels, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading DOCX styles: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "style":
			id = attr(se, "styleId")
		case "name":
			name := attr(se, "val")
			if m := headingStyleName.FindStringSubmatch(name); m != nil && id != "" {
				levels[id], _ = strconv.Atoi(m[1])
			} else if strings.EqualFold(name, "title") && id != "" {
				levels[id] = 1
			}
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func readDOCXBody(f *zip.File, styles map[string]int, budget *limitBudget) (*Document, error) {
	rc, err := budget.open(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var (
		out      strings.Builder
		para     strings.Builder
		level    int
		inText   bool
		headings []Heading
	)
	flush := func() {
		p := strings.TrimSpace(para.String())
		para.Reset()
		if p == "" {
			return
		}
		if out.Len() > 0 {
			out.WriteString("\n\n")
		}
		start := out.Len()
		out.WriteString(p)
		if level > 0 {
			headings = append(headings, Heading{Level: level, Title: strings.Join(strings.Fields(p), " "), Start: start, End: out.Len()})
		}
	}
	dec := xml.NewDecoder(rc)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, errTooLarge
			}
			return nil, fmt.Errorf("reading DOCX body: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				level = 0
			case "pStyle":
				level = styles[attr(t, "val")]
				if level == 0 {
					if m := headingStyleName.FindStringSubmatch(attr(t, "val")); m != nil {
						level, _ = strconv.Atoi(m[1])
					}
				}
			case "outlineLvl":
				if n, err := strconv.Atoi(attr(t, "val")); err == nil && n < 9 && level == 0 {
					level = n + 1
				}
			case "t":
				inText = true
			case "tab":
				para.WriteByte('\t')
			case "br", "cr":
				para.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				flush()
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	flush()
	return &Document{Text: out.String(), Headings: headings}, nil
}

func readDOCXTitle(f *zip.File, budget *limitBudget) (string, error) {
	rc, err := budget.open(f)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var core struct {
		Title string `xml:"title"`
	}
	if err := xml.NewDecoder(rc).Decode(&core); err != nil {
		return "", err
	}
	return strings.TrimSpace(core.Title), nil
}
