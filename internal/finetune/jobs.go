package finetune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
)

// Job is a fine-tuning job as ragtune tracks it.
type Job struct {
	ID             string `json:"id"`
	Model          string `json:"model"`
	Status         string `json:"status"` // validating_files, queued, running, succeeded, failed, cancelled, or a new one
	Method         string `json:"method,omitempty"`
	FineTunedModel string `json:"fine_tuned_model,omitempty"`
	Error          string `json:"error,omitempty"`
	TrainedTokens  int64  `json:"trained_tokens"`
	TrainingFile   string `json:"training_file"`
	BaseURL        string `json:"base_url"`
	CreatedAt      int64  `json:"created_at"`
	UpdatedAt      int64  `json:"updated_at"`
}

// Finished reports whether the job has stopped; statuses ragtune does
// not know are treated as still running.
func (j Job) Finished() bool {
	return j.Status == "succeeded" || j.Status == "failed" || j.Status == "cancelled"
}

// JobEvent is one line of a job's log.
type JobEvent struct {
	ID        string `json:"id"`
	CreatedAt int64  `json:"created_at"`
	Level     string `json:"level"`
	Message   string `json:"message"`
}

// Provider runs jobs at an OpenAI-compatible fine-tuning API.
type Provider struct {
	client  openai.Client
	baseURL string
}

// NewProvider connects to baseURL with the key from the environment
// variable keyEnv.
func NewProvider(baseURL, keyEnv string, getenv func(string) string) (*Provider, error) {
	if baseURL == "" {
		return nil, errors.New("no fine-tuning endpoint: set [generate.openai] base_url (e.g. https://api.openai.com/v1)")
	}
	key := getenv(keyEnv)
	if key == "" {
		return nil, fmt.Errorf("no API key in $%s", keyEnv)
	}
	return &Provider{client: openai.NewClient(option.WithBaseURL(baseURL), option.WithAPIKey(key), option.WithMaxRetries(3)), baseURL: baseURL}, nil
}

// StartOptions describe a job.
type StartOptions struct {
	Model, TrainPath, ValidationPath, Suffix string
	Seed                                     int64
	// Method is "supervised" (the default) or "dpo"; the hyperparameters
	// left at zero are chosen by the provider ("auto").
	Method       string
	Epochs       int64
	BatchSize    int64
	LRMultiplier float64
	Beta         float64 // DPO only: weight of the penalty against drifting from the base model
}

// method builds the job's training method with the hyperparameters set.
func (o StartOptions) method() (openai.FineTuningJobNewParamsMethod, error) {
	switch o.Method {
	case "", "supervised":
		if o.Beta != 0 {
			return openai.FineTuningJobNewParamsMethod{}, errors.New("--beta applies to DPO only (--method dpo)")
		}
		var h openai.SupervisedHyperparameters
		h.NEpochs.OfInt, h.BatchSize.OfInt, h.LearningRateMultiplier.OfFloat = optInt(o.Epochs), optInt(o.BatchSize), optFloat(o.LRMultiplier)
		return openai.FineTuningJobNewParamsMethod{Type: "supervised", Supervised: openai.SupervisedMethodParam{Hyperparameters: h}}, nil
	case "dpo":
		var h openai.DpoHyperparameters
		h.NEpochs.OfInt, h.BatchSize.OfInt, h.LearningRateMultiplier.OfFloat = optInt(o.Epochs), optInt(o.BatchSize), optFloat(o.LRMultiplier)
		h.Beta.OfFloat = optFloat(o.Beta)
		return openai.FineTuningJobNewParamsMethod{Type: "dpo", Dpo: openai.DpoMethodParam{Hyperparameters: h}}, nil
	}
	return openai.FineTuningJobNewParamsMethod{}, fmt.Errorf("unknown method %q (want supervised or dpo)", o.Method)
}

// optInt and optFloat leave a hyperparameter unset (the provider's
// "auto") when it is zero.
func optInt(v int64) param.Opt[int64] {
	if v <= 0 {
		return param.Opt[int64]{}
	}
	return openai.Int(v)
}

func optFloat(v float64) param.Opt[float64] {
	if v <= 0 {
		return param.Opt[float64]{}
	}
	return openai.Float(v)
}

// Start uploads the files (purpose fine-tune) and creates the job.
func (p *Provider) Start(ctx context.Context, o StartOptions) (Job, error) {
	method, err := o.method()
	if err != nil {
		return Job{}, err
	}
	train, err := p.upload(ctx, o.TrainPath)
	if err != nil {
		return Job{}, err
	}
	params := openai.FineTuningJobNewParams{Model: openai.FineTuningJobNewParamsModel(o.Model), TrainingFile: train, Method: method}
	if o.ValidationPath != "" {
		val, err := p.upload(ctx, o.ValidationPath)
		if err != nil {
			return Job{}, err
		}
		params.ValidationFile = openai.String(val)
	}
	if o.Suffix != "" {
		params.Suffix = openai.String(o.Suffix)
	}
	if o.Seed != 0 {
		params.Seed = openai.Int(o.Seed)
	}
	j, err := p.client.FineTuning.Jobs.New(ctx, params)
	if err != nil {
		return Job{}, fmt.Errorf("creating the fine-tuning job: %w", err)
	}
	return p.job(j), nil
}

func (p *Provider) upload(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", path, err)
	}
	defer f.Close()
	obj, err := p.client.Files.New(ctx, openai.FileNewParams{File: f, Purpose: openai.FilePurposeFineTune})
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", path, err)
	}
	return obj.ID, nil
}

func (p *Provider) job(j *openai.FineTuningJob) Job {
	return Job{ID: j.ID, Model: j.Model, Status: string(j.Status), Method: string(j.Method.Type), FineTunedModel: j.FineTunedModel, Error: j.Error.Message,
		TrainedTokens: j.TrainedTokens, TrainingFile: j.TrainingFile, BaseURL: p.baseURL, CreatedAt: j.CreatedAt, UpdatedAt: time.Now().Unix()}
}

// Get refreshes a job.
func (p *Provider) Get(ctx context.Context, id string) (Job, error) {
	j, err := p.client.FineTuning.Jobs.Get(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("reading job %s: %w", id, err)
	}
	return p.job(j), nil
}

// Cancel stops a job.
func (p *Provider) Cancel(ctx context.Context, id string) (Job, error) {
	j, err := p.client.FineTuning.Jobs.Cancel(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("cancelling job %s: %w", id, err)
	}
	return p.job(j), nil
}

// Events lists a job's events, following every page, oldest first.
func (p *Provider) Events(ctx context.Context, id string) ([]JobEvent, error) {
	it := p.client.FineTuning.Jobs.ListEventsAutoPaging(ctx, id, openai.FineTuningJobListEventsParams{Limit: openai.Int(100)})
	var out []JobEvent
	for it.Next() {
		e := it.Current()
		out = append(out, JobEvent{ID: e.ID, CreatedAt: e.CreatedAt, Level: string(e.Level), Message: e.Message})
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading events of job %s: %w", id, err)
	}
	// The API lists newest first.
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out, nil
}

// WriteText writes the job on one line: ID, status, models, error.
func (j Job) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s  %-16s base %s", j.ID, j.Status, j.Model)
	if j.FineTunedModel != "" {
		fmt.Fprintf(w, "  model %s (use: ragtune ask --model %s)", j.FineTunedModel, j.FineTunedModel)
	}
	if j.Error != "" {
		fmt.Fprintf(w, "  error: %s", j.Error)
	}
	fmt.Fprintln(w)
}
