package evaluate

import (
	"reflect"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/store"
)

func TestGoldFromFeedback(t *testing.T) {
	cited := []store.Citation{{Doc: "ops/keys.md"}, {Doc: "ops/keys.md"}, {Doc: "ops/rotate.md"}}
	base := store.Interaction{ID: "fb_1", Question: "How often do keys rotate?", Answer: "Every ninety days [1]. By hand too [2].",
		ShortAnswer: "Every ninety days", Citations: cited}
	with := func(f func(*store.Interaction)) store.Interaction { in := base; f(&in); return in }
	no := false
	tests := []struct {
		name       string
		in         store.Interaction
		answers    []string
		docs       []string
		answerable *bool
		target     string
		skip       string
	}{
		{"unrated", base, nil, nil, nil, "", SkipUnrated},
		{"approved", with(func(in *store.Interaction) { in.Rating = store.Up }),
			[]string{"Every ninety days", "Every ninety days. By hand too."}, []string{"ops/keys.md", "ops/rotate.md"}, nil, "Every ninety days. By hand too.", ""},
		{"down, no correction", with(func(in *store.Interaction) { in.Rating = store.Down }), nil, nil, nil, "", SkipDownWithoutCorrected},
		{"corrected", with(func(in *store.Interaction) { in.Rating, in.Correction = store.Down, "Every 90 days." }),
			[]string{"Every 90 days."}, []string{}, nil, "Every 90 days.", ""},
		{"approved and corrected", with(func(in *store.Interaction) { in.Rating, in.Correction = store.Up, "Ninety days." }),
			[]string{"Ninety days."}, []string{"ops/keys.md", "ops/rotate.md"}, nil, "Ninety days.", ""},
		{"approved refusal", with(func(in *store.Interaction) {
			in.Rating, in.Abstained, in.Answer, in.Citations = store.Up, true, answer.Declined, nil
		}),
			[]string{}, []string{}, &no, answer.Declined, ""},
		{"corrected to a refusal", with(func(in *store.Interaction) {
			in.Rating, in.Correction = store.Down, "I do not have information about that"
		}),
			[]string{}, []string{}, &no, answer.Declined, ""},
	}
	for _, tc := range tests {
		g, skip := GoldFromFeedback(tc.in)
		if skip != tc.skip {
			t.Errorf("%s: skipped %q, want %q", tc.name, skip, tc.skip)
			continue
		}
		if skip != "" {
			continue
		}
		it := g.Item
		if !reflect.DeepEqual(it.Answers, tc.answers) || !reflect.DeepEqual(it.GoldDocIDs, tc.docs) || !reflect.DeepEqual(it.Answerable, tc.answerable) ||
			g.Target != tc.target || it.Kind != "feedback" || it.Origin != "fb_1" || it.Question != base.Question {
			t.Errorf("%s: %+v target %q", tc.name, it, g.Target)
		}
	}
}
