package answerability

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ragtune/ragtune/internal/lexical"
)

// Token is one word, number or punctuation mark of a text, with its byte
// offsets so that a span can be quoted exactly as written.
type Token struct {
	Text       string
	Lower      string
	Stem       string
	Start, End int
	Punct      bool
	Cap        bool // starts with an upper-case letter
	Stop       bool // a function word
	Num        bool // a number, in digits or words
	Date       bool // a year, month, weekday, decade or century
}

// Tokenize splits text into tokens. A word keeps inner apostrophes,
// hyphens and dots ("don't", "state-of-the-art", "U.S."); a number keeps
// its separators ("1,000", "3.5").
func Tokenize(text string) []Token {
	var out []Token
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			end := wordEnd(text, i)
			out = append(out, newToken(text, i, end))
			i = end
		default:
			out = append(out, Token{Text: text[i : i+size], Lower: text[i : i+size], Start: i, End: i + size, Punct: true})
			i += size
		}
	}
	return out
}

// wordEnd finds where the word starting at i ends: letters and digits,
// joined by one inner ' - . , (a comma only between digits).
func wordEnd(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			i += size
			continue
		}
		if r == '\'' || r == '’' || r == '-' || r == '.' || r == ',' {
			next, nsize := utf8.DecodeRuneInString(text[i+size:])
			prev, _ := utf8.DecodeLastRuneInString(text[:i])
			joins := unicode.IsLetter(next) || unicode.IsDigit(next)
			if r == ',' || r == '.' && unicode.IsDigit(prev) {
				joins = unicode.IsDigit(prev) && unicode.IsDigit(next)
			}
			if joins && nsize > 0 {
				i += size
				continue
			}
		}
		break
	}
	return i
}

func newToken(text string, start, end int) Token {
	t := Token{Text: text[start:end], Start: start, End: end}
	t.Lower = strings.ToLower(t.Text)
	first, _ := utf8.DecodeRuneInString(t.Text)
	t.Cap = unicode.IsUpper(first)
	t.Stop = lexical.IsStopword(t.Lower) || extraStop[t.Lower]
	t.Stem = lexical.Stem(strings.Trim(t.Lower, "'’"))
	t.Num = unicode.IsDigit(first) || numberWords[t.Lower]
	// "may" and "march" are months only when capitalised.
	t.Date = isDateWord(t.Lower) && (t.Cap || t.Lower != "may" && t.Lower != "march")
	return t
}

func isDateWord(w string) bool {
	if months[w] || weekdays[w] {
		return true
	}
	n := len(w)
	isDigits := func(s string) bool { return strings.Trim(s, "0123456789") == "" && s != "" }
	switch {
	case n == 4 && isDigits(w) && (w[0] == '1' || w[0] == '2' && w[1] == '0'): // 1000–2099
		return true
	case n == 5 && w[4] == 's' && isDigits(w[:4]): // 1990s
		return true
	}
	return false
}

var (
	months      = toSet("january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec")
	weekdays    = toSet("monday tuesday wednesday thursday friday saturday sunday")
	numberWords = toSet(`zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion billions trillion dozen dozens half quarter`)
	// extraStop are function words lexical keeps as content because they
	// matter to search, but that carry no answer here.
	extraStop = toSet("many much used called known became become including include includes however although though")
)

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
