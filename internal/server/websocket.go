package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/ragtune/ragtune/internal/answer"
)

// askWS answers questions over a WebSocket: each message the client sends
// is an ask request ({"question": …}); the server replies with the same
// events as the SSE stream, one JSON message each ({"type":"token",…}),
// ending with "done" or "error". The connection takes any number of
// questions; closing it cancels the answer in progress.
func (s *Server) askWS(w http.ResponseWriter, r *http.Request) {
	key := apiKeyOf(r.Context())
	if !s.sockets.open(key) {
		refuse(w, http.StatusTooManyRequests, fmt.Sprintf("this key has %d WebSockets open already; close one first", maxSocketsPerKey))
		return
	}
	defer s.sockets.close(key)
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(s.opts.MaxBody)
	ctx := r.Context()
	for {
		var q queryRequest
		// An idle socket is closed; each question counts against the
		// key's rate limit like a request.
		readCtx, cancel := context.WithTimeout(ctx, socketIdle)
		// A shutdown closes a socket that waits for a question (one in
		// the middle of an answer is closed after it).
		stopWaiting := context.AfterFunc(s.stopping, func() { c.Close(websocket.StatusGoingAway, "the server is shutting down") })
		err := wsjson.Read(readCtx, c, &q)
		stopWaiting()
		cancel()
		if err != nil {
			switch {
			case s.stopping.Err() != nil:
				// closed above
			case errors.Is(err, context.DeadlineExceeded):
				c.Close(websocket.StatusPolicyViolation, "idle for too long")
			case websocket.CloseStatus(err) == websocket.StatusNormalClosure || errors.Is(err, context.Canceled):
				c.Close(websocket.StatusNormalClosure, "")
			}
			return
		}
		if !s.limits.allow(key) {
			if wsjson.Write(ctx, c, answer.Event{Type: answer.EventError, Error: "rate limit exceeded; slow down"}) != nil {
				return
			}
			continue
		}
		s.wg.Add(1)
		err = s.answerWS(ctx, backendOf(r.Context()), c, q)
		s.wg.Done()
		if err != nil {
			return
		}
		if s.stopping.Err() != nil {
			c.Close(websocket.StatusGoingAway, "the server is shutting down")
			return
		}
	}
}

func (s *Server) answerWS(ctx context.Context, b *Backend, c *websocket.Conn, q queryRequest) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.AnswerLimit)
	defer cancel()
	text := q.Question
	if text == "" {
		text = q.Query
	}
	fail := func(msg string) error {
		return wsjson.Write(ctx, c, answer.Event{Type: answer.EventError, Error: msg})
	}
	hits, _, err := s.retrieve(ctx, b, q, text)
	if err != nil {
		return fail(err.Error())
	}
	gen, err := b.Collection.Generator(ctx, q.Model)
	if err != nil {
		return fail(err.Error())
	}
	events, err := gen.Generate(ctx, answer.Request{Question: text, Hits: hits, History: q.History})
	if err != nil {
		return fail(err.Error())
	}
	if err := wsjson.Write(ctx, c, map[string]any{"type": "retrieved", "hits": hits}); err != nil {
		return err
	}
	t := s.transcript(b, asked{question: text, history: q.History, conversationID: q.ConversationID}, hits, gen)
	for ev := range events {
		if err := wsjson.Write(ctx, c, t.event(ctx, ev)); err != nil {
			cancel() // the client left: stop generating
			for range events {
			}
			return err
		}
	}
	return nil
}

// socketIdle is how long a WebSocket may go without a question.
const socketIdle = 5 * time.Minute

// maxSocketsPerKey bounds the WebSockets one key holds open.
const maxSocketsPerKey = 16

// sockets counts open WebSockets per key.
type sockets struct {
	mu    sync.Mutex
	count map[string]int
}

func (s *sockets) open(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == nil {
		s.count = map[string]int{}
	}
	if s.count[key] >= maxSocketsPerKey {
		return false
	}
	s.count[key]++
	return true
}

func (s *sockets) close(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count[key]--
}
