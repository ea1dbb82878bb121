package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// Interactions are what serve records of its use when feedback is on:
// each answered question with its answer and sources, then the user's
// rating. The table is created on the first record, so a store that
// never recorded one (or one from an older release) has none, and
// reading it finds nothing.

const feedbackTable = `CREATE TABLE IF NOT EXISTS feedback (
	id TEXT PRIMARY KEY, created_at TEXT NOT NULL, key_name TEXT NOT NULL, conversation_id TEXT NOT NULL,
	question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL, short_answer TEXT NOT NULL,
	abstained INTEGER NOT NULL, abstain_reason TEXT NOT NULL, citations TEXT NOT NULL, retrieved TEXT NOT NULL,
	generator TEXT NOT NULL, rating INTEGER NOT NULL DEFAULT 0, correction TEXT NOT NULL DEFAULT '',
	comment TEXT NOT NULL DEFAULT '', rated_at TEXT NOT NULL DEFAULT '')`

const feedbackIndex = `CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at)`

// timeLayout has a fixed width, so stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Rating is a user's verdict on an answer.
type Rating int

// Ratings.
const (
	Unrated Rating = 0
	Up      Rating = 1
	Down    Rating = -1
)

// ParseRating reads "up" or "down".
func ParseRating(s string) (Rating, error) {
	switch s {
	case "up":
		return Up, nil
	case "down":
		return Down, nil
	}
	return Unrated, fmt.Errorf("rating %q: want up or down", s)
}

// String is "up", "down" or "" (unrated).
func (r Rating) String() string {
	switch r {
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return ""
}

// MarshalText writes the rating as its word.
func (r Rating) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads "up", "down" or "" (unrated).
func (r *Rating) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = Unrated
		return nil
	}
	v, err := ParseRating(string(b))
	*r = v
	return err
}

// ParseRatingFilter reads which ratings to keep: up, down, any (rated),
// unrated, or "" (all, nil).
func ParseRatingFilter(s string) ([]Rating, error) {
	switch s {
	case "":
		return nil, nil
	case "up":
		return []Rating{Up}, nil
	case "down":
		return []Rating{Down}, nil
	case "any":
		return []Rating{Up, Down}, nil
	case "unrated":
		return []Rating{Unrated}, nil
	}
	return nil, fmt.Errorf("rating %q: want up, down, any or unrated", s)
}

// Citation is a source an answer cited.
type Citation struct {
	Doc     string `json:"doc"`
	ChunkID string `json:"chunk_id"`
	Lines   [2]int `json:"lines"`
}

// Turn is an earlier message of the conversation a question came in.
type Turn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Interaction is one answered question and, once rated, the user's
// verdict. KeyName is the name of the API key that asked ("" without
// keys), never the key.
type Interaction struct {
	ID             string     `json:"id"`
	CreatedAt      time.Time  `json:"created_at"`
	KeyName        string     `json:"key_name"`
	ConversationID string     `json:"conversation_id,omitempty"`
	Question       string     `json:"question"`
	History        []Turn     `json:"history,omitempty"`
	Answer         string     `json:"answer"`
	ShortAnswer    string     `json:"short_answer,omitempty"`
	Abstained      bool       `json:"abstained"`
	AbstainReason  string     `json:"abstain_reason,omitempty"`
	Citations      []Citation `json:"citations"`
	Retrieved      []string   `json:"retrieved"` // chunk IDs, in rank order
	Generator      string     `json:"generator"`
	Rating         Rating     `json:"rating,omitempty"`
	Correction     string     `json:"correction,omitempty"`
	Comment        string     `json:"comment,omitempty"`
	RatedAt        time.Time  `json:"rated_at,omitzero"`
}

// Feedback is a rating of a recorded interaction.
type Feedback struct {
	InteractionID string
	// KeyName must be the name of the key that asked: a key rates only
	// its own answers.
	KeyName    string
	Rating     Rating
	Correction string
	Comment    string
}

// ErrNoInteraction means no recorded interaction has that ID (for that
// key).
var ErrNoInteraction = errors.New("no such interaction")

// RecordInteraction stores in under a new ID, which it returns, and in
// the same transaction deletes interactions older than keep (0 keeps
// them all). A zero CreatedAt is now.
func (s *Store) RecordInteraction(ctx context.Context, in Interaction, keep time.Duration) (string, error) {
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	in.ID = "fb_" + hex.EncodeToString(raw)
	if in.CreatedAt.IsZero() {
		in.CreatedAt = time.Now()
	}
	history, citations, retrieved, err := encodeParts(in)
	if err != nil {
		return "", err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		for _, ddl := range []string{feedbackTable, feedbackIndex} {
			if _, err := tx.ExecContext(ctx, ddl); err != nil {
				return fmt.Errorf("creating the feedback table: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO feedback(id, created_at, key_name, conversation_id, question, history,
			answer, short_answer, abstained, abstain_reason, citations, retrieved, generator)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.CreatedAt.UTC().Format(timeLayout), in.KeyName, in.ConversationID, in.Question, history,
			in.Answer, in.ShortAnswer, in.Abstained, in.AbstainReason, citations, retrieved, in.Generator)
		if err != nil {
			return fmt.Errorf("recording interaction: %w", err)
		}
		_, err = purge(ctx, tx, keep)
		return err
	})
	if err != nil {
		return "", err
	}
	return in.ID, nil
}

func encodeParts(in Interaction) (history, citations, retrieved string, err error) {
	parts := make([]string, 3)
	for i, v := range []any{nonNil(in.History), nonNil(in.Citations), nonNil(in.Retrieved)} {
		b, err := json.Marshal(v)
		if err != nil {
			return "", "", "", fmt.Errorf("encoding interaction: %w", err)
		}
		parts[i] = string(b)
	}
	return parts[0], parts[1], parts[2], nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// purge deletes interactions older than keep and says how many went.
func purge(ctx context.Context, tx *sql.Tx, keep time.Duration) (int64, error) {
	if keep <= 0 {
		return 0, nil
	}
	cutoff := time.Now().Add(-keep).UTC().Format(timeLayout)
	res, err := tx.ExecContext(ctx, `DELETE FROM feedback WHERE created_at < ?`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("deleting expired interactions: %w", err)
	}
	return res.RowsAffected()
}

// PurgeInteractions deletes interactions older than keep (0 keeps them
// all) and says how many went.
func (s *Store) PurgeInteractions(ctx context.Context, keep time.Duration) (int64, error) {
	if ok, err := sqlitedb.HasTable(ctx, s.db, "feedback"); err != nil || !ok || keep <= 0 {
		return 0, err
	}
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = purge(ctx, tx, keep)
		return err
	})
	return n, err
}

// RateInteraction stores f on its interaction, replacing an earlier
// rating; ErrNoInteraction when there is none with that ID asked by
// f.KeyName.
func (s *Store) RateInteraction(ctx context.Context, f Feedback) error {
	if f.Rating != Up && f.Rating != Down {
		return fmt.Errorf("rating %d: want up (1) or down (-1)", f.Rating)
	}
	if ok, err := sqlitedb.HasTable(ctx, s.db, "feedback"); err != nil || !ok {
		return errors.Join(err, fmt.Errorf("%w %q", ErrNoInteraction, f.InteractionID))
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE feedback SET rating = ?, correction = ?, comment = ?, rated_at = ?
			WHERE id = ? AND key_name = ?`, int(f.Rating), f.Correction, f.Comment, time.Now().UTC().Format(timeLayout),
			f.InteractionID, f.KeyName)
		if err != nil {
			return fmt.Errorf("rating interaction %s: %w", f.InteractionID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%w %q", ErrNoInteraction, f.InteractionID))
		}
		return nil
	})
}

// InteractionFilter picks interactions to list.
type InteractionFilter struct {
	// Ratings keeps interactions with one of these ratings (Unrated
	// included); empty keeps all.
	Ratings []Rating
	Since   time.Time // zero: from the first
	Limit   int       // 0: all
}

// Interactions lists recorded interactions, newest first.
func (s *Store) Interactions(ctx context.Context, f InteractionFilter) ([]Interaction, error) {
	out := []Interaction{}
	if ok, err := sqlitedb.HasTable(ctx, s.db, "feedback"); err != nil || !ok {
		return out, err
	}
	q, args := interactionsQuery(f)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing interactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		in, err := scanInteraction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

func interactionsQuery(f InteractionFilter) (string, []any) {
	q := `SELECT id, created_at, key_name, conversation_id, question, history, answer, short_answer, abstained,
		abstain_reason, citations, retrieved, generator, rating, correction, comment, rated_at FROM feedback WHERE created_at >= ?`
	args := []any{f.Since.UTC().Format(timeLayout)}
	if f.Since.IsZero() {
		args[0] = ""
	}
	if len(f.Ratings) > 0 {
		q += ` AND rating IN (?` + strings.Repeat(", ?", len(f.Ratings)-1) + `)`
		for _, r := range f.Ratings {
			args = append(args, int(r))
		}
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return q, args
}

func scanInteraction(rows *sql.Rows) (Interaction, error) {
	var in Interaction
	var created, rated, history, citations, retrieved string
	var rating int
	err := rows.Scan(&in.ID, &created, &in.KeyName, &in.ConversationID, &in.Question, &history, &in.Answer, &in.ShortAnswer,
		&in.Abstained, &in.AbstainReason, &citations, &retrieved, &in.Generator, &rating, &in.Correction, &in.Comment, &rated)
	if err != nil {
		return in, fmt.Errorf("reading interaction: %w", err)
	}
	in.Rating = Rating(rating)
	if in.CreatedAt, err = time.Parse(timeLayout, created); err != nil {
		return in, fmt.Errorf("interaction %s: created_at: %w", in.ID, err)
	}
	if rated != "" {
		if in.RatedAt, err = time.Parse(timeLayout, rated); err != nil {
			return in, fmt.Errorf("interaction %s: rated_at: %w", in.ID, err)
		}
	}
	for _, p := range []struct {
		raw string
		v   any
	}{{history, &in.History}, {citations, &in.Citations}, {retrieved, &in.Retrieved}} {
		if err := json.Unmarshal([]byte(p.raw), p.v); err != nil {
			return in, fmt.Errorf("interaction %s: %w", in.ID, err)
		}
	}
	return in, nil
}
