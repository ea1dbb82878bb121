package answer

import (
	"context"
	"slices"
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// scripted replays fixed events.
type scripted []Event

func (s scripted) ID() string { return "scripted" }
func (s scripted) Generate(ctx context.Context, req Request) (<-chan Event, error) {
	ch := make(chan Event, len(s))
	for _, ev := range s {
		ch <- ev
	}
	close(ch)
	return ch, nil
}

func tok(s string) Event { return Event{Type: EventToken, Text: s} }
func cite(n int) Event {
	return Event{Type: EventCitation, Citation: &Citation{N: n, Doc: "d" + string(rune('0'+n))}}
}

func TestRenumbered(t *testing.T) {
	hits := make([]retrieve.Hit, 4)
	for i := range hits {
		hits[i] = retrieve.Hit{Rank: i + 1, Hit: corpus.Hit{DocPath: "d" + string(rune('1'+i))}}
	}
	for _, tc := range []struct {
		events []Event
		want   string
		order  []int
	}{
		{[]Event{tok("Keys rotate [3]."), cite(3)}, "Keys rotate [1].", []int{1}},
		{[]Event{tok("A [2] and B [4"), tok("]. A again [2]."), cite(2), cite(4)}, "A [1] and B [2]. A again [1].", []int{1, 2}},
		{[]Event{tok("Cut ["), tok("3"), tok("] here [1]. See [x] and [12] and [a]."), cite(3), cite(1)}, "Cut [1] here [2]. See [x] and [12] and [a].", []int{1, 2}},
		{[]Event{tok("Ends with ["), tok("2")}, "Ends with [2", nil},
	} {
		gen := Renumbered(scripted(tc.events))
		res, err := Answer(t.Context(), gen, Request{Question: "q", Hits: hits})
		if err != nil {
			t.Fatal(err)
		}
		if res.Answer != tc.want {
			t.Errorf("answer %q, want %q", res.Answer, tc.want)
		}
		var order []int
		for _, c := range res.Citations {
			order = append(order, c.N)
		}
		if !slices.Equal(order, tc.order) {
			t.Errorf("%q: citations %v, want %v", tc.want, order, tc.order)
		}
	}
}
