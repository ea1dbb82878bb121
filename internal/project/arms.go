package project

import (
	"context"
	"fmt"

	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/finetune"
)

// ArmsEval compares the four arms on one QA set.
type ArmsEval struct {
	QA         QAEval // the set and where it is answered from
	BaseModel  string // "" for [generate.openai] model
	TunedModel string // "" for the newest succeeded fine-tuning job
	Against    string // the arm the others are tested against ("" for base+rag)
}

// EvalArms answers the same QA set as the base model alone, the base
// model with retrieved passages, the fine-tuned model alone and the
// fine-tuned model with passages; each arm that runs is stored as an
// eval run, and one whose model is not configured is reported skipped.
// Every arm is then tested against the reference arm per question on the
// primary QA metric.
func (p *Project) EvalArms(ctx context.Context, req ArmsEval) ([]evaluate.ArmResult, error) {
	models := evaluate.ArmModels{Endpoint: p.cfg.Generate.OpenAI.BaseURL != "", Base: req.BaseModel, Tuned: req.TunedModel}
	if models.Base == "" {
		models.Base = p.cfg.Generate.OpenAI.Model
	}
	if models.Tuned == "" {
		var err error
		if models.Tuned, err = p.NewestTunedModel(ctx); err != nil {
			return nil, err
		}
	}
	var results []evaluate.ArmResult
	for _, arm := range evaluate.Arms {
		plan := evaluate.PlanArm(arm, models)
		if plan.Skipped != "" {
			results = append(results, evaluate.ArmOutcome(plan, nil, "", ""))
			continue
		}
		cfg := p.cfg
		if plan.Model == "" {
			cfg.Generate.Provider = "builtin" // offline: RAG with the extractive answerer
		}
		v := p.with(cfg)
		qa := req.QA
		qa.Arm, qa.Model = arm, plan.Model
		run, err := v.EvalQA(ctx, qa)
		v.Close()
		if err != nil {
			return nil, fmt.Errorf("arm %s: %w", arm, err)
		}
		results = append(results, evaluate.ArmOutcome(plan, run.Result, run.Generator, run.RunID))
	}
	against := req.Against
	if against == "" {
		against = evaluate.ArmBaseRAG
	}
	evaluate.CompareArms(results, against, evaluate.PrimaryMetric("qa"))
	return results, nil
}

// NewestTunedModel is the model of the newest succeeded fine-tuning job
// in the store, or "" when there is none.
func (p *Project) NewestTunedModel(ctx context.Context) (string, error) {
	raws, err := p.store.Jobs(ctx)
	if err != nil {
		return "", err
	}
	jobs, err := finetune.DecodeJobs(raws)
	if err != nil {
		return "", err
	}
	for _, j := range jobs { // newest first
		if j.Status == "succeeded" && j.FineTunedModel != "" {
			return j.FineTunedModel, nil
		}
	}
	return "", nil
}
