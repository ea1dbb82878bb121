package answerability

import (
	"slices"
	"testing"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		q       string
		typ     AnswerType
		head    string
		negated bool
		key     []string // stems that must be marked key
		mods    []string
	}{
		{"Who founded the Royal Society?", TypePerson, "", false, []string{"royal", "societi"}, nil},
		{"When did the war end?", TypeDate, "", false, nil, nil},
		{"In what year was the bridge built?", TypeDate, "year", false, nil, nil},
		{"How many students enrolled in 2014?", TypeNumber, "students", false, []string{"2014"}, nil},
		{"Where is the Amazon rainforest?", TypePlace, "", false, []string{"amazon"}, nil},
		{"Which NFL team won Super Bowl 50?", TypeEntity, "team", false, []string{"nfl", "super", "bowl", "50"}, nil},
		{"Which city never hosted the first Olympics?", TypePlace, "city", true, []string{"olymp"}, []string{"first"}},
		{"How long did the siege last?", TypeNumber, "", false, nil, nil},
		{"Why do leaves change colour?", TypeOther, "", false, nil, nil},
	}
	for q, want := range map[string]bool{"Why is an unchanged file skipped?": true, "How does rotation work?": true,
		"How many keys are there?": false, "Who wrote it?": false, "What is the default chunk size?": false} {
		a := Analyze(q)
		if a.Explains() != want {
			t.Errorf("%q: Explains() = %v, want %v", q, !want, want)
		}
	}
	for _, tc := range tests {
		q := Analyze(tc.q)
		if q.Type != tc.typ || q.Head != tc.head || q.Negated != tc.negated {
			t.Errorf("%q: type %v head %q negated %v, want %v %q %v", tc.q, q.Type, q.Head, q.Negated, tc.typ, tc.head, tc.negated)
		}
		for _, k := range tc.key {
			if !q.Key[k] {
				t.Errorf("%q: %q is not a key stem (keys %v, stems %v)", tc.q, k, q.Key, q.Stems)
			}
		}
		for _, m := range tc.mods {
			if !slices.Contains(q.Modifiers, m) {
				t.Errorf("%q: modifiers %v lack %q", tc.q, q.Modifiers, m)
			}
		}
	}
}
