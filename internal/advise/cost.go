package advise

import (
	"fmt"
	"math"
	"strings"
)

// Prices are per million tokens, in US dollars.
type Prices struct {
	BaseInput      float64 `toml:"base_input" json:"base_input"`
	BaseOutput     float64 `toml:"base_output" json:"base_output"`
	TunedInput     float64 `toml:"tuned_input" json:"tuned_input"`
	TunedOutput    float64 `toml:"tuned_output" json:"tuned_output"`
	Training       float64 `toml:"training" json:"training"`
	EmbeddingInput float64 `toml:"embedding_input" json:"embedding_input"`
}

// PricesAsOf dates DefaultPrices; override them with your provider's.
const PricesAsOf = "2025-06, OpenAI list prices for gpt-4o-mini (base, fine-tuned, training) and text-embedding-3-small"

// DefaultPrices are gpt-4o-mini and its fine-tuned variant.
func DefaultPrices() Prices {
	return Prices{BaseInput: 0.15, BaseOutput: 0.60, TunedInput: 0.30, TunedOutput: 1.20, Training: 3.00, EmbeddingInput: 0.02}
}

// Workload describes a month of use and what building each option costs.
type Workload struct {
	MonthlyRequests float64 `json:"monthly_requests"`
	PromptTokens    float64 `json:"prompt_tokens"`  // system prompt + question, per request
	ContextTokens   float64 `json:"context_tokens"` // retrieved passages, per RAG request
	OutputTokens    float64 `json:"output_tokens"`
	QueryTokens     float64 `json:"query_tokens"` // embedded per RAG request
	// VectorStoreMonthly is what running the index costs a month (zero
	// for ragtune's embedded store; a hosted vector database costs more).
	VectorStoreMonthly float64 `json:"vector_store_monthly_usd"`
	// The upfront costs of fine-tuning the article names.
	TrainingTokens float64 `json:"training_tokens"` // examples × tokens, one epoch
	Epochs         float64 `json:"epochs"`
	DataPrepUSD    float64 `json:"data_preparation_usd"`
	EvaluationUSD  float64 `json:"evaluation_usd"`
	AmortiseMonths float64 `json:"amortise_months"`
	// RetrainsPerYear: when knowledge lives in the weights and changes,
	// the model must be retrained (training run and evaluation again).
	RetrainsPerYear float64 `json:"retrains_per_year"`
}

// DefaultWorkload: k=4 chunks of 256 tokens plus headers, a short
// system prompt and question, and upfront costs of a small project.
func DefaultWorkload() Workload {
	return Workload{MonthlyRequests: 10000, PromptTokens: 250, ContextTokens: 1200, OutputTokens: 250, QueryTokens: 30,
		TrainingTokens: 500 * 600, Epochs: 3, DataPrepUSD: 2000, EvaluationUSD: 500, AmortiseMonths: 12, RetrainsPerYear: 0}
}

// Costs is what each option costs a month at one volume.
type Costs struct {
	RAG      float64 `json:"rag"`
	FineTune float64 `json:"fine-tune"`
	Hybrid   float64 `json:"hybrid"`
}

// perRequest and fixed split each option's monthly cost into a part per
// request and a part per month.
func perRequest(w Workload, p Prices) Costs {
	m := 1e-6
	rag := (w.PromptTokens+w.ContextTokens)*p.BaseInput*m + w.OutputTokens*p.BaseOutput*m + w.QueryTokens*p.EmbeddingInput*m
	ft := w.PromptTokens*p.TunedInput*m + w.OutputTokens*p.TunedOutput*m
	hy := (w.PromptTokens+w.ContextTokens)*p.TunedInput*m + w.OutputTokens*p.TunedOutput*m + w.QueryTokens*p.EmbeddingInput*m
	return Costs{rag, ft, hy}
}

func fixed(w Workload, p Prices) Costs {
	run := w.TrainingTokens * w.Epochs * p.Training * 1e-6
	upfront := (run + w.DataPrepUSD + w.EvaluationUSD) / math.Max(w.AmortiseMonths, 1)
	retrain := w.RetrainsPerYear * (run + w.EvaluationUSD) / 12
	return Costs{RAG: w.VectorStoreMonthly, FineTune: upfront + retrain, Hybrid: upfront + w.VectorStoreMonthly}
}

// Monthly costs each option at w's volume.
func Monthly(w Workload, p Prices) Costs {
	pr, fx := perRequest(w, p), fixed(w, p)
	n := w.MonthlyRequests
	return Costs{round2(fx.RAG + n*pr.RAG), round2(fx.FineTune + n*pr.FineTune), round2(fx.Hybrid + n*pr.Hybrid)}
}

// BreakEven is the monthly volume above which fine-tuning costs less than
// RAG, and why there is none when it never does.
func BreakEven(w Workload, p Prices) (*float64, string) {
	pr, fx := perRequest(w, p), fixed(w, p)
	saving := pr.RAG - pr.FineTune
	if saving <= 0 {
		return nil, fmt.Sprintf("a fine-tuned request costs $%.6f against $%.6f with RAG: the shorter prompt does not pay for the fine-tuned model's higher token prices, so fine-tuning never becomes cheaper at any volume", pr.FineTune, pr.RAG)
	}
	n := math.Ceil((fx.FineTune - fx.RAG) / saving)
	if n < 0 {
		n = 0
	}
	return &n, fmt.Sprintf("each fine-tuned request saves $%.6f; the fixed $%.2f a month of fine-tuning is repaid above %.0f requests a month", saving, fx.FineTune-fx.RAG, n)
}

// Chart draws monthly cost against volume in text, volumes on a log
// scale from 1k to 10M requests a month.
func Chart(w Workload, p Prices, width int) string {
	vols := []float64{1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6, 3e6, 1e7}
	var rows [][3]float64
	top := 0.0
	for _, v := range vols {
		w.MonthlyRequests = v
		c := Monthly(w, p)
		rows = append(rows, [3]float64{c.RAG, c.FineTune, c.Hybrid})
		top = math.Max(top, math.Max(c.RAG, math.Max(c.FineTune, c.Hybrid)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "monthly cost (USD) by requests per month; R = RAG, F = fine-tune, H = hybrid (log scale)\n")
	scale := func(x float64) int {
		if x <= 0 || top <= 0 {
			return 0
		}
		return int(math.Round(math.Log10(1+x) / math.Log10(1+top) * float64(width)))
	}
	for i, v := range vols {
		line := []rune(strings.Repeat(" ", width+1))
		for j, mark := range []rune{'R', 'F', 'H'} {
			pos := scale(rows[i][j])
			if line[pos] == ' ' {
				line[pos] = mark
			} else {
				line[pos] = '*' // two options cost the same here
			}
		}
		fmt.Fprintf(&b, "%9.0f |%s| R $%.0f  F $%.0f  H $%.0f\n", v, string(line), rows[i][0], rows[i][1], rows[i][2])
	}
	return b.String()
}
