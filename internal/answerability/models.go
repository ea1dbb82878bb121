package answerability

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

// Models are the fitted span and sentence models with the decision
// threshold, as cmd/fit-answerability writes them.
type Models struct {
	// Threshold on the question's answerability (its best sentence's
	// probability): below it the answerer declines. It comes first in the
	// file, so FittedThreshold reads it without reading the weights.
	Threshold float64 `json:"threshold"`
	// Objective says how Threshold was chosen; Data what the models were
	// fitted on.
	Objective string    `json:"objective"`
	Data      string    `json:"data"`
	Span      *Logistic `json:"span"`
	Sentence  *Logistic `json:"sentence"`
	// SpanWords corrects the span model with word features.
	SpanWords Lexical `json:"span_words"`
}

//go:embed weights.json
var fitted []byte

// Fitted returns the models shipped with ragtune.
func Fitted() (*Models, error) { return Parse(fitted) }

// Parse reads models from their JSON form and checks that they fit the
// features this code computes.
func Parse(raw []byte) (*Models, error) {
	var m Models
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading answerability weights: %w", err)
	}
	if m.Span == nil || m.Sentence == nil {
		return nil, fmt.Errorf("answerability weights: a model is missing")
	}
	if err := m.Span.check(len(SpanFeatures)); err != nil {
		return nil, fmt.Errorf("span model: %w", err)
	}
	if err := m.Sentence.check(len(SentenceFeatures)); err != nil {
		return nil, fmt.Errorf("sentence model: %w", err)
	}
	return &m, nil
}

// MustFitted is Fitted for package-level defaults; the embedded weights
// are checked by the package's tests, so it cannot fail in a build that
// passed them.
func MustFitted() *Models {
	m, err := fittedOnce()
	if err != nil {
		panic(err)
	}
	return m
}

var fittedOnce = sync.OnceValues(Fitted)

// FittedThreshold is the shipped decision threshold. Every configuration
// default needs it, so it reads only the file's first field instead of
// parsing the weights (25 ms); it works while the weights are stale, so
// that a refit can start.
var FittedThreshold = sync.OnceValue(func() float64 {
	dec := json.NewDecoder(bytes.NewReader(fitted))
	open, _ := dec.Token()
	key, _ := dec.Token()
	var t float64
	if err := dec.Decode(&t); open != json.Delim('{') || key != "threshold" || err != nil {
		panic(fmt.Sprintf("the embedded answerability weights do not start with the threshold (%v %v: %v)", open, key, err))
	}
	return t
})
