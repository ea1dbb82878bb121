package lexical

import (
	"reflect"
	"testing"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"How do I rotate the signing keys?", []string{"rotate", "signing", "keys"}},
		{"What is it?", nil},
		{"Café crème 2024 x", []string{"café", "crème", "2024"}},
		{"rotate ROTATE rotate", []string{"rotate"}},
	}
	for _, tc := range tests {
		if got := Terms(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatchQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rotate keys", `"rotate" OR "keys"`},
		{`a "quoted" NEAR(x) AND y*`, `"quoted" OR "near"`},
		{"what is it", `"what" OR "is" OR "it"`},
		{"what is it, what", `"what" OR "what" OR "is" OR "it"`},
		// a repeated word counts as often as it is said, up to MaxTermRepeat
		{"rotate keys: rotate the key, rotate, rotate, rotate", `"rotate" OR "rotate" OR "rotate" OR "keys" OR "key"`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := MatchQuery(tc.in); got != tc.want {
			t.Errorf("MatchQuery(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{"rotation": "rotat", "rotating": "rotat", "keys": "key", "is": "is"} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSupport(t *testing.T) {
	// key, rotat, everi and day are in the passage; 90 is not: 4 of 5.
	if s := Support("Signing keys rotate every ninety days.", "Keys are rotated every 90 days"); s != 0.8 {
		t.Errorf("Support = %.2f, want 0.80", s)
	}
	if Support("anything", "it is") != 1 {
		t.Error("a claim without content words counts as supported")
	}
}

func TestParseMatch(t *testing.T) {
	for _, tc := range []struct {
		match string
		want  []string
		ok    bool
	}{
		{`"keys" OR "keys" OR "rotate"`, []string{"keys", "keys", "rotate"}, true},
		{`"say ""hi"""`, []string{`say "hi"`}, true},
		{`"one"`, []string{"one"}, true},
		{``, nil, false},
		{`keys`, nil, false},
		{`"keys" AND "rotate"`, nil, false},
		{`"keys" OR rotate`, nil, false},
		{`"unclosed`, nil, false},
		{`"a" OR `, nil, false},
		{`NEAR("a" "b")`, nil, false},
	} {
		got, ok := ParseMatch(tc.match)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMatch(%q) = %q, %v; want %q, %v", tc.match, got, ok, tc.want, tc.ok)
		}
	}
	terms := WeighQuery(`Rotate keys, rotate "backups" often; rotate!`)
	got, ok := ParseMatch(MatchWeighted(terms))
	if !ok || !reflect.DeepEqual(got, []string{"rotate", "rotate", "rotate", "keys", "backups", "often"}) {
		t.Errorf("round trip of %v gave %q, %v", terms, got, ok)
	}
}
