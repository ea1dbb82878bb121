package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestInteractionRoundTrip(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if got, err := s.Interactions(ctx, InteractionFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("a new store lists %v, %v", got, err)
	}
	if err := s.RateInteraction(ctx, Feedback{InteractionID: "fb_x", Rating: Up}); !errors.Is(err, ErrNoInteraction) {
		t.Fatalf("rating in a store without the table: %v", err)
	}
	in := Interaction{KeyName: "laptop", ConversationID: "c1", Question: "How often do keys rotate?",
		History: []Turn{{Role: "user", Content: "Tell me about keys."}, {Role: "assistant", Content: "They sign tokens."}},
		Answer:  "Every ninety days [1].", ShortAnswer: "Every ninety days", Citations: []Citation{{Doc: "ops/keys.md", ChunkID: "c-1", Lines: [2]int{1, 3}}},
		Retrieved: []string{"c-1", "c-2"}, Generator: "builtin"}
	id, err := s.RecordInteraction(ctx, in, 0)
	if err != nil {
		t.Fatal(err)
	}
	declined, err := s.RecordInteraction(ctx, Interaction{KeyName: "laptop", Question: "Capital of France?", Answer: "I do not know.",
		Abstained: true, AbstainReason: "no_results", Generator: "builtin"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Only the key that asked may rate; a rating replaces the last one.
	if err := s.RateInteraction(ctx, Feedback{InteractionID: id, KeyName: "other", Rating: Up}); !errors.Is(err, ErrNoInteraction) {
		t.Errorf("another key rated: %v", err)
	}
	for _, f := range []Feedback{{InteractionID: id, KeyName: "laptop", Rating: Up},
		{InteractionID: id, KeyName: "laptop", Rating: Down, Correction: "Every 90 days.", Comment: "number"}} {
		if err := s.RateInteraction(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RateInteraction(ctx, Feedback{InteractionID: id, KeyName: "laptop", Rating: 3}); err == nil {
		t.Error("rating 3 accepted")
	}
	got, err := s.Interactions(ctx, InteractionFilter{Ratings: []Rating{Down}})
	if err != nil || len(got) != 1 {
		t.Fatalf("down-rated: %v, %v", got, err)
	}
	g := got[0]
	if g.RatedAt.IsZero() || g.CreatedAt.IsZero() {
		t.Errorf("times not kept: %+v", g)
	}
	want := in
	want.ID, want.CreatedAt, want.RatedAt = id, g.CreatedAt, g.RatedAt
	want.Rating, want.Correction, want.Comment = Down, "Every 90 days.", "number"
	if !reflect.DeepEqual(g, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", g, want)
	}
	all, _ := s.Interactions(ctx, InteractionFilter{})
	unrated, _ := s.Interactions(ctx, InteractionFilter{Ratings: []Rating{Unrated}})
	if len(all) != 2 || all[0].ID != declined || len(unrated) != 1 || !unrated[0].Abstained {
		t.Errorf("all %d (newest first: %s), unrated %v", len(all), all[0].ID, unrated)
	}
	if one, _ := s.Interactions(ctx, InteractionFilter{Limit: 1, Since: time.Now().Add(-time.Hour)}); len(one) != 1 {
		t.Errorf("limit 1 since an hour ago: %d", len(one))
	}
	if none, _ := s.Interactions(ctx, InteractionFilter{Since: time.Now().Add(time.Hour)}); len(none) != 0 {
		t.Errorf("since the future: %d", len(none))
	}
}

// TestInteractionRetention: a record deletes what is past retention; so
// does a purge, and 0 keeps everything.
func TestInteractionRetention(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	day := 24 * time.Hour
	for _, age := range []time.Duration{100 * day, 40 * day, day} {
		if _, err := s.RecordInteraction(ctx, Interaction{Question: "q", CreatedAt: time.Now().Add(-age)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeInteractions(ctx, 0); n != 0 || err != nil {
		t.Errorf("purge with retention 0: %d, %v", n, err)
	}
	if n, err := s.PurgeInteractions(ctx, 90*day); n != 1 || err != nil {
		t.Errorf("purge at 90 days: %d, %v; want 1", n, err)
	}
	if _, err := s.RecordInteraction(ctx, Interaction{Question: "new"}, 30*day); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Interactions(ctx, InteractionFilter{})
	if len(got) != 2 || got[0].Question != "new" || time.Since(got[1].CreatedAt) < day-time.Minute {
		t.Errorf("after recording with 30 days' retention: %+v", got)
	}
}
