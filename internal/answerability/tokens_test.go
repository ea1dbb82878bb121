package answerability

import (
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string // token texts
	}{
		{"Don't split state-of-the-art U.S. words.", []string{"Don't", "split", "state-of-the-art", "U.S", ".", "words", "."}},
		{"It cost $1,000.50, or 3.5%.", []string{"It", "cost", "$", "1,000.50", ",", "or", "3.5", "%", "."}},
		{"On February 7, 2016 (a Sunday)", []string{"On", "February", "7", ",", "2016", "(", "a", "Sunday", ")"}},
		{"", nil},
	}
	for _, tc := range tests {
		toks := Tokenize(tc.in)
		var got []string
		for _, tok := range toks {
			got = append(got, tok.Text)
			if tc.in[tok.Start:tok.End] != tok.Text {
				t.Errorf("%q: token %q has offsets [%d,%d) that quote %q", tc.in, tok.Text, tok.Start, tok.End, tc.in[tok.Start:tok.End])
			}
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTokenClasses(t *testing.T) {
	tests := []struct {
		word                 string
		cap, stop, num, date bool
	}{
		{"Denver", true, false, false, false},
		{"the", false, true, false, false},
		{"1,000", false, false, true, false},
		{"seventy", false, false, true, false},
		{"1990s", false, false, true, true},
		{"2016", false, false, true, true},
		{"May", true, true, false, true}, // the month
		{"may", false, true, false, false},
		{"march", false, false, false, false}, // the verb
		{"Tuesday", true, false, false, true},
	}
	for _, tc := range tests {
		tok := Tokenize(tc.word)[0]
		if tok.Cap != tc.cap || tok.Stop != tc.stop || tok.Num != tc.num || tok.Date != tc.date {
			t.Errorf("%q: cap %v stop %v num %v date %v, want %v %v %v %v", tc.word, tok.Cap, tok.Stop, tok.Num, tok.Date, tc.cap, tc.stop, tc.num, tc.date)
		}
	}
}
