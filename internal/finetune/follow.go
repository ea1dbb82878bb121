package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// FollowOptions say how to follow a job.
type FollowOptions struct {
	Every time.Duration // poll interval; one look when zero
	// Save keeps each state seen (the project's job records); nil keeps none.
	Save func(Job) error
	// Tick is told of each unfinished state between polls; nil is silent.
	Tick func(Job)
}

// Follow refreshes the job from the provider, and with an interval polls
// until it finishes or ctx ends; it returns the last state seen.
func (p *Provider) Follow(ctx context.Context, id string, o FollowOptions) (Job, error) {
	for {
		j, err := p.Get(ctx, id)
		if err != nil {
			return j, err
		}
		if o.Save != nil {
			if err := o.Save(j); err != nil {
				return j, err
			}
		}
		if o.Every <= 0 || j.Finished() {
			return j, nil
		}
		if o.Tick != nil {
			o.Tick(j)
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(o.Every):
		}
	}
}

// DecodeJobs reads stored job records, newest first as stored.
func DecodeJobs(raws []json.RawMessage) ([]Job, error) {
	jobs := make([]Job, 0, len(raws))
	for _, r := range raws {
		var j Job
		if err := json.Unmarshal(r, &j); err != nil {
			return nil, fmt.Errorf("reading a stored fine-tuning job: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// MethodOf checks a training file and names its method: "dpo" when its
// examples are preference pairs, "supervised" otherwise. An asked method
// that contradicts the file is an error, before anything is uploaded.
func MethodOf(path, asked string) (string, error) {
	exs, problems, err := Read(path, "")
	if err != nil {
		return "", err
	}
	if len(problems) > 0 {
		p := problems[0]
		return "", fmt.Errorf("%s line %d: %s (%d problem(s); prepare the file first)", path, p.Line, p.Message, len(problems))
	}
	found := "supervised"
	if len(exs) > 0 && exs[0].IsPreference() {
		found = "dpo"
	}
	if asked != "" && asked != found {
		return "", fmt.Errorf("--method %s, but %s holds %s examples", asked, path, found)
	}
	return found, nil
}
