package answer

import (
	"context"
	"strconv"
	"strings"
)

// Renumbered wraps g so that citations are numbered 1, 2, … in the order
// the answer first uses them, whatever rank the passages had: an answer
// citing only the second passage cites [1]. Markers are rewritten in the
// token stream, across token boundaries, and citation events carry the
// new numbers; a bracketed number that names no passage is left alone.
func Renumbered(g Generator) Generator { return renumbered{g} }

type renumbered struct{ Generator }

func (r renumbered) Generate(ctx context.Context, req Request) (<-chan Event, error) {
	in, err := r.Generator.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(chan Event)
	go func() {
		defer close(out)
		rn := &renumberer{passages: len(req.Hits), to: map[int]int{}}
		send := func(ev Event) bool {
			select {
			case out <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for ev := range in {
			switch ev.Type {
			case EventToken:
				if ev.Text = rn.text(ev.Text); ev.Text == "" {
					continue
				}
			case EventCitation:
				c := *ev.Citation
				c.N = rn.number(c.N)
				ev.Citation = &c
			default:
				if rest := rn.flush(); rest != "" && !send(Event{Type: EventToken, Text: rest}) {
					drain(in)
					return
				}
			}
			if !send(ev) {
				drain(in)
				return
			}
		}
		if rest := rn.flush(); rest != "" {
			send(Event{Type: EventToken, Text: rest})
		}
	}()
	return out, nil
}

func drain(ch <-chan Event) {
	for range ch {
	}
}

// renumberer rewrites [n] markers of a token stream.
type renumberer struct {
	passages int
	to       map[int]int // passage number → number in the answer
	held     string      // an unfinished "[12" held until its "]"
}

// number is the answer's number for passage n, given at first use.
func (r *renumberer) number(n int) int {
	if n < 1 || n > r.passages {
		return n
	}
	if m, ok := r.to[n]; ok {
		return m
	}
	r.to[n] = len(r.to) + 1
	return r.to[n]
}

// text rewrites the markers in s, holding back a marker cut by the end
// of the token.
func (r *renumberer) text(s string) string {
	s = r.held + s
	r.held = ""
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		switch {
		case j == len(s) && j-i <= 4: // maybe a marker, cut by the token's end
			r.held = s[i:]
			return b.String()
		case j < len(s) && s[j] == ']' && j > i+1:
			n, _ := strconv.Atoi(s[i+1 : j])
			b.WriteString("[" + strconv.Itoa(r.number(n)) + "]")
			s = s[j+1:]
		default:
			b.WriteByte('[')
			s = s[i+1:]
		}
	}
}

// flush returns what is held back, when the stream ends.
func (r *renumberer) flush() string {
	s := r.held
	r.held = ""
	return s
}
