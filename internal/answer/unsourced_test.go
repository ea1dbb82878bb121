package answer

import "testing"

func TestMarkUnsourced(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		n       int
	}{
		{"Keys rotate every ninety days. [1]", "Keys rotate every ninety days. [1]", 0},
		{"Keys rotate every ninety days [1]. Backups are kept forever. Restores take an hour [2].",
			"Keys rotate every ninety days [1]. Backups are kept forever. [no source] Restores take an hour [2].", 1},
		{"No citation at all", "No citation at all [no source]", 1},
		{Declined, Declined, 0},
		{`Run "ragtune ask 'Why?'" first. [1] Then it works.`, `Run "ragtune ask 'Why?'" first. [1] Then it works. [no source]`, 1},
		{"Keys rotate [1] [2]. Done? Yes [1].", "Keys rotate [1] [2]. Done? [no source] Yes [1].", 1},
	} {
		got, n := MarkUnsourced(tc.in)
		if got != tc.out || n != tc.n {
			t.Errorf("MarkUnsourced(%q) = %q, %d; want %q, %d", tc.in, got, n, tc.out, tc.n)
		}
	}
}
