package project

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// followUps builds a multi-turn set from a QA set nobody here wrote: for
// two answerable questions about the same passage that share content
// words, the first is asked as it is, and the second with those shared
// words replaced by "it", so it names its subject only through the
// conversation ("When was scurvy described?" after "What causes scurvy?"
// becomes "When was it described?").
func followUps(items []evaluate.QAItem) [][2]evaluate.QAItem {
	byDoc := map[string][]evaluate.QAItem{}
	for _, it := range items {
		if it.ShouldAnswer() && len(it.GoldDocIDs) == 1 {
			byDoc[it.GoldDocIDs[0]] = append(byDoc[it.GoldDocIDs[0]], it)
		}
	}
	var out [][2]evaluate.QAItem
	for _, group := range byDoc {
		for i := 1; i < len(group); i++ {
			first, second := group[i-1], group[i]
			shared := map[string]bool{}
			for _, w := range lexical.Terms(first.Question) {
				shared[lexical.Stem(w)] = true
			}
			replaced := false
			q := regexp.MustCompile(`[\pL\pN']+`).ReplaceAllStringFunc(second.Question, func(w string) string {
				if lexical.IsStopword(strings.ToLower(w)) || !shared[lexical.Stem(strings.ToLower(w))] {
					return w
				}
				if replaced {
					return ""
				}
				replaced = true
				return "it"
			})
			if replaced {
				second.Question = strings.Join(strings.Fields(q), " ")
				out = append(out, [2]evaluate.QAItem{first, second})
			}
		}
	}
	return out
}

// squadDev finds the shared SQuAD v1.1 dev set ($RAGTUNE_DATASETS, or
// ../shared/datasets beside the checkout, as CI has it).
func squadDev(t *testing.T) string {
	for _, root := range []string{os.Getenv("RAGTUNE_DATASETS"), "../../../shared/datasets"} {
		if dir := filepath.Join(root, "squad-v1.1-dev"); root != "" && evaluate.IsBEIR(dir) {
			return dir
		}
	}
	t.Skip("the SQuAD v1.1 dev set is not here (set RAGTUNE_DATASETS)")
	return ""
}

// TestFollowUpsRetrieveWithHistory measures gold_doc@4 of follow-up
// questions retrieved alone and retrieved as conversation.Standalone
// makes them, on SQuAD v1.1 dev (2,067 passages).
func TestFollowUpsRetrieveWithHistory(t *testing.T) {
	data := squadDev(t)
	cfg, env := newConfig(t.TempDir())
	p, err := OpenForEval(t.Context(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ds, err := evaluate.LoadBEIR(data, "test")
	if err != nil {
		t.Fatal(err)
	}
	items, err := evaluate.LoadQA(filepath.Join(data, "qa.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.OpenScratch(t.Context(), ScratchRequest{Dataset: ds, Mode: retrieve.Lexical})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Retriever(t.Context(), retrieve.Lexical)
	if err != nil {
		t.Fatal(err)
	}
	pairs := followUps(items)
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][1].ID < pairs[j][1].ID })
	pairs = pairs[:min(len(pairs), 1000)]
	if len(pairs) < 100 {
		t.Fatalf("only %d follow-up pairs", len(pairs))
	}
	found := func(q, gold string) bool {
		hits, err := r.Search(t.Context(), retrieve.Query{Text: q, K: 4, Mode: retrieve.Lexical})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.DocPath == gold {
				return true
			}
		}
		return false
	}
	alone, with := 0, 0
	for _, pair := range pairs {
		first, second := pair[0], pair[1]
		gold := second.GoldDocIDs[0]
		if found(second.Question, gold) {
			alone++
		}
		history := []conversation.Turn{{Role: "user", Text: first.Question}, {Role: "assistant", Text: "…"}}
		if found(conversation.Standalone(second.Question, history), gold) {
			with++
		}
	}
	n := float64(len(pairs))
	t.Logf("%d follow-ups: gold_doc@4 last turn only %.3f, with the conversation %.3f", len(pairs), float64(alone)/n, float64(with)/n)
	if with <= alone {
		t.Errorf("the conversation did not help: %d vs %d of %d", with, alone, len(pairs))
	}
}
