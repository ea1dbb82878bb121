package document

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
)

// maxInvalidShare is the share of invalid UTF-8 bytes tolerated (replaced
// with U+FFFD) before a file is judged to be in some other encoding.
const maxInvalidShare = 0.01

// decodeText returns data as UTF-8. UTF-8 (with or without BOM) and UTF-16
// with a BOM are accepted; a few stray invalid bytes are replaced; anything
// else is refused with a message that says what to do.
func decodeText(data []byte) (string, []string, error) {
	if hasUTF16BOM(data) {
		dec := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
		out, err := dec.Bytes(data)
		if err != nil {
			return "", nil, fmt.Errorf("decoding UTF-16: %w", err)
		}
		return strings.TrimPrefix(string(out), "\uFEFF"), nil, nil
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if bytes.IndexByte(data, 0) >= 0 {
		return "", nil, &SkipError{Reason: "binary file (contains NUL bytes)"}
	}
	if utf8.Valid(data) {
		return string(data), nil, nil
	}
	bad := countInvalid(data)
	if float64(bad) > maxInvalidShare*float64(len(data)) {
		return "", nil, fmt.Errorf("not valid UTF-8 (%d invalid bytes of %d; is it Latin-1 or another legacy encoding? convert it to UTF-8, e.g. with iconv)", bad, len(data))
	}
	warn := fmt.Sprintf("replaced %d invalid UTF-8 bytes with U+FFFD", bad)
	return strings.ToValidUTF8(string(data), "\uFFFD"), []string{warn}, nil
}

func countInvalid(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			n++
		}
		b = b[size:]
	}
	return n
}

func loadText(data []byte) (*Document, error) {
	text, warns, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	return &Document{Text: text, Warnings: warns}, nil
}
