package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrMalformed marks a judge reply that is not a complete verdict.
var ErrMalformed = errors.New("malformed judge reply")

var grades = map[string]float64{"correct": 1, "partially_correct": 0.5, "incorrect": 0}

func (j *Judge) correctness(ctx context.Context, it Item, v *Verdict) error {
	if it.Declined {
		v.Correctness = &Correctness{Grade: 0, Label: "incorrect", Reason: "the answerer declined"}
		return nil
	}
	p := correctnessPrompt(it)
	content, err := j.ask(ctx, p, &v.Usage)
	if err != nil {
		return err
	}
	c, err := parseCorrectness(content)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	v.Correctness = c
	return nil
}

func parseCorrectness(content string) (*Correctness, error) {
	var r struct {
		Verdict *string `json:"verdict"`
		Reason  *string `json:"reason"`
	}
	if err := decode(content, &r); err != nil {
		return nil, err
	}
	if r.Verdict == nil || r.Reason == nil {
		return nil, fmt.Errorf("%w: want verdict and reason, got %s", ErrMalformed, clip(content))
	}
	g, ok := grades[*r.Verdict]
	if !ok {
		return nil, fmt.Errorf("%w: verdict %q is not correct, partially_correct or incorrect", ErrMalformed, *r.Verdict)
	}
	return &Correctness{Grade: g, Label: *r.Verdict, Reason: *r.Reason, Called: true}, nil
}

func (j *Judge) faithfulness(ctx context.Context, it Item, v *Verdict) error {
	p := faithfulnessPrompt(it)
	content, err := j.ask(ctx, p, &v.Usage)
	if err != nil {
		return err
	}
	var numbers []int
	for _, ps := range it.Passages {
		numbers = append(numbers, ps.N)
	}
	claims, err := parseClaims(content, numbers)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	v.Claims = claims
	if len(claims) == 0 && strings.TrimSpace(it.Answer) != "" {
		return fmt.Errorf("%s: %w: no claims found in a non-empty answer", p.name, ErrMalformed)
	}
	if len(claims) > 0 {
		n := 0
		for _, c := range claims {
			if c.Supported {
				n++
			}
		}
		share := float64(n) / float64(len(claims))
		v.Faithfulness = &share
	}
	return nil
}

// parseClaims reads the claims, each with its verdict; a supported claim
// must name one of the passages given.
func parseClaims(content string, passages []int) ([]Claim, error) {
	var r struct {
		Claims *[]struct {
			Claim     *string `json:"claim"`
			Supported *bool   `json:"supported"`
			Passage   *int    `json:"passage"`
		} `json:"claims"`
	}
	if err := decode(content, &r); err != nil {
		return nil, err
	}
	if r.Claims == nil {
		return nil, fmt.Errorf("%w: want claims, got %s", ErrMalformed, clip(content))
	}
	out := []Claim{}
	for i, c := range *r.Claims {
		if c.Claim == nil || c.Supported == nil || c.Passage == nil || strings.TrimSpace(*c.Claim) == "" {
			return nil, fmt.Errorf("%w: claim %d wants claim, supported and passage", ErrMalformed, i+1)
		}
		if *c.Supported && !slices.Contains(passages, *c.Passage) {
			return nil, fmt.Errorf("%w: claim %d is supported by passage %d, which was not given", ErrMalformed, i+1, *c.Passage)
		}
		out = append(out, Claim{Text: *c.Claim, Supported: *c.Supported, Passage: *c.Passage})
	}
	return out, nil
}

func (j *Judge) behaviour(ctx context.Context, it Item, v *Verdict) error {
	p := rubricPrompt(j.rubric, it)
	content, err := j.ask(ctx, p, &v.Usage)
	if err != nil {
		return err
	}
	crit, err := parseCriteria(content, len(j.rubric.Criteria))
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	v.Rubric = crit
	pass := true
	for _, c := range crit {
		pass = pass && c.Pass
	}
	v.RubricPass = &pass
	return nil
}

// parseCriteria reads one verdict for each of n criteria, R1…Rn, each
// exactly once; they come back in rubric order.
func parseCriteria(content string, n int) ([]Criterion, error) {
	var r struct {
		Criteria *[]struct {
			ID     *string `json:"id"`
			Pass   *bool   `json:"pass"`
			Reason *string `json:"reason"`
		} `json:"criteria"`
	}
	if err := decode(content, &r); err != nil {
		return nil, err
	}
	if r.Criteria == nil {
		return nil, fmt.Errorf("%w: want criteria, got %s", ErrMalformed, clip(content))
	}
	byID := map[string]Criterion{}
	for i, c := range *r.Criteria {
		if c.ID == nil || c.Pass == nil || c.Reason == nil {
			return nil, fmt.Errorf("%w: criterion %d wants id, pass and reason", ErrMalformed, i+1)
		}
		if _, dup := byID[*c.ID]; dup {
			return nil, fmt.Errorf("%w: criterion %s is judged twice", ErrMalformed, *c.ID)
		}
		byID[*c.ID] = Criterion{ID: *c.ID, Pass: *c.Pass, Reason: *c.Reason}
	}
	out := make([]Criterion, 0, n)
	for i := range n {
		c, ok := byID[criterionID(i)]
		if !ok {
			return nil, fmt.Errorf("%w: criterion %s has no verdict", ErrMalformed, criterionID(i))
		}
		out = append(out, c)
	}
	if len(byID) != n {
		return nil, fmt.Errorf("%w: %d verdicts for %d criteria", ErrMalformed, len(byID), n)
	}
	return out, nil
}

// decode reads exactly one JSON object; keys the verdict does not use
// are allowed, text around the object is not.
func decode(content string, v any) error {
	trimmed := strings.TrimSpace(content)
	dec := json.NewDecoder(strings.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: not a JSON object (%v): %s", ErrMalformed, err, clip(content))
	}
	// Anything but white space after the object (a stray "}" or "]" that
	// More would not report) makes the reply malformed.
	if rest := trimmed[dec.InputOffset():]; strings.TrimSpace(rest) != "" {
		return fmt.Errorf("%w: text after the JSON object: %s", ErrMalformed, clip(content))
	}
	return nil
}

func clip(s string) string {
	s = oneLine(s)
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
