// Package progress reports long work, one stage at a time ("indexing
// scifact", "querying scifact"): as a bar on a terminal, and elsewhere as
// a log line every so often with the work done, the rate and the time
// left, so a job in CI or under nohup is never silent for long.
package progress

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Options say how to report.
type Options struct {
	// Bars draws progress bars on Terminal (a terminal, no machine
	// output asked for).
	Terminal io.Writer
	// Log, when there is no terminal, gets a line every Every and, for
	// a stage long enough to have had one, a line when it ends; nil
	// reports nothing.
	Log   *slog.Logger
	Every time.Duration // 15 s when zero
}

// Stages reports one stage after another.
type Stages struct {
	opts  Options
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	stage *logged
}

// New reports as o says; with neither a terminal nor a log it is silent.
func New(o Options) *Stages {
	if o.Every <= 0 {
		o.Every = 15 * time.Second
	}
	return &Stages{opts: o}
}

// Stage ends the previous stage and starts this one; the returned
// function is told of the work done and the total. It returns nil when
// nothing is reported.
func (s *Stages) Stage(name string) func(done, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish()
	switch {
	case s.opts.Terminal != nil:
		bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(s.opts.Terminal), progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
		s.bar = bar
		return func(done, total int) {
			bar.ChangeMax(total)
			bar.Set(done)
		}
	case s.opts.Log != nil:
		l := &logged{name: name, log: s.opts.Log, every: s.opts.Every, began: time.Now()}
		l.last = l.began
		s.stage = l
		return l.update
	}
	return nil
}

// Done ends the last stage.
func (s *Stages) Done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish()
}

func (s *Stages) finish() {
	if s.bar != nil {
		s.bar.Finish()
		s.bar = nil
	}
	if s.stage != nil {
		s.stage.end()
		s.stage = nil
	}
}

// logged is a stage reported in log lines.
type logged struct {
	name        string
	log         *slog.Logger
	every       time.Duration
	mu          sync.Mutex
	began, last time.Time
	done, total int
	lines       int // periodic lines written
}

func (l *logged) update(done, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done, l.total = done, total
	if now := time.Now(); now.Sub(l.last) >= l.every {
		l.last = now
		l.lines++
		l.line("working")
	}
}

func (l *logged) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines > 0 { // work too short for a periodic line stays quiet
		l.line("done")
	}
}

// line logs where the stage stands: done/total, percent, rate and the
// time left at that rate.
func (l *logged) line(msg string) {
	elapsed := time.Since(l.began)
	attrs := []any{"stage", l.name, "done", l.done, "total", l.total, "elapsed", elapsed.Round(time.Second).String()}
	if l.total > 0 {
		attrs = append(attrs, "percent", 100*l.done/l.total)
	}
	if l.done > 0 && elapsed > 0 {
		rate := float64(l.done) / elapsed.Seconds()
		attrs = append(attrs, "per_second", float64(int(rate*10))/10)
		if l.total > l.done && msg != "done" {
			left := time.Duration(float64(l.total-l.done) / rate * float64(time.Second))
			attrs = append(attrs, "eta", left.Round(time.Second).String())
		}
	}
	l.log.Info(msg, attrs...)
}
