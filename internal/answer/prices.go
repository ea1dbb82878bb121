package answer

// Price is what a model costs per million tokens, in US dollars.
type Price struct {
	Input  float64 `toml:"input_per_mtok" json:"input_per_mtok"`
	Output float64 `toml:"output_per_mtok" json:"output_per_mtok"`
}

// PricesAsOf dates the built-in table. Prices change: override them in
// ragtune.toml ([prices."model-name"]) rather than trusting this list.
const PricesAsOf = "2025-06 (OpenAI list prices, standard tier)"

// DefaultPrices covers common OpenAI models; local models cost nothing
// here unless configured.
func DefaultPrices() map[string]Price {
	return map[string]Price{
		"gpt-4o":       {2.50, 10.00},
		"gpt-4o-mini":  {0.15, 0.60},
		"gpt-4.1":      {2.00, 8.00},
		"gpt-4.1-mini": {0.40, 1.60},
		"gpt-4.1-nano": {0.10, 0.40},
		"o4-mini":      {1.10, 4.40},
	}
}

// Cost prices a request.
func (p Price) Cost(promptTokens, completionTokens int) float64 {
	return (float64(promptTokens)*p.Input + float64(completionTokens)*p.Output) / 1e6
}
