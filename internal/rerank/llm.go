package rerank

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"golang.org/x/sync/errgroup"
)

// gradePrompt asks a chat model for one passage's relevance.
const gradePrompt = "You grade how well a passage answers a search query. Reply with one integer from 0 (unrelated) " +
	"to 10 (answers the query fully), and nothing else."

var firstInt = regexp.MustCompile(`\d+`)

// chatClient reaches the grading model with the OpenAI SDK, which retries
// rate limits and server errors with backoff.
func (r *Reranker) chatClient() openai.Client {
	key := r.key
	if key == "" {
		key = "unused" // local servers take no key
	}
	return openai.NewClient(option.WithBaseURL(r.cfg.BaseURL), option.WithAPIKey(key),
		option.WithMaxRetries(max(r.cfg.MaxRetries, 0)), option.WithHTTPClient(r.client))
}

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
	res, err := r.chat.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:       r.cfg.Model,
		Temperature: openai.Float(0),
		MaxTokens:   openai.Int(4),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(gradePrompt),
			openai.UserMessage("Query: " + query + "\n\nPassage: " + text)},
	})
	if err != nil {
		return 0, fmt.Errorf("grading with %s at %s: %w", r.ID(), r.cfg.BaseURL, err)
	}
	if len(res.Choices) == 0 {
		return 0, fmt.Errorf("grading with %s at %s: the reply has no choices", r.ID(), r.cfg.BaseURL)
	}
	content := res.Choices[0].Message.Content
	n, err := strconv.Atoi(firstInt.FindString(content))
	if err != nil || n > 10 {
		return 0, fmt.Errorf("the chat model answered %q, not a grade from 0 to 10", content)
	}
	return float64(n), nil
}
