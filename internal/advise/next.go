package advise

import (
	"fmt"
	"math"
	"strings"
)

// The three questions, as asked.
const (
	KnowledgeQuestion   = "Does your information change frequently?"
	BehaviourQuestion   = "Must the model's tone, format or terminology change?"
	AttributionQuestion = "Do answers need source attribution?"
)

// Where an answer came from.
const (
	SourceFlag    = "flag"           // given on the command line
	SourcePrompt  = "asked"          // answered at the prompt
	SourceHistory = "ingest history" // measured: the question was not answered
)

// Sources say how each answer was given.
type Sources struct {
	Knowledge, Behaviour, Attribution string
}

// Question is one of the three questions with its answer, where the
// answer came from, what was measured about it, and what it means for
// the decision.
type Question struct {
	Key      string `json:"key"`
	Text     string `json:"question"`
	Answer   bool   `json:"answer"`
	Source   string `json:"source"`
	Measured string `json:"measured,omitempty"`
	Means    string `json:"means"`
}

// Short meanings of the answers, for the questions table.
func meaning(key string, yes bool) string {
	switch {
	case key == "knowledge_changes" && yes:
		return "favours RAG: retrieval reads today's documents; a tuned model would be retrained after each change"
	case key == "knowledge_changes":
		return "neutral: stable knowledge does not need retrieval, but fine-tuning still does not reliably add facts"
	case key == "behavior_change" && yes:
		return "favours fine-tuning: it makes a tone, format or terminology the default"
	case key == "behavior_change":
		return "against fine-tuning: prompting covers tone and format"
	case yes:
		return "needs RAG: a model can cite only the passages in its context"
	}
	return "neutral: no citations are needed"
}

func questions(req Request) []Question {
	a, s := req.Answers, req.Sources
	qs := []Question{
		{Key: "knowledge_changes", Text: KnowledgeQuestion, Answer: a.KnowledgeChanges, Source: s.Knowledge},
		{Key: "behavior_change", Text: BehaviourQuestion, Answer: a.BehaviourChange, Source: s.Behaviour},
		{Key: "attribution", Text: AttributionQuestion, Answer: a.Attribution, Source: s.Attribution},
	}
	for i := range qs {
		qs[i].Means = meaning(qs[i].Key, qs[i].Answer)
	}
	if c := req.Churn; c != nil {
		qs[0].Measured = c.Reason()
		if c.Frequent() != a.KnowledgeChanges {
			qs[0].Measured += "; this contradicts the answer given, and the cost model uses the measured rate"
		}
	}
	return qs
}

// NextStep is what to do now, by the article's rule: poor accuracy
// means retrieval comes first; good accuracy with failing behaviour
// means fine-tuning for behaviour; otherwise what the decision says.
type NextStep struct {
	Rule     string   `json:"rule"` // improve-retrieval | fine-tune-behaviour | as-decided
	Text     string   `json:"text"`
	Details  []string `json:"details,omitempty"`
	Commands []string `json:"commands,omitempty"`
}

// Rules of NextStep.
const (
	RuleRetrieval = "improve-retrieval"
	RuleBehaviour = "fine-tune-behaviour"
	RuleDecided   = "as-decided"
)

func planNext(d Decision, req Request) NextStep {
	m := req.Measured
	switch {
	case m != nil && m.Accuracy != nil && *m.Accuracy < goodAccuracy:
		return retrievalFirst(*m.Accuracy, req.Evidence)
	case m != nil && m.BehaviourPass != nil && *m.BehaviourPass < goodBehaviour:
		return behaviourNext(m, req.Prepared)
	}
	n := NextStep{Rule: RuleDecided, Text: d.NextStep}
	if d.Recommendation == RAG && m != nil && m.Accuracy != nil {
		n.Text = fmt.Sprintf("Keep RAG: eval run %s answers %.0f %% of the questions right without fine-tuning; keep that level as a gate in CI and add fine-tuning only if answers are right but tone or format is not.", m.Run, 100**m.Accuracy)
		n.Commands = []string{fmt.Sprintf("ragtune eval run qa.jsonl --fail-under contains=%.2f", math.Floor(100**m.Accuracy)/100)}
	}
	if d.Recommendation != RAG {
		n.Details = append(n.Details, preparedDetail(req.Prepared))
	}
	return n
}

func retrievalFirst(acc float64, ev *Evidence) NextStep {
	n := NextStep{Rule: RuleRetrieval,
		Text: fmt.Sprintf("Improve chunking and retrieval first: at %.0f %% answer accuracy the answers are wrong for want of the right passages, which fine-tuning does not fix.", 100*acc)}
	if ev == nil || ev.Best == nil {
		n.Details = append(n.Details, "No other configuration has been measured on the same questions: compare chunk sizes, retrieval modes and k, then answer with the winner.")
		n.Commands = []string{"ragtune eval compare --grid grid.toml --report compare/"}
		return n
	}
	b, qa := ev.Best, ev.QA
	verdict := fmt.Sprintf("the lead is significant (p = %.3f)", b.VsChosen.P)
	if !b.VsChosen.Significant {
		verdict = fmt.Sprintf("the lead is not significant yet (p = %.2f): measure on more questions before switching", b.VsChosen.P)
	}
	n.Details = append(n.Details, fmt.Sprintf("The best configuration measured on %s is run %s: %s %.3f against %.3f for run %s; %s.",
		b.Run.Dataset, b.Run.ID, b.Metric, b.VsChosen.MeanB, b.VsChosen.MeanA, qa.ID, verdict))
	if ch := sortedChanges(b.Changes); len(ch) > 0 {
		n.Details = append(n.Details, "Its settings: "+strings.Join(ch, "; ")+".")
	}
	n.Commands = []string{"ragtune eval diff " + qa.ID + " " + b.Run.ID}
	return n
}

func behaviourNext(m *Measured, prep *Prepared) NextStep {
	acc := "accuracy not measured"
	if m.Accuracy != nil {
		acc = fmt.Sprintf("%.0f %% answer accuracy", 100**m.Accuracy)
	}
	n := NextStep{Rule: RuleBehaviour,
		Text:    fmt.Sprintf("Fine-tune for behaviour: with %s, only %.0f %% of answers pass the behaviour checks — tone or format, not knowledge, is what fails.", acc, 100**m.BehaviourPass),
		Details: []string{preparedDetail(prep)}}
	if prep == nil {
		n.Commands = []string{"ragtune tune prepare examples.jsonl --out finetune --json > " + PreparedFile}
	} else {
		n.Commands = []string{"ragtune tune start " + trainFile(prep.Path)}
	}
	n.Commands = append(n.Commands, "ragtune eval arms qa.jsonl")
	return n
}

// trainFile is the training file beside a prepare report.
func trainFile(report string) string {
	dir := report[:strings.LastIndexAny(report, `/\`)+1]
	return dir + "train.jsonl"
}

func preparedDetail(p *Prepared) string {
	if p == nil {
		return "No prepared training data was found (" + PreparedFile + "): collect 50–100 examples of the wanted behaviour, check and price them with tune prepare, and keep its --json report there for this page."
	}
	return fmt.Sprintf("Prepared training data (%s): %d examples (%d training, %d validation, %s), %d billed tokens over %d epochs — about $%.2f per training run.",
		p.Path, p.Examples, p.Train, p.Validation, p.Method, p.BilledTokens, p.Epochs, p.EstimatedCostUSD)
}
