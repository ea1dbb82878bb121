package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// gradePrompt asks a chat model for one passage's relevance.
const gradePrompt = "You grade how well a passage answers a search query. Reply with one integer from 0 (unrelated) " +
	"to 10 (answers the query fully), and nothing else."

var firstInt = regexp.MustCompile(`\d+`)

// grade asks the chat model to grade each passage, a few at a time.
func (r *Reranker) grade(ctx context.Context, query string, texts []string) ([]float64, error) {
	scores := make([]float64, len(texts))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, text := range texts {
		g.Go(func() error {
			s, err := r.gradeOne(ctx, query, text)
			scores[i] = s
			return err
		})
	}
	return scores, g.Wait()
}

func (r *Reranker) gradeOne(ctx context.Context, query, text string) (float64, error) {
	body, _ := json.Marshal(map[string]any{"model": r.cfg.Model, "temperature": 0, "max_tokens": 4,
		"messages": []map[string]string{{"role": "system", "content": gradePrompt},
			{"role": "user", "content": "Query: " + query + "\n\nPassage: " + text}}})
	var last error
	for attempt := 0; attempt <= r.cfg.MaxRetries; attempt++ {
		req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(r.cfg.BaseURL, "/")+"/chat/completions", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		if r.key != "" {
			req.Header.Set("Authorization", "Bearer "+r.key)
		}
		res, err := r.client.Do(req)
		if err != nil {
			last = err
			continue
		}
		data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			last = fmt.Errorf("HTTP %d: %.200s", res.StatusCode, data)
			if res.StatusCode != http.StatusTooManyRequests && res.StatusCode < 500 {
				break
			}
			continue
		}
		var out struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(data, &out); err != nil || len(out.Choices) == 0 {
			return 0, fmt.Errorf("reading the chat model's grade: %.200s", data)
		}
		m := firstInt.FindString(out.Choices[0].Message.Content)
		n, err := strconv.Atoi(m)
		if err != nil || n > 10 {
			return 0, fmt.Errorf("the chat model answered %q, not a grade from 0 to 10", out.Choices[0].Message.Content)
		}
		return float64(n), nil
	}
	return 0, fmt.Errorf("grading with %s at %s: %w", r.ID(), r.cfg.BaseURL, last)
}
