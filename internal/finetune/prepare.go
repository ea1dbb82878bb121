package finetune

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
)

// Counter counts tokens with a model's encoding.
type Counter interface{ Count(string) int }

// EncodingFor names the tokenizer of a model family.
func EncodingFor(model string) string {
	m := strings.ToLower(model)
	for _, p := range []string{"gpt-4o", "gpt-4.1", "o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(m, p) {
			return "o200k_base"
		}
	}
	return "cl100k_base"
}

// TrainingPrice is per million trained tokens, US dollars.
type TrainingPrice struct {
	PerMTok      float64
	ExampleLimit int // tokens per example the provider accepts
}

// TrainingPricesAsOf dates TrainingPrices; pass --price to override.
const TrainingPricesAsOf = "2025-06, OpenAI supervised fine-tuning list prices"

// TrainingPrices per base model.
var TrainingPrices = map[string]TrainingPrice{
	"gpt-4o-mini":   {3.00, 65536},
	"gpt-4o":        {25.00, 65536},
	"gpt-4.1":       {25.00, 65536},
	"gpt-4.1-mini":  {5.00, 65536},
	"gpt-4.1-nano":  {1.50, 65536},
	"gpt-3.5-turbo": {8.00, 16385},
}

// Options shape a preparation.
type Options struct {
	Model           string
	Epochs          int     // 0: the default-epochs rule
	ValidationSplit float64 // share held out for validation
	Seed            uint64
	MaxTokens       int     // per example; 0: the model's limit
	PricePerMTok    float64 // 0: the price table
	MinExamples     int     // below this is an error (10)
}

// Dist summarises a token count distribution.
type Dist struct {
	Total int `json:"total"`
	Min   int `json:"min"`
	P50   int `json:"p50"`
	P95   int `json:"p95"`
	Max   int `json:"max"`
}

// Report is the outcome; its JSON is the `tune prepare --json` contract.
type Report struct {
	Examples         int               `json:"examples"`
	Valid            int               `json:"valid"`
	Errors           []Problem         `json:"errors"`
	Warnings         []string          `json:"warnings"`
	Tokens           Dist              `json:"tokens"`
	AssistantTokens  Dist              `json:"assistant_tokens"`
	Method           string            `json:"method"` // supervised or dpo, from the examples
	Encoding         string            `json:"encoding"`
	Epochs           int               `json:"epochs"`
	BilledTokens     int               `json:"billed_tokens"`
	PricePerMTok     float64           `json:"price_per_mtok"`
	PricesAsOf       string            `json:"prices_as_of"`
	EstimatedCostUSD float64           `json:"estimated_cost_usd"`
	Train            int               `json:"train"`
	Validation       int               `json:"validation"`
	Files            map[string]string `json:"files"`
}

// CountTokens counts an example as OpenAI's reference does: 3 tokens per
// message, the encoded role, content and name (plus 1 for a name), and 3
// to prime the reply. It also returns the assistant tokens.
func CountTokens(ex Example, tok Counter) (int, int) {
	n, assistant := 3, 0
	for _, m := range ex.Messages {
		n += 3 + tok.Count(m.Role) + tok.Count(m.Content)
		if m.Name != "" {
			n += tok.Count(m.Name) + 1
		}
		if m.Role == "assistant" {
			assistant += tok.Count(m.Content)
		}
	}
	// A preference example is trained on both answers to its prompt.
	for _, m := range append(append([]Message{}, ex.Preferred...), ex.NonPreferred...) {
		out := 3 + tok.Count(m.Role) + tok.Count(m.Content)
		n += out
		assistant += out - 3 - tok.Count(m.Role)
	}
	return n, assistant
}

// DefaultEpochs is OpenAI's rule: aim for 3, keeping examples × epochs
// within 100–25,000 and epochs within 1–25.
func DefaultEpochs(n int) int {
	const target, minEx, maxEx = 3, 100, 25000
	switch {
	case n == 0:
		return target
	case n*target < minEx:
		return min(25, minEx/n)
	case n*target > maxEx:
		return max(1, maxEx/n)
	}
	return target
}

func fingerprint(ex Example) [32]byte {
	b, _ := json.Marshal(ex)
	return sha256.Sum256(b)
}

// Prepare checks the examples (after the parse problems already found),
// counts tokens, estimates the cost and splits train from validation.
func Prepare(examples []Example, parsed []Problem, tok Counter, opts Options) (*Report, []Example, []Example) {
	price, known := TrainingPrices[opts.Model]
	limit := opts.MaxTokens
	if limit <= 0 {
		limit = price.ExampleLimit
		if limit == 0 {
			limit = 65536
		}
	}
	if opts.PricePerMTok > 0 {
		price.PerMTok = opts.PricePerMTok
	}
	rep := &Report{Errors: append([]Problem{}, parsed...), Warnings: []string{}, Encoding: EncodingFor(opts.Model),
		PricePerMTok: price.PerMTok, PricesAsOf: TrainingPricesAsOf, Files: map[string]string{}}
	if !known && opts.PricePerMTok == 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("no training price known for %q; pass --price to estimate the cost", opts.Model))
	}
	lines := map[int]bool{}
	for _, p := range parsed {
		lines[p.Line] = true
	}
	rep.Examples = len(examples) + len(lines)
	rep.Method, examples = method(examples, rep)
	seen := map[[32]byte]int{}
	var valid []Example
	var lengths, assistantLens []int
	for _, ex := range examples {
		n, a := CountTokens(ex, tok)
		fp := fingerprint(ex)
		switch first, dup := seen[fp]; {
		case dup:
			rep.Errors = append(rep.Errors, Problem{ex.Line, "duplicate", fmt.Sprintf("same conversation as line %d", first)})
		case n > limit:
			rep.Errors = append(rep.Errors, Problem{ex.Line, "too_long", fmt.Sprintf("%d tokens, over the %d-token limit for %s", n, limit, opts.Model)})
		default:
			seen[fp] = ex.Line
			valid = append(valid, ex)
			lengths, assistantLens = append(lengths, n), append(assistantLens, a)
		}
	}
	rep.Valid = len(valid)
	minEx := opts.MinExamples
	if minEx <= 0 {
		minEx = 10
	}
	switch {
	case rep.Valid < minEx:
		rep.Errors = append(rep.Errors, Problem{0, "too_few", fmt.Sprintf("%d valid examples; fine-tuning needs at least %d", rep.Valid, minEx)})
	case rep.Valid < 50:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("only %d examples: 50 to 100 well-chosen ones usually give clearly better results", rep.Valid))
	}
	sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].Line < rep.Errors[j].Line })
	train, val := split(valid, opts.ValidationSplit, opts.Seed)
	if overlap(train, val) {
		rep.Errors = append(rep.Errors, Problem{0, "overlap", "a conversation is in both the training and the validation split"})
	}
	rep.Train, rep.Validation = len(train), len(val)
	rep.Tokens, rep.AssistantTokens = dist(lengths), dist(assistantLens)
	rep.Epochs = opts.Epochs
	if rep.Epochs <= 0 {
		rep.Epochs = DefaultEpochs(len(train))
	}
	for _, ex := range train {
		n, _ := CountTokens(ex, tok)
		rep.BilledTokens += min(n, limit)
	}
	rep.BilledTokens *= rep.Epochs
	rep.EstimatedCostUSD = float64(rep.BilledTokens) * price.PerMTok / 1e6
	return rep, train, val
}

// split shuffles with a fixed seed and holds out a share for validation.
func split(exs []Example, share float64, seed uint64) ([]Example, []Example) {
	if share <= 0 || len(exs) < 2 {
		return exs, nil
	}
	idx := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(len(exs))
	nVal := max(1, int(share*float64(len(exs))))
	var train, val []Example
	for i, k := range idx {
		if i < nVal {
			val = append(val, exs[k])
		} else {
			train = append(train, exs[k])
		}
	}
	sort.SliceStable(train, func(i, j int) bool { return train[i].Line < train[j].Line })
	sort.SliceStable(val, func(i, j int) bool { return val[i].Line < val[j].Line })
	return train, val
}

func overlap(a, b []Example) bool {
	seen := map[[32]byte]bool{}
	for _, ex := range a {
		seen[fingerprint(ex)] = true
	}
	for _, ex := range b {
		if seen[fingerprint(ex)] {
			return true
		}
	}
	return false
}

func dist(v []int) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	total := 0
	for _, x := range s {
		total += x
	}
	return Dist{Total: total, Min: s[0], P50: s[len(s)/2], P95: s[min(len(s)-1, len(s)*95/100)], Max: s[len(s)-1]}
}

// method names the training method the examples are for and drops (as
// errors) the examples of the other kind: a job trains one way.
func method(exs []Example, rep *Report) (string, []Example) {
	prefs := 0
	for _, ex := range exs {
		if ex.IsPreference() {
			prefs++
		}
	}
	want := prefs*2 > len(exs)
	name := "supervised"
	if want {
		name = "dpo"
	}
	if prefs == 0 || prefs == len(exs) {
		return name, exs
	}
	kind := func(pref bool) string {
		if pref {
			return "preference (DPO)"
		}
		return "chat"
	}
	var keep []Example
	for _, ex := range exs {
		if ex.IsPreference() == want {
			keep = append(keep, ex)
			continue
		}
		rep.Errors = append(rep.Errors, Problem{ex.Line, "mixed_formats",
			fmt.Sprintf("a %s example in a file of %s examples; one job trains one way", kind(ex.IsPreference()), kind(want))})
	}
	return name, keep
}

// WriteText writes the preparation report for a person: counts,
// problems by line, warnings, tokens, epochs, cost and the files written.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d examples, %d valid (%d train, %d validation)\n", r.Examples, r.Valid, r.Train, r.Validation)
	for _, p := range r.Errors {
		fmt.Fprintf(w, "  line %d: %s: %s\n", p.Line, p.Code, p.Message)
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
	fmt.Fprintf(w, "tokens per example (%s): min %d, median %d, p95 %d, max %d; assistant median %d\n", r.Encoding,
		r.Tokens.Min, r.Tokens.P50, r.Tokens.P95, r.Tokens.Max, r.AssistantTokens.P50)
	fmt.Fprintf(w, "%d epochs, %d billed tokens, estimated cost $%.2f at $%.2f per million (%s)\n", r.Epochs,
		r.BilledTokens, r.EstimatedCostUSD, r.PricePerMTok, r.PricesAsOf)
	for kind, p := range r.Files {
		fmt.Fprintf(w, "  %-10s %s\n", kind, p)
	}
}
