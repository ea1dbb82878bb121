package finetune

import (
	"context"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
)

func TestWithContext(t *testing.T) {
	corpus := []Passage{
		{"keys.md", "Signing keys rotate every ninety days."},
		{"backups.md", "Backups run nightly and are kept thirty days."},
		{"restore.md", "A restore takes twenty minutes."},
		{"lunch.md", "The canteen opens at noon."},
		{"parking.md", "Parking is free for visitors."},
	}
	search := func(_ context.Context, q string, k int) ([]Passage, error) { return corpus[:min(k, len(corpus))], nil }
	var exs []Example
	for i := range 40 {
		exs = append(exs, Example{Line: i + 1, Messages: []Message{{Role: "system", Content: "Be brief."},
			{Role: "user", Content: "How often do signing keys rotate?"}, {Role: "assistant", Content: "Signing keys rotate every ninety days."}}})
	}
	exs = append(exs, Example{Line: 41, Messages: []Message{{Role: "user", Content: "Who won the match?"}, {Role: "assistant", Content: "The home team won."}}})
	out, unsupported, err := WithContext(t.Context(), exs, search, RAFTOptions{K: 3, LeaveOut: 0.25, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if unsupported != 1 || out[40].Messages[0].Content != "Who won the match?" {
		t.Errorf("an answer no passage supports must stay unchanged: %d, %+v", unsupported, out[40])
	}
	declined := 0
	for _, ex := range out[:40] {
		user, ans := ex.Messages[1].Content, ex.Messages[2].Content
		if strings.Count(user, "\n[") != 3 || !strings.HasPrefix(user, "Context passages:") || !strings.HasSuffix(user, "Question: How often do signing keys rotate?") {
			t.Fatalf("user turn:\n%s", user)
		}
		if ans == answer.Declined {
			declined++
			if strings.Contains(user, "ninety days") {
				t.Errorf("declining example still holds the relevant passage:\n%s", user)
			}
			continue
		}
		n := ans[len(ans)-2 : len(ans)-1]
		if !strings.Contains(user, "["+n+"] (keys.md)") {
			t.Errorf("answer %q cites [%s], which is not keys.md:\n%s", ans, n, user)
		}
	}
	if declined < 4 || declined > 18 {
		t.Errorf("%d of 40 examples decline; want about a quarter", declined)
	}
}
