package answerability

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

// Models are the fitted span and sentence models with the decision
// threshold, as cmd/fit-answerability writes them.
type Models struct {
	Span *Logistic `json:"span"`
	// SpanWords corrects the span model with word features.
	SpanWords Lexical   `json:"span_words"`
	Sentence  *Logistic `json:"sentence"`
	// Threshold on the question's answerability (its best sentence's
	// probability): below it the answerer declines.
	Threshold float64 `json:"threshold"`
	// Objective says how Threshold was chosen; Data what the models were
	// fitted on.
	Objective string `json:"objective"`
	Data      string `json:"data"`
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

// FittedThreshold is the shipped decision threshold. It reads only that
// number, so that a refit can start while the shipped weights are stale.
func FittedThreshold() float64 {
	var m struct {
		Threshold float64 `json:"threshold"`
	}
	if err := json.Unmarshal(fitted, &m); err != nil {
		panic(fmt.Sprintf("reading the embedded answerability threshold: %v", err))
	}
	return m.Threshold
}
