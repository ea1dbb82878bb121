package conversation

import "testing"

func TestStandalone(t *testing.T) {
	for _, tc := range []struct {
		q       string
		history []Turn
		want    string
	}{
		{"How often do signing keys rotate?", nil, "How often do signing keys rotate?"},
		{"And how is that done?", []Turn{{"user", "When do signing keys rotate?"}, {"assistant", "Every ninety days [1]."}},
			"And how is that done? signing keys rotate"},
		{"What about backups?", []Turn{{"user", "Tell me about key rotation"}, {"assistant", "…"}, {"user", "and restores of the key store?"}},
			"What about backups? restores key store rotation"},
	} {
		if got := Standalone(tc.q, tc.history); got != tc.want {
			t.Errorf("Standalone(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}
