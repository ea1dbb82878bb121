package testset

import (
	"strings"
	"testing"
)

func TestQuoteRanges(t *testing.T) {
	text := "# Keys\n\nSigning keys **rotate**  every\nninety days. Backups run nightly.\nÜBER Straße keys."
	tests := []struct {
		name, quote string
		want        []string // the text each range covers
	}{
		{"verbatim", "Backups run nightly.", []string{"Backups run nightly."}},
		{"case, space and emphasis", "signing keys rotate every ninety days.", []string{"Signing keys **rotate**  every\nninety days."}},
		{"two lines", "Backups run nightly.\nSigning keys", []string{"Backups run nightly.", "Signing keys"}},
		{"padded line", "  backups run   nightly  ", []string{"Backups run nightly"}},
		{"multibyte lower case", "über straße", []string{"ÜBER Straße"}},
		{"absent", "Keys never rotate.", nil},
		{"empty", "\n \n", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range QuoteRanges(text, tc.quote) {
			got = append(got, text[r.Start:r.End])
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: ranges cover %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestFoldMatchesTheCheck: the folding that finds ranges is the one the
// generation check used (markdown marks dropped, fields joined, lower).
func TestFoldMatchesTheCheck(t *testing.T) {
	old := func(s string) string {
		s = strings.NewReplacer("*", "", "`", "", "_", "").Replace(s)
		return strings.ToLower(strings.Join(strings.Fields(s), " "))
	}
	for _, s := range []string{"", "  ", "a", " A  b\t\nc ", "**x** _y_ `z`", "a * b", "ÜBER\u00a0Straße", "bad \xff byte", "_ _ a"} {
		if got, want := fold(s), old(s); got != want {
			t.Errorf("fold(%q) = %q, want %q", s, got, want)
		}
	}
}
