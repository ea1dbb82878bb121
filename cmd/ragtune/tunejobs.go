package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/finetune"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/store"
)

// provider reaches the fine-tuning API at [generate.openai] base_url.
func (a *app) provider(cfg config.Config) (*finetune.Provider, error) {
	return finetune.NewProvider(cfg.Generate.OpenAI.BaseURL, cfg.Generate.OpenAI.APIKeyEnv, a.getenv)
}

// jobAction opens the store and the provider, runs fn, then saves and
// prints the job fn returns.
func (a *app) jobAction(cmd *cobra.Command, fn func(p *finetune.Provider) (finetune.Job, error)) error {
	cfg, proj, err := a.configAndProject(cmd)
	if err != nil {
		return err
	}
	defer proj.Close()
	st := proj.Store()
	p, err := a.provider(cfg)
	if err != nil {
		return usageError{err}
	}
	j, err := fn(p)
	if err != nil {
		return err
	}
	if err := st.SaveJob(cmd.Context(), j.ID, j.CreatedAt, j); err != nil {
		return err
	}
	return a.printJob(j)
}

// jobCommands adds start, status, events, cancel and list to tune.
func (a *app) jobCommands(tune *cobra.Command) {
	var validation, model, suffix string
	var seed int64
	var so finetune.StartOptions
	start := &cobra.Command{
		Use:   "start TRAIN.jsonl",
		Short: "Upload training data and start a fine-tuning job at the provider",
		Long: `start uploads the file (and --validation) with purpose fine-tune to the
OpenAI-compatible API at [generate.openai] base_url, creates the job, and
keeps it in the store so 'tune status' works after a restart. Run 'tune
prepare' first: it validates the data and estimates the cost.`,
		Example: "  ragtune tune start finetune/train.jsonl --validation finetune/validation.jsonl --model gpt-4o-mini-2024-07-18 --suffix support",
		Args:    exactArgs(1, "one training file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := finetune.MethodOf(args[0], so.Method)
			if err != nil {
				return usageError{fmt.Errorf("%w (ragtune tune prepare checks and fixes a training file)", err)}
			}
			o := so
			o.Model, o.TrainPath, o.ValidationPath, o.Suffix, o.Seed, o.Method = model, args[0], validation, suffix, seed, m
			return a.jobAction(cmd, func(p *finetune.Provider) (finetune.Job, error) {
				return p.Start(cmd.Context(), o)
			})
		},
	}
	start.Flags().StringVar(&so.Method, "method", "", "supervised or dpo (default: what the file holds)")
	start.Flags().Int64Var(&so.Epochs, "epochs", 0, "training epochs (default: the provider's choice)")
	start.Flags().Int64Var(&so.BatchSize, "batch-size", 0, "examples per batch (default: the provider's choice)")
	start.Flags().Float64Var(&so.LRMultiplier, "lr-multiplier", 0, "learning-rate multiplier (default: the provider's choice)")
	start.Flags().Float64Var(&so.Beta, "beta", 0, "DPO: penalty weight against drifting from the base model (default: the provider's choice)")
	start.Flags().StringVar(&validation, "validation", "", "validation file")
	start.Flags().StringVar(&model, "model", "gpt-4o-mini-2024-07-18", "base model")
	start.Flags().StringVar(&suffix, "suffix", "", "suffix in the fine-tuned model's name")
	start.Flags().Int64Var(&seed, "seed", 0, "training seed (0: the provider's)")

	var follow bool
	var every time.Duration
	status := &cobra.Command{
		Use:   "status JOB",
		Short: "Refresh a job from the provider (--follow waits until it finishes)",
		Args:  exactArgs(1, "a job ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, proj, err := a.configAndProject(cmd)
			if err != nil {
				return err
			}
			defer proj.Close()
			st := proj.Store()
			var known finetune.Job
			if err := st.Job(cmd.Context(), args[0], &known); err != nil {
				if errors.Is(err, store.ErrNoJob) {
					return usageError{err}
				}
				return err
			}
			p, err := a.provider(cfg)
			if err != nil {
				return usageError{err}
			}
			o := finetune.FollowOptions{Save: func(j finetune.Job) error { return st.SaveJob(cmd.Context(), j.ID, j.CreatedAt, j) }}
			if follow {
				o.Every = every
			}
			if follow && !a.jsonOut {
				o.Tick = func(j finetune.Job) { fmt.Fprintf(a.stderr, "%s %s…\n", time.Now().Format("15:04:05"), j.Status) }
			}
			j, err := p.Follow(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if err := a.printJob(j); err != nil {
				return err
			}
			if j.Status == "failed" {
				return exitError{exitFailure, fmt.Errorf("job %s failed: %s", j.ID, j.Error)}
			}
			return nil
		},
	}
	status.Flags().BoolVar(&follow, "follow", false, "poll until the job finishes")
	status.Flags().DurationVar(&every, "every", 15*time.Second, "poll interval with --follow")

	events := &cobra.Command{
		Use:   "events JOB",
		Short: "List a job's events (every page), oldest first",
		Args:  exactArgs(1, "a job ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			p, err := a.provider(cfg)
			if err != nil {
				return usageError{err}
			}
			evs, err := p.Events(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.jsonOut {
				if evs == nil {
					evs = []finetune.JobEvent{}
				}
				return a.printJSON(map[string]any{"events": evs})
			}
			for _, e := range evs {
				fmt.Fprintf(a.stdout, "%s  %-5s %s\n", time.Unix(e.CreatedAt, 0).UTC().Format(time.RFC3339), e.Level, e.Message)
			}
			return nil
		},
	}
	cancel := &cobra.Command{
		Use:   "cancel JOB",
		Short: "Cancel a job",
		Args:  exactArgs(1, "a job ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.jobAction(cmd, func(p *finetune.Provider) (finetune.Job, error) {
				return p.Cancel(cmd.Context(), args[0])
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the jobs this store knows and the fine-tuned models they registered",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProject(cmd, func(proj *project.Project) error {
				st := proj.Store()
				recs, err := st.Jobs(cmd.Context())
				if err != nil {
					return err
				}
				jobs, err := finetune.DecodeJobs(recs)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"jobs": jobs})
				}
				for _, j := range jobs {
					a.printJob(j)
				}
				return nil
			})
		},
	}
	tune.AddCommand(start, status, events, cancel, list)
}

func (a *app) printJob(j finetune.Job) error {
	if a.jsonOut {
		return a.printJSON(j)
	}
	j.WriteText(a.stdout)
	return nil
}
