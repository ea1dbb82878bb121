package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/testset"
)

func (a *app) evalReviewCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "review",
		Short: "Accept, edit or reject the items of a generated test set",
		Long: `Generated questions are proposals. review shows each with the passage it was
written from, and records a person's decision in the same file
("review": {"status": "accepted"|"rejected", "by", "at", "note"}); an edit
keeps the generated version under "original". 'eval run' skips rejected
items; 'eval run --accepted-only' uses only accepted (and hand-written) ones.`,
		Example: `  ragtune eval review list testsets/generated.jsonl --status proposed
  ragtune eval review show testsets/generated.jsonl gen-3
  ragtune eval review accept testsets/generated.jsonl gen-1 gen-2 gen-4
  ragtune eval review reject testsets/generated.jsonl gen-3 --note "ambiguous"
  ragtune eval review edit testsets/generated.jsonl gen-5 --question "How long are signing keys kept?" --answer "ninety days"`,
	})
	cmd.AddCommand(a.reviewListCommand(), a.reviewShowCommand(),
		a.reviewDecideCommand("accept", evaluate.ReviewAccepted), a.reviewDecideCommand("reject", evaluate.ReviewRejected),
		a.reviewDecideCommand("reset", evaluate.ReviewProposed), a.reviewEditCommand())
	return cmd
}

func (a *app) reviewListCommand() *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use:   "list FILE",
		Short: "List a test set's items with their review state",
		Args:  exactArgs(1, "one QA file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if status != "all" && !evaluate.ValidReviewStatus(status) {
				return usagef("--status is proposed, accepted, rejected or all (got %q)", status)
			}
			items, err := evaluate.LoadQA(args[0])
			if err != nil {
				return err
			}
			var shown []evaluate.QAItem
			for _, it := range items {
				if status == "all" || it.ReviewStatus() == status {
					shown = append(shown, it)
				}
			}
			sum := testset.Summarize(items)
			if a.jsonOut {
				return a.printJSON(map[string]any{"file": args[0], "summary": sum, "items": shown})
			}
			for _, it := range shown {
				ans := strings.Join(it.Answers, " | ")
				if !it.ShouldAnswer() {
					ans = "(unanswerable)"
				}
				fmt.Fprintf(a.stdout, "%-10s %-9s %-15s %s\n%37s-> %s\n", it.ID, it.ReviewStatus(), it.Kind, it.Question, "", ans)
			}
			fmt.Fprintf(a.stdout, "%d items: %s\n", sum.Items, counts(sum.ByStatus))
			return nil
		},
	}
	cmd.Flags().StringVar(&status, "status", "all", "proposed | accepted | rejected | all")
	return cmd
}

func (a *app) reviewShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE ID",
		Short: "Show an item beside the passage it was written from (read from the store)",
		Args:  exactArgs(2, "a QA file and an item id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			items, err := evaluate.LoadQA(args[0])
			if err != nil {
				return err
			}
			it, ok := findItem(items, args[1])
			if !ok {
				return usagef("%s has no item %q (ragtune eval review list %s)", args[0], args[1], args[0])
			}
			passages := a.passagesOf(cmd, it)
			if a.jsonOut {
				return a.printJSON(map[string]any{"item": it, "passages": passages})
			}
			fmt.Fprintf(a.stdout, "%s (%s, %s)\nquestion: %s\n", it.ID, it.ReviewStatus(), it.Kind, it.Question)
			if it.ShouldAnswer() {
				fmt.Fprintf(a.stdout, "answers:  %s\n", strings.Join(it.Answers, " | "))
			} else {
				fmt.Fprintln(a.stdout, "answers:  none (the corpus should not answer it)")
			}
			if pv := it.Provenance; pv != nil {
				fmt.Fprintf(a.stdout, "source:   %s (%s, %s)\n", pv.Doc, pv.Generator, pv.Method)
				if pv.Verified != "" {
					fmt.Fprintf(a.stdout, "verified: %s\n", pv.Verified)
				}
			}
			for _, ps := range passages {
				fmt.Fprintf(a.stdout, "\n--- %s lines %d-%d ---\n%s\n", ps.Doc, ps.LineStart, ps.LineEnd, marked(ps, it.Provenance.Quote))
			}
			return nil
		},
	}
}

// passagesOf reads the item's source passages from the project's store;
// a missing store or chunk is reported in the passage, not as a failure.
func (a *app) passagesOf(cmd *cobra.Command, it evaluate.QAItem) []testset.SourcePassage {
	cfg, err := a.config()
	var p *project.Project
	if err == nil {
		p, err = project.Open(cmd.Context(), cfg, a.env())
	}
	if err != nil {
		out := []testset.SourcePassage{}
		if pv := it.Provenance; pv != nil {
			for _, id := range pv.ChunkIDs {
				out = append(out, testset.SourcePassage{Doc: pv.Doc, ChunkID: id, Error: "no store to read the passage from: " + err.Error()})
			}
		}
		return out
	}
	defer p.Close()
	return testset.NewSources(p).Of(cmd.Context(), it)
}

// marked is the passage's text with the item's quote »marked«, or why
// it could not be read.
func marked(ps testset.SourcePassage, quote string) string {
	if ps.Error != "" {
		return "(" + ps.Error + ")\nquote: " + quote
	}
	ranges := slices.Clone(ps.Quote) // in the quote's line order
	slices.SortFunc(ranges, func(a, b testset.Range) int { return a.Start - b.Start })
	var b strings.Builder
	last := 0
	for _, r := range ranges {
		if r.Start < last {
			continue
		}
		b.WriteString(ps.Text[last:r.Start] + "»" + ps.Text[r.Start:r.End] + "«")
		last = r.End
	}
	return b.String() + ps.Text[last:]
}

func findItem(items []evaluate.QAItem, id string) (evaluate.QAItem, bool) {
	for _, it := range items {
		if it.ID == id {
			return it, true
		}
	}
	return evaluate.QAItem{}, false
}

func (a *app) reviewDecideCommand(verb, status string) *cobra.Command {
	var note string
	var all bool
	short := map[string]string{"accept": "Accept items as they are", "reject": "Reject items (eval run skips them)",
		"reset": "Put items back to proposed"}[verb]
	cmd := &cobra.Command{
		Use:   verb + " FILE [ID...]",
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || (len(args) < 2 && !all) {
				return usagef("%s takes a QA file and item ids (or --all-proposed)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := args[1:]
			if all {
				items, err := evaluate.LoadQA(args[0])
				if err != nil {
					return err
				}
				for _, it := range items {
					if it.ReviewStatus() == evaluate.ReviewProposed {
						ids = append(ids, it.ID)
					}
				}
			}
			return a.applyDecisions(args[0], ids, testset.Decision{Status: status, Note: note})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why (kept with the decision)")
	if status != evaluate.ReviewProposed {
		cmd.Flags().BoolVar(&all, "all-proposed", false, "every item still proposed")
	}
	return cmd
}

func (a *app) reviewEditCommand() *cobra.Command {
	var d testset.Decision
	cmd := &cobra.Command{
		Use:   "edit FILE ID",
		Short: "Change an item's question or answers (and accept it)",
		Args:  exactArgs(2, "a QA file and an item id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d.Question == "" && d.Answers == nil {
				return usagef("give --question and/or --answer")
			}
			d.Status = evaluate.ReviewAccepted
			return a.applyDecisions(args[0], args[1:], d)
		},
	}
	cmd.Flags().StringVar(&d.Question, "question", "", "the new question")
	cmd.Flags().StringArrayVar(&d.Answers, "answer", nil, "a gold answer (repeat for several); replaces the answers")
	cmd.Flags().StringVar(&d.Note, "note", "", "why (kept with the decision)")
	return cmd
}

func (a *app) applyDecisions(path string, ids []string, d testset.Decision) error {
	var r testset.Reviewer
	d.By, d.At = reviewer(a.getenv), time.Now()
	ds := make([]testset.Decision, len(ids))
	for i, id := range ids {
		ds[i] = d
		ds[i].ID = id
	}
	done, err := r.ApplyAll(path, ds) // all or nothing
	switch {
	case errors.Is(err, testset.ErrNoItem):
		return usagef("%v; nothing was changed (ragtune eval review list %s)", err, path)
	case errors.Is(err, testset.ErrBadDecision):
		return usageError{err}
	case err != nil:
		return err
	}
	if a.jsonOut {
		return a.printJSON(map[string]any{"file": path, "items": done})
	}
	for _, it := range done {
		fmt.Fprintf(a.stdout, "%s %s\n", it.ID, it.ReviewStatus())
	}
	return nil
}

// reviewer names who decided: $RAGTUNE_REVIEWER, else $USER.
func reviewer(getenv func(string) string) string {
	if r := getenv("RAGTUNE_REVIEWER"); r != "" {
		return r
	}
	return getenv("USER")
}
