// Package progress draws progress bars for long work on a terminal, one
// bar per stage ("indexing scifact", "querying scifact"), and nothing
// anywhere else, so piped and JSON output stays clean.
package progress

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Stages makes one bar per stage of a piece of work.
type Stages struct {
	w       io.Writer // nil: no bars
	mu      sync.Mutex
	current *progressbar.ProgressBar
}

// New draws on w when on is set (a terminal, no machine output asked
// for), and is silent otherwise.
func New(w io.Writer, on bool) *Stages {
	if !on {
		w = nil
	}
	return &Stages{w: w}
}

// Stage finishes the bar of the previous stage and starts one for this
// stage; the returned function is told of the work done and the total.
// It returns nil when bars are off.
func (s *Stages) Stage(name string) func(done, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish()
	if s.w == nil {
		return nil
	}
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(s.w), progressbar.OptionSetDescription(name),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	s.current = bar
	return func(done, total int) {
		bar.ChangeMax(total)
		bar.Set(done)
	}
}

// Done finishes the last bar.
func (s *Stages) Done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish()
}

func (s *Stages) finish() {
	if s.current != nil {
		s.current.Finish()
		s.current = nil
	}
}
