// Package answerability judges whether a sentence answers a question, not
// merely whether it is about it, and finds the short span that answers.
//
// Coverage (the share of a question's words a passage holds) says a
// passage is on topic; it cannot tell the sentence that answers "Which NFL
// team represented the AFC at Super Bowl 50?" from one about the NFC, or
// from the same question asked of Super Bowl 48. This package reads the
// question's expected answer type (who → person, when → date, how many →
// number, …), the units of that type a sentence offers beyond the
// question's own words, and the question's key modifiers (named entities,
// numbers and dates, negation, superlatives) that a sentence must agree
// with. Two logistic models combine these features: one scores candidate
// spans (the short answer), one scores sentences (answerability). Their
// weights are fitted in Go from SQuAD (see cmd/fit-answerability) and
// embedded; the features are scale-free so that they carry to corpora of
// any size.
package answerability
