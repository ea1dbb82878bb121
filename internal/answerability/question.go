package answerability

import (
	"strings"

	"github.com/ragtune/ragtune/internal/lexical"
)

// AnswerType is the kind of unit a question asks for.
type AnswerType int

// The answer types, read from the question's wh-word and head noun.
const (
	TypeOther  AnswerType = iota // what / how / why: a phrase
	TypePerson                   // who, whom, which scientist
	TypeDate                     // when, what year
	TypeNumber                   // how many, how much, what percentage
	TypePlace                    // where, which city
	TypeEntity                   // which team, what company: a name
)

var typeNames = [...]string{"other", "person", "date", "number", "place", "entity"}

func (t AnswerType) String() string { return typeNames[t] }

// Question is what a question asks and what an answer must agree with.
type Question struct {
	Text   string
	Tokens []Token
	Type   AnswerType
	// Wh is the question word ("who", "how many"), "" when there is none.
	Wh string
	// Head is the noun the wh-word asks about ("team" in "which NFL
	// team"), "" when there is none.
	Head string
	// Stems are the content words' stems; Key marks those that name
	// something (capitalised past the first word, numbers, dates) and
	// must appear in an answering passage.
	Stems []string
	Key   map[string]bool
	// Negated: the question says not, never, no.
	Negated bool
	// Modifiers are superlatives, comparatives, ordinals and qualifiers
	// ("first", "largest", "only", "before") that an answer must share.
	Modifiers []string
}

// maxQuestionTokens bounds how much of a question is read: the question
// word, its subject and qualifiers come first, and a pasted page must not
// cost a page's worth of comparisons with every sentence.
const maxQuestionTokens = 100

// Analyze reads a question.
func Analyze(text string) Question {
	toks := Tokenize(text)
	q := Question{Text: text, Tokens: toks[:min(len(toks), maxQuestionTokens)], Key: map[string]bool{}}
	seen := map[string]bool{}
	firstWord := true
	for _, t := range q.Tokens {
		if t.Punct {
			continue
		}
		switch {
		case negations[t.Lower]:
			q.Negated = true
		case isModifier(t.Lower):
			q.Modifiers = append(q.Modifiers, t.Stem)
		}
		if !t.Stop && !whWords[t.Lower] && !seen[t.Stem] && len(t.Lower) > 1 || t.Num && !t.Stop {
			if !seen[t.Stem] {
				seen[t.Stem] = true
				q.Stems = append(q.Stems, t.Stem)
			}
			if t.Num || t.Date || t.Cap && !firstWord {
				q.Key[t.Stem] = true
			}
		}
		firstWord = false
	}
	q.Type, q.Head = answerType(q.Tokens)
	q.Wh = whPhrase(q.Tokens)
	return q
}

// Explains reports whether the question asks for an explanation (why,
// how does…) rather than a unit: its answer is the sentence, and a span
// of it would only mislead.
func (q *Question) Explains() bool {
	return q.Wh == "why" || strings.HasPrefix(q.Wh, "how ") && q.Type == TypeOther
}

// whPhrase is the first question word, with the word after "how".
func whPhrase(toks []Token) string {
	for i, t := range toks {
		if !whWords[t.Lower] {
			continue
		}
		if t.Lower == "how" && i+1 < len(toks) && !toks[i+1].Punct {
			return "how " + toks[i+1].Lower
		}
		return t.Lower
	}
	return ""
}

// answerType reads the wh-word and, after what/which, the head noun.
func answerType(toks []Token) (AnswerType, string) {
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		if !t.Punct {
			words = append(words, t.Lower)
		}
	}
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		switch w {
		case "who", "whom":
			return TypePerson, ""
		case "whose":
			return TypeEntity, ""
		case "when":
			return TypeDate, ""
		case "where":
			return TypePlace, ""
		case "how":
			if howNumber[next] {
				// "how many students": the head is what is counted
				if i+2 < len(words) && !auxiliaries[words[i+2]] && !lexical.IsStopword(words[i+2]) {
					return TypeNumber, words[i+2]
				}
				return TypeNumber, ""
			}
			return TypeOther, ""
		case "what", "which", "name":
			head := headNoun(words[i+1:])
			return headType(head), head
		}
	}
	return TypeOther, ""
}

// headNoun is the last word of the run after what/which that ends at the
// first function word: "which NFL team represented" → "represented" is
// a verb, so the run is cut at a known head if one occurs first.
func headNoun(rest []string) string {
	if len(rest) > 0 && (rest[0] == "kind" || rest[0] == "type" || rest[0] == "sort") {
		return ""
	}
	head := ""
	for i, w := range rest {
		if i >= 4 || auxiliaries[w] || w == "of" && head != "" && head != "name" {
			break
		}
		if w == "the" || w == "a" || w == "an" {
			continue
		}
		if headType(w) != TypeOther {
			return w
		}
		if i == 0 {
			head = w
		}
	}
	return head
}

func headType(w string) AnswerType {
	switch {
	case dateHeads[w]:
		return TypeDate
	case numberHeads[w]:
		return TypeNumber
	case placeHeads[w]:
		return TypePlace
	case personHeads[w]:
		return TypePerson
	case entityHeads[w]:
		return TypeEntity
	}
	return TypeOther
}

func isModifier(w string) bool {
	if modifiers[w] {
		return true
	}
	// Superlatives: largest, earliest, biggest (not "best"-like stems
	// shorter than five letters, nor "interest", "forest", "west").
	return len(w) > 5 && strings.HasSuffix(w, "est") && !notSuperlative[w]
}

var (
	whWords     = toSet("who whom whose when where how what which why name")
	negations   = toSet("not no never none nobody nothing neither nor without n't cannot isn't wasn't aren't weren't doesn't didn't don't won't")
	auxiliaries = toSet("is was are were be been did do does has have had can could would will should may might must")
	howNumber   = toSet("many much long far old big large tall high fast often wide deep heavy hot cold far")
	modifiers   = toSet(`first last only second third fourth fifth final latest earliest most least more less fewer before after
		prior since until original previous next former current new old oldest youngest largest smallest highest lowest
		major minor main primary`)
	notSuperlative = toSet("interest forest harvest protest contest request suggest honest modest manifest arrest invest digest")
	dateHeads      = toSet("year years date day month century centuries decade decades time era period age season dynasty")
	numberHeads    = toSet(`percentage percent number amount population size rate cost price proportion share total
		fraction ratio temperature speed distance length height weight area value score count sum budget salary`)
	placeHeads  = toSet("city country state place location region continent island river town county province nation area mountain lake ocean sea capital street neighborhood district village territory border site")
	personHeads = toSet(`person man woman king queen president leader author writer scientist player coach emperor pope
		artist composer architect founder inventor actor actress singer general minister chancellor governor
		philosopher poet son daughter father mother wife husband brother sister who individual people mayor
		senator judge ruler prince princess duke saint bishop director chief captain commander explorer`)
	entityHeads = toSet(`team company organization organisation group band party university school college church
		agency network club league institution corporation firm newspaper magazine journal book film movie
		album song station channel brand language religion tribe army navy empire dynasty award prize name
		ship airline bank hospital museum program programme show series treaty`)
)
