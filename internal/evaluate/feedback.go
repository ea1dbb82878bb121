package evaluate

import (
	"slices"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/store"
)

// FeedbackKind is the kind of QA items made from feedback.
const FeedbackKind = "feedback"

// Why a rated interaction teaches nothing.
const (
	SkipUnrated              = "unrated"
	SkipDownWithoutCorrected = "down_without_correction"
)

// FeedbackGold is what one rated interaction teaches: a QA item and the
// answer a model should give (Target, without citation markers).
type FeedbackGold struct {
	Item   QAItem
	Target string
}

// GoldFromFeedback turns a rated interaction into gold. A correction is
// the gold answer (the declined sentence as a correction makes the
// question unanswerable); an approved answer's short answer and text are,
// and its cited documents are the gold documents; an approved refusal
// makes an unanswerable item. An unrated interaction, or a down-voted one
// without a correction, teaches nothing: the second result says why.
func GoldFromFeedback(in store.Interaction) (FeedbackGold, string) {
	item := QAItem{ID: in.ID, Question: in.Question, Answers: []string{}, GoldDocIDs: []string{}, Kind: FeedbackKind, Origin: in.ID}
	if in.Rating == store.Up {
		item.GoldDocIDs = citedDocs(in.Citations)
	}
	switch {
	case in.Rating == store.Unrated:
		return FeedbackGold{}, SkipUnrated
	case in.Correction != "" && NormalizeAnswer(in.Correction) == NormalizeAnswer(answer.Declined):
		return declinedGold(item), ""
	case in.Correction != "":
		item.Answers = []string{in.Correction}
		return FeedbackGold{Item: item, Target: in.Correction}, ""
	case in.Rating == store.Down:
		return FeedbackGold{}, SkipDownWithoutCorrected
	case in.Abstained:
		return declinedGold(item), ""
	}
	text := StripCitations(in.Answer)
	for _, a := range []string{in.ShortAnswer, text} {
		if a != "" && !slices.Contains(item.Answers, a) {
			item.Answers = append(item.Answers, a)
		}
	}
	return FeedbackGold{Item: item, Target: text}, ""
}

func declinedGold(item QAItem) FeedbackGold {
	no := false
	item.Answerable, item.Answers, item.GoldDocIDs = &no, []string{}, []string{}
	return FeedbackGold{Item: item, Target: answer.Declined}
}

// citedDocs are the documents of the citations, each once, in order.
func citedDocs(cs []store.Citation) []string {
	docs := []string{}
	for _, c := range cs {
		if !slices.Contains(docs, c.Doc) {
			docs = append(docs, c.Doc)
		}
	}
	return docs
}
