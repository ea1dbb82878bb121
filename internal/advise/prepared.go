package advise

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragtune/ragtune/internal/finetune"
)

// PreparedFile is where advise looks for the report of `ragtune tune
// prepare … --json` in a project directory, when not told.
const PreparedFile = "finetune/prepare.json"

// Prepared is the training data `ragtune tune prepare` made: its size
// and the cost of one training run.
type Prepared struct {
	Path             string  `json:"path"`
	Examples         int     `json:"examples"`
	Train            int     `json:"train"`
	Validation       int     `json:"validation"`
	Method           string  `json:"method"`
	TokensPerEpoch   int     `json:"tokens_per_epoch"` // billed: training split, capped per example
	Epochs           int     `json:"epochs"`
	BilledTokens     int     `json:"billed_tokens"`
	EstimatedCostUSD float64 `json:"estimated_cost_usd"`
	PricesAsOf       string  `json:"prices_as_of"`
}

// ReadPrepared reads a report of `ragtune tune prepare --json` (path is
// the file, or a directory holding prepare.json).
func ReadPrepared(path string) (*Prepared, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "prepare.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the prepared-data report: %w", err)
	}
	var rep finetune.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%s is not a report of tune prepare --json: %w", path, err)
	}
	if rep.Valid == 0 || rep.BilledTokens == 0 || rep.Epochs <= 0 {
		return nil, fmt.Errorf("%s holds no valid prepared examples (valid %d, billed tokens %d)", path, rep.Valid, rep.BilledTokens)
	}
	return &Prepared{Path: path, Examples: rep.Valid, Train: rep.Train, Validation: rep.Validation, Method: rep.Method,
		TokensPerEpoch: rep.BilledTokens / rep.Epochs, Epochs: rep.Epochs, BilledTokens: rep.BilledTokens,
		EstimatedCostUSD: rep.EstimatedCostUSD, PricesAsOf: rep.PricesAsOf}, nil
}

// apply puts the prepared data's size into the cost model's training run.
func (p *Prepared) apply(w *Workload) {
	if p == nil {
		return
	}
	w.TrainingTokens, w.Epochs = float64(p.TokensPerEpoch), float64(p.Epochs)
}
