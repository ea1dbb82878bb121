// Package advise answers "fine-tune or RAG?" for one team: three
// questions decide the approach, and a cost model with the team's volume
// and measured token counts says what each option costs and where
// fine-tuning would break even.
package advise

import (
	"fmt"
	"math"
)

// Answers are the three questions.
type Answers struct {
	KnowledgeChanges bool `json:"knowledge_changes"` // does the information change often?
	BehaviourChange  bool `json:"behavior_change"`   // must tone, format or terminology change?
	Attribution      bool `json:"attribution"`       // must answers cite sources?
}

// Measured facts from an eval run, when there is one.
type Measured struct {
	Run           string   `json:"run"`
	Accuracy      *float64 `json:"accuracy"`       // share of answers containing a gold answer
	BehaviourPass *float64 `json:"behaviour_pass"` // share passing the behaviour checks
}

// Recommendations.
const (
	RAG      = "rag"
	FineTune = "fine-tune"
	Hybrid   = "hybrid"
)

// Thresholds for reading an eval run.
const (
	goodAccuracy  = 0.6
	goodBehaviour = 0.8
)

// Decision is the qualitative part of the advice.
type Decision struct {
	Recommendation string   `json:"recommendation"`
	Reasons        []string `json:"reasons"`
	NextStep       string   `json:"next_step"`
}

// Decide applies the three questions, then what an eval run measured.
func Decide(a Answers, m *Measured) Decision {
	var d Decision
	needRAG := a.KnowledgeChanges || a.Attribution
	if a.KnowledgeChanges {
		d.Reasons = append(d.Reasons, "your information changes often: RAG reads the current documents at question time, while a fine-tuned model would need retraining after every change")
	}
	if a.Attribution {
		d.Reasons = append(d.Reasons, "you need source attribution: a model can only cite a document that is in its context, which is what retrieval puts there")
	}
	if a.BehaviourChange {
		d.Reasons = append(d.Reasons, "the model's behaviour must change: fine-tuning makes a tone, format or terminology the default instead of something each prompt must ask for")
	} else {
		d.Reasons = append(d.Reasons, "the behaviour does not need to change: prompting covers tone and format, and fine-tuning does not reliably add knowledge")
	}
	switch {
	case needRAG && a.BehaviourChange:
		d.Recommendation = Hybrid
		d.Reasons = append(d.Reasons, "both hold, so combine them: a fine-tuned model reasoning over retrieved passages; the cost is complexity — two things to build, evaluate and keep current")
		d.NextStep = "start with RAG and measure it (ragtune eval run); then fine-tune for behaviour with retrieved passages inside the training examples, so the tuned model learns to answer from context and cite"
	case a.BehaviourChange:
		d.Recommendation = FineTune
		d.NextStep = "collect 50–100 examples of the wanted behaviour as chat transcripts, fine-tune at your provider, and compare before and after on the same test set with behaviour checks (ragtune eval run)"
	default:
		d.Recommendation = RAG
		if !needRAG {
			d.Reasons = append(d.Reasons, "none of the three questions calls for fine-tuning, so start with RAG and prompting: it is the cheaper and more reversible path")
		}
		d.NextStep = "ingest your documents and measure with a test set (ragtune eval run); add fine-tuning only if answers are right but tone or format is not"
	}
	if m != nil {
		d = applyMeasured(d, m)
	}
	return d
}

func applyMeasured(d Decision, m *Measured) Decision {
	if m.Accuracy != nil {
		if *m.Accuracy < goodAccuracy {
			d.Reasons = append(d.Reasons, fmt.Sprintf("eval run %s: answer accuracy is %.0f %%, too low to tell whether fine-tuning would help", m.Run, 100**m.Accuracy))
			d.NextStep = "improve chunking and retrieval before considering fine-tuning (ragtune eval compare --grid …)"
			return d
		}
		d.Reasons = append(d.Reasons, fmt.Sprintf("eval run %s: answer accuracy is %.0f %%", m.Run, 100**m.Accuracy))
	}
	if m.BehaviourPass != nil && *m.BehaviourPass < goodBehaviour && (m.Accuracy == nil || *m.Accuracy >= goodAccuracy) {
		d.Reasons = append(d.Reasons, fmt.Sprintf("eval run %s: only %.0f %% of answers pass the behaviour checks", m.Run, 100**m.BehaviourPass))
		if d.Recommendation == RAG {
			d.Recommendation = Hybrid
		}
		d.NextStep = "accuracy is good but tone or format is wrong: add fine-tuning for behaviour"
	}
	return d
}

// round2 keeps money readable in JSON.
func round2(x float64) float64 { return math.Round(x*100) / 100 }
