package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestBarsOnATerminal(t *testing.T) {
	var term bytes.Buffer
	s := New(Options{Terminal: &term})
	update := s.Stage("indexing docs")
	update(1, 4)
	update(4, 4)
	s.Stage("querying")(2, 2)
	s.Done()
	if !strings.Contains(term.String(), "indexing docs") || !strings.Contains(term.String(), "querying") {
		t.Errorf("bars: %q", term.String())
	}
}

func TestSilentWithoutTerminalOrLog(t *testing.T) {
	if New(Options{}).Stage("indexing") != nil {
		t.Fatal("a stage reported with nowhere to report")
	}
}

// TestLogLines: without a terminal, a line with done/total, percent and
// ETA comes every interval, and one when the stage ends.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	s := New(Options{Log: slog.New(slog.NewTextHandler(&buf, nil)), Every: 2 * time.Millisecond})
	update := s.Stage("training")
	update(1, 10)
	time.Sleep(5 * time.Millisecond)
	update(5, 10)
	s.Done()
	quick := s.Stage("quick")
	quick(1, 1)
	s.Done()
	out := buf.String()
	if strings.Contains(out, "stage=quick") {
		t.Errorf("a stage shorter than the interval was logged:\n%s", out)
	}
	for _, want := range []string{"msg=working stage=training done=5 total=10", "percent=50", "eta=", "msg=done stage=training done=5 total=10"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
