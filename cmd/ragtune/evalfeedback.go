package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/store"
)

func (a *app) evalFeedbackCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "feedback",
		Short: "Turn what serve recorded of its use into test sets and training data",
		Long: `With [feedback] enabled = true, serve records every answered question and
takes a thumbs up or down, with an optional correction, at POST
/v1/feedback. These commands read what it recorded from the project's
store: list shows it, export turns the rated answers into QA items for
'ragtune eval run' and chat examples for 'ragtune tune prepare'.`,
	})
	cmd.AddCommand(a.evalFeedbackListCommand(), a.evalFeedbackExportCommand())
	return cmd
}

// feedbackFilter is the selection flags list and export share.
type feedbackFilter struct {
	rating, since string
	limit         int
}

func (f *feedbackFilter) flags(cmd *cobra.Command, rating, ratingHelp string) {
	cmd.Flags().StringVar(&f.rating, "rating", rating, ratingHelp)
	cmd.Flags().StringVar(&f.since, "since", "", "only interactions from this time on: a date (2026-01-31), an RFC 3339 time, or an age (30d, 12h)")
}

// filter is the store filter the flags ask for, as of now.
func (f feedbackFilter) filter(now time.Time) (store.InteractionFilter, error) {
	ratings, err := store.ParseRatingFilter(f.rating)
	if err != nil {
		return store.InteractionFilter{}, usageError{fmt.Errorf("--rating: %w", err)}
	}
	since, err := parseSince(f.since, now)
	if err != nil {
		return store.InteractionFilter{}, usageError{err}
	}
	return store.InteractionFilter{Ratings: ratings, Since: since, Limit: f.limit}, nil
}

// parseSince reads a date, an RFC 3339 time or an age such as 30d or
// 12h ("" is the beginning).
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a date (2026-01-31), an RFC 3339 time or an age (30d, 12h)", s)
}

// interactions lists what the flags select from the project's store.
func (a *app) interactions(cmd *cobra.Command, f feedbackFilter) ([]store.Interaction, error) {
	filter, err := f.filter(time.Now())
	if err != nil {
		return nil, err
	}
	var list []store.Interaction
	err = a.withProject(cmd, func(p *project.Project) error {
		// Retention holds whether or not serve ran since, or feedback is
		// on: nothing older is listed (serve deletes it; a read lists).
		if days := p.Config().Feedback.RetentionDays; days > 0 {
			if oldest := time.Now().Add(-time.Duration(days) * 24 * time.Hour); filter.Since.Before(oldest) {
				filter.Since = oldest
			}
		}
		list, err = p.Store().Interactions(cmd.Context(), filter)
		return err
	})
	return list, err
}

func (a *app) evalFeedbackListCommand() *cobra.Command {
	var f feedbackFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List recorded interactions, newest first",
		Long: `list shows the interactions serve recorded, newest first: when, which API
key asked (its name), the rating and the question; --json gives every
field (answer, citations, retrieved chunk IDs, correction, comment).`,
		Example: `  ragtune eval feedback list
  ragtune eval feedback list --rating down --since 7d
  ragtune eval feedback list --json --limit 500`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := a.interactions(cmd, f)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"interactions": list})
			}
			if len(list) == 0 {
				fmt.Fprintln(a.stdout, "No interactions recorded. serve records them with [feedback] enabled = true in ragtune.toml.")
			}
			for _, in := range list {
				rating := cmp.Or(in.Rating.String(), "-")
				if in.Correction != "" {
					rating += "+fix"
				}
				fmt.Fprintf(a.stdout, "%s  %s  %-8s %-12s %s\n", in.ID, in.CreatedAt.Local().Format(time.DateTime), rating, cmp.Or(in.KeyName, "-"), oneLine(in.Question, 80))
			}
			return nil
		},
	}
	f.flags(cmd, "", "up, down, any (rated) or unrated (default: all)")
	cmd.Flags().IntVar(&f.limit, "limit", 50, "how many to list (0: all)")
	return cmd
}

// oneLine is s on one line, cut to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// feedbackExport is what export wrote and what it left out.
type feedbackExport struct {
	Interactions int            `json:"interactions"`
	QAItems      int            `json:"qa_items"`
	ChatExamples int            `json:"chat_examples"`
	Skipped      map[string]int `json:"skipped"`
	QAFile       string         `json:"qa_file,omitempty"`
	ChatFile     string         `json:"chat_file,omitempty"`
}

func (a *app) evalFeedbackExportCommand() *cobra.Command {
	var (
		f                feedbackFilter
		qaPath, chatPath string
		system           string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write rated answers as QA items (--qa) and chat training examples (--chat)",
		Long: `export turns rated interactions into gold:

  a correction          is the gold answer (the declined sentence as a
                        correction marks the question unanswerable);
  an approved answer    its short answer and text (citation markers
                        removed) are the gold answers, its cited
                        documents the gold documents;
  an approved refusal   makes an unanswerable item (answerable: false);
  down, no correction   is not gold: it is skipped and counted (list them
                        with 'ragtune eval feedback list --rating down').

--qa writes the QA JSONL that 'ragtune eval run' reads (kind "feedback",
origin the interaction ID). --chat writes {"messages":[system, earlier
turns…, user, assistant]} lines that 'ragtune tune prepare' reads; add
--with-context there to put retrieved passages in each example. When a
question was rated more than once, its newest rating wins. Follow-up
questions (asked with a conversation history) go to --chat with their
history but not to --qa, whose items have none.`,
		Example: `  ragtune eval feedback export --qa feedback-qa.jsonl --chat feedback-chat.jsonl
  ragtune eval feedback export --qa qa.jsonl --rating up --since 30d --json
  ragtune eval run feedback-qa.jsonl
  ragtune tune prepare feedback-chat.jsonl --with-context`,
		Args: exactArgs(0, "no arguments (files go in --qa and --chat)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if qaPath == "" && chatPath == "" {
				return usagef("name a file to write: --qa FILE, --chat FILE or both")
			}
			if qaPath != "" && filepath.Clean(qaPath) == filepath.Clean(chatPath) {
				return usagef("--qa and --chat name the same file; give each its own")
			}
			if f.rating == "unrated" {
				return usagef("--rating unrated: unrated answers are not gold; want up, down or any")
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("system") {
				system = cmp.Or(cfg.Generate.OpenAI.SystemPrompt, answer.DefaultSystemPrompt)
			}
			list, err := a.interactions(cmd, f)
			if err != nil {
				return err
			}
			rep, err := writeFeedback(feedbackFiles{QA: qaPath, Chat: chatPath, System: system}, list)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(rep)
			}
			rep.writeText(a)
			return nil
		},
	}
	f.flags(cmd, "any", "which ratings to export: up, down or any")
	cmd.Flags().StringVar(&qaPath, "qa", "", "write QA items (JSONL, the eval run format) to this file")
	cmd.Flags().StringVar(&chatPath, "chat", "", "write chat examples (JSONL, the tune prepare format) to this file")
	cmd.Flags().StringVar(&system, "system", "", "system prompt of the chat examples (default: [generate.openai] system_prompt, else ragtune's)")
	return cmd
}

func (rep feedbackExport) writeText(a *app) {
	fmt.Fprintf(a.stdout, "%d rated interactions: %d QA items, %d chat examples\n", rep.Interactions, rep.QAItems, rep.ChatExamples)
	reasons := make([]string, 0, len(rep.Skipped))
	for r := range rep.Skipped {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(a.stdout, "  skipped %-24s %d\n", r, rep.Skipped[r])
	}
	for _, p := range []string{rep.QAFile, rep.ChatFile} {
		if p != "" {
			fmt.Fprintf(a.stdout, "wrote %s\n", p)
		}
	}
}

// feedbackFiles says where export writes and with which system prompt.
type feedbackFiles struct {
	QA, Chat, System string
}

// skipFollowUp counts follow-up questions left out of the QA file.
const skipFollowUp = "follow_up_not_in_qa"

// skipDuplicate counts older ratings of a question rated again later.
const skipDuplicate = "older_rating_of_same_question"

// writeFeedback writes the gold of list (newest first) to the files,
// oldest first.
func writeFeedback(files feedbackFiles, list []store.Interaction) (feedbackExport, error) {
	rep := feedbackExport{Interactions: len(list), Skipped: map[string]int{}, QAFile: files.QA, ChatFile: files.Chat}
	var qa []evaluate.QAItem
	var chat []finetune.Example
	seen := map[string]bool{}
	// Newest rating first, so that it is the one a question keeps.
	list = slices.Clone(list)
	slices.SortStableFunc(list, func(a, b store.Interaction) int { return b.RatedAt.Compare(a.RatedAt) })
	for _, in := range list {
		gold, skip := evaluate.GoldFromFeedback(in)
		key := questionKey(in)
		switch {
		case skip != "":
			rep.Skipped[skip]++
			continue
		case seen[key]:
			rep.Skipped[skipDuplicate]++
			continue
		}
		seen[key] = true
		chat = append(chat, chatExample(files.System, in, gold.Target))
		if len(in.History) > 0 {
			rep.Skipped[skipFollowUp]++
			continue
		}
		qa = append(qa, gold.Item)
	}
	slices.Reverse(qa)
	slices.Reverse(chat)
	if files.QA != "" {
		rep.QAItems = len(qa)
		if err := writeJSONL(files.QA, qa); err != nil {
			return rep, err
		}
	}
	if files.Chat != "" {
		rep.ChatExamples = len(chat)
		if err := writeJSONL(files.Chat, chat); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// questionKey identifies a question with the conversation it came in.
func questionKey(in store.Interaction) string {
	b, _ := json.Marshal(struct {
		Q string
		H []store.Turn
	}{evaluate.NormalizeAnswer(in.Question), in.History})
	return string(b)
}

// chatExample is the conversation a model should have had: the system
// prompt, the earlier turns, the question and the gold answer.
func chatExample(system string, in store.Interaction, target string) finetune.Example {
	msgs := []finetune.Message{{Role: "system", Content: system}}
	for _, t := range in.History {
		if strings.TrimSpace(t.Content) != "" && (t.Role == "user" || t.Role == "assistant") {
			msgs = append(msgs, finetune.Message{Role: t.Role, Content: t.Content})
		}
	}
	msgs = append(msgs, finetune.Message{Role: "user", Content: in.Question}, finetune.Message{Role: "assistant", Content: target})
	return finetune.Example{Messages: msgs}
}

// writeJSONL writes one JSON value a line, atomically: a failed write
// leaves the file as it was.
func writeJSONL[T any](path string, rows []T) error {
	return evaluate.WriteFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
}
