package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/retrieve"
	"github.com/ragtune/ragtune/internal/store"
)

// Feedback from use. With a collection's Feedback set, every answered
// question (POST /v1/ask, its SSE and WebSocket streams, and chat
// completions) is recorded and its interaction_id returned: in the JSON
// answer, in the stream's done event, in the last chat chunk. The key
// that asked may then rate the answer at POST /v1/feedback (read scope:
// its own answers only; a new rating replaces the last); an admin key
// lists them at GET /v1/feedback. With Feedback nil nothing is recorded
// and both answer 404.

// FeedbackStore records answered questions and their ratings; a
// *store.Store is one.
type FeedbackStore interface {
	// RecordInteraction stores an interaction, deleting those older than
	// keep (0: none), and returns its ID.
	RecordInteraction(ctx context.Context, in store.Interaction, keep time.Duration) (string, error)
	// RateInteraction rates an interaction asked by f.KeyName;
	// store.ErrNoInteraction when there is none.
	RateInteraction(ctx context.Context, f store.Feedback) error
	Interactions(ctx context.Context, f store.InteractionFilter) ([]store.Interaction, error)
}

// Bounds of a rating's free text (the body limit applies too).
const (
	maxCorrectionBytes     = maxQueryBytes
	maxCommentBytes        = 4 << 10
	maxConversationIDBytes = 200
)

// recordLimit bounds the time recording an interaction may take, apart
// from the answer's own budget.
const recordLimit = 5 * time.Second

const feedbackOff = "feedback is off for this collection ([feedback] enabled = false in its configuration)"

// asked is what a request asked, as recorded.
type asked struct {
	question       string
	history        []conversation.Turn
	conversationID string
}

// askResponse is the JSON answer of /v1/ask: the result and, with
// feedback on, the interaction to rate.
type askResponse struct {
	answer.Result
	InteractionID string `json:"interaction_id,omitempty"`
}

// doneEvent is a stream's done event with the interaction to rate.
type doneEvent struct {
	answer.Event
	InteractionID string `json:"interaction_id,omitempty"`
}

// record keeps an answered question when the collection records
// feedback and returns its interaction ID; "" when it does not, or when
// recording failed (logged: the answer goes out all the same).
func (s *Server) record(ctx context.Context, b *Backend, q asked, res answer.Result) string {
	if b.Feedback == nil {
		return ""
	}
	in := store.Interaction{KeyName: infoOf(ctx).keyName, ConversationID: q.conversationID, Question: q.question,
		Answer: res.Answer, ShortAnswer: res.ShortAnswer, Abstained: res.Abstained, Generator: res.Generator}
	if res.AbstainReason != nil {
		in.AbstainReason = *res.AbstainReason
	}
	for _, t := range q.history {
		in.History = append(in.History, store.Turn{Role: t.Role, Content: t.Text})
	}
	for _, c := range res.Citations {
		in.Citations = append(in.Citations, store.Citation{Doc: c.Doc, ChunkID: c.ChunkID, Lines: c.Lines})
	}
	for _, h := range res.Retrieved {
		in.Retrieved = append(in.Retrieved, h.ID)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordLimit)
	defer cancel()
	id, err := b.Feedback.RecordInteraction(ctx, in, b.FeedbackRetention)
	if err != nil {
		s.opts.Log.Error("recording an interaction", "err", err)
		return ""
	}
	return id
}

// transcript follows a streamed answer, so that at its end the
// interaction can be recorded.
type transcript struct {
	s      *Server
	b      *Backend
	q      asked
	hits   []retrieve.Hit
	gen    string
	c      answer.Collector
	done   bool // the stream ended with done
	failed bool // the stream carried an error
}

func (s *Server) transcript(b *Backend, q asked, hits []retrieve.Hit, gen answer.Generator) *transcript {
	return &transcript{s: s, b: b, q: q, hits: hits, gen: gen.ID()}
}

// add takes one event of the stream.
func (t *transcript) add(ev answer.Event) {
	if t.c.Add(ev) != nil {
		t.failed = true
	}
	t.done = t.done || ev.Type == answer.EventDone
}

// event takes ev and returns what to send for it: ev, or for the done
// event, ev with the interaction ID.
func (t *transcript) event(ctx context.Context, ev answer.Event) any {
	t.add(ev)
	if ev.Type != answer.EventDone {
		return ev
	}
	return doneEvent{Event: ev, InteractionID: t.record(ctx)}
}

// record records the answer once the stream is done, unless it failed.
func (t *transcript) record(ctx context.Context) string {
	if !t.done || t.failed {
		return ""
	}
	res := t.c.Result()
	res.Retrieved, res.Generator = t.hits, t.gen
	return t.s.record(ctx, t.b, t.q, res)
}

// feedbackRequest is the body of POST /v1/feedback.
type feedbackRequest struct {
	InteractionID string `json:"interaction_id"`
	Rating        string `json:"rating"`
	Correction    string `json:"correction"`
	Comment       string `json:"comment"`
}

// check validates the request, returning the status to refuse it with.
func (f feedbackRequest) check() (store.Rating, int, error) {
	rating, err := store.ParseRating(f.Rating)
	switch {
	case strings.TrimSpace(f.InteractionID) == "":
		return 0, http.StatusBadRequest, errors.New("interaction_id is missing")
	case err != nil:
		return 0, http.StatusBadRequest, err
	case len(f.Correction) > maxCorrectionBytes:
		return 0, http.StatusRequestEntityTooLarge, fmt.Errorf("the correction is %d bytes; the limit is %d", len(f.Correction), maxCorrectionBytes)
	case len(f.Comment) > maxCommentBytes:
		return 0, http.StatusRequestEntityTooLarge, fmt.Errorf("the comment is %d bytes; the limit is %d", len(f.Comment), maxCommentBytes)
	}
	return rating, 0, nil
}

// rate stores a rating of an interaction the request's key asked.
func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	if b.Feedback == nil {
		writeError(w, http.StatusNotFound, feedbackOff)
		return
	}
	var f feedbackRequest
	if !decode(w, r, &f) {
		return
	}
	rating, code, err := f.check()
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	err = b.Feedback.RateInteraction(r.Context(), store.Feedback{InteractionID: f.InteractionID, KeyName: infoOf(r.Context()).keyName,
		Rating: rating, Correction: strings.TrimSpace(f.Correction), Comment: strings.TrimSpace(f.Comment)})
	switch {
	case errors.Is(err, store.ErrNoInteraction):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no interaction %q asked with this key", f.InteractionID))
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// feedbackList lists recorded interactions, newest first: ?limit= (100
// by default, at most 1000) and ?rating=up|down|any|unrated.
func (s *Server) feedbackList(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	if b.Feedback == nil {
		writeError(w, http.StatusNotFound, feedbackOff)
		return
	}
	filter, err := listFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := b.Feedback.Interactions(r.Context(), filter)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"interactions": list})
}

func listFilter(r *http.Request) (store.InteractionFilter, error) {
	f := store.InteractionFilter{Limit: 100}
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 1000 {
			return f, fmt.Errorf("limit must be 1 to 1000, not %q", raw)
		}
		f.Limit = n
	}
	ratings, err := store.ParseRatingFilter(r.URL.Query().Get("rating"))
	f.Ratings = ratings
	return f, err
}
