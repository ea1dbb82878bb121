package server

import (
	"context"
	"errors"
	"net/http"

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
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(s.opts.MaxBody)
	ctx := r.Context()
	for {
		var q queryRequest
		if err := wsjson.Read(ctx, c, &q); err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure || errors.Is(err, context.Canceled) {
				c.Close(websocket.StatusNormalClosure, "")
			}
			return
		}
		s.wg.Add(1)
		err := s.answerWS(ctx, backendOf(r.Context()), c, q)
		s.wg.Done()
		if err != nil {
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
	events, err := gen.Generate(ctx, answer.Request{Question: text, Hits: hits})
	if err != nil {
		return fail(err.Error())
	}
	if err := wsjson.Write(ctx, c, map[string]any{"type": "retrieved", "hits": hits}); err != nil {
		return err
	}
	for ev := range events {
		if err := wsjson.Write(ctx, c, ev); err != nil {
			cancel() // the client left: stop generating
			for range events {
			}
			return err
		}
	}
	return nil
}
