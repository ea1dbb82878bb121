package evaluate

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func squadLike() ([]CorpusDoc, []QAItem) {
	yes := true
	corpus := []CorpusDoc{
		{ID: "a00p000", Title: "Super Bowl 50", Text: "Super Bowl 50 was played in Santa Clara. The Denver Broncos defeated the Carolina Panthers 24–10. The game was broadcast by CBS."},
		{ID: "a01p000", Title: "Eiffel Tower", Text: "The Eiffel Tower is in Paris. It opened in 1889 for the World's Fair. The company of Gustave Eiffel built it."},
	}
	items := []QAItem{
		{ID: "q1", Question: "Which team won Super Bowl 50?", Answers: []string{"Denver Broncos"}, GoldDocIDs: []string{"a00p000"}, Answerable: &yes},
		{ID: "q2", Question: "Who broadcast Super Bowl 50?", Answers: []string{"CBS"}, GoldDocIDs: []string{"a00p000"}, Answerable: &yes},
		{ID: "q3", Question: "When did the Eiffel Tower open?", Answers: []string{"1889"}, GoldDocIDs: []string{"a01p000"}, Answerable: &yes},
		{ID: "q4", Question: "Whose company built the Eiffel Tower in Paris?", Answers: []string{"Gustave Eiffel"}, GoldDocIDs: []string{"a01p000"}, Answerable: &yes},
	}
	return corpus, items
}

// TestMakeUnanswerable: removed sentences take their answers with them,
// swapped questions name what their paragraph does not, every item has
// a kind, and one seed gives one set.
func TestMakeUnanswerable(t *testing.T) {
	corpus, items := squadLike()
	u := MakeUnanswerable(corpus, items, UnanswerableOptions{Seed: 1, RemoveShare: 1, SwapShare: 1})
	docs := map[string]CorpusDoc{}
	for _, d := range u.Corpus {
		docs[d.ID] = d
	}
	origin := map[string]QAItem{}
	for _, it := range items {
		origin[it.ID] = it
	}
	kinds := map[string]int{}
	for _, it := range u.Items {
		kinds[it.Kind]++
		switch it.Kind {
		case KindAnswerable:
			d := docs[it.GoldDocIDs[0]]
			if Contains(d.Title+" "+d.Text, it.Answers) != 1 {
				t.Errorf("%s stays answerable but its answer is gone", it.ID)
			}
		case KindRemovedSentence:
			src := origin[it.Origin]
			if it.ShouldAnswer() || Contains(docs[src.GoldDocIDs[0]].Text, src.Answers) != 0 {
				t.Errorf("%s: removed sentence, yet answerable or still holding %q", it.ID, src.Answers)
			}
		case KindSwappedEntity:
			src := origin[it.Origin]
			if it.ShouldAnswer() || it.Question == src.Question {
				t.Errorf("%s: swapped question %q (from %q)", it.ID, it.Question, src.Question)
			}
		default:
			t.Errorf("%s: kind %q", it.ID, it.Kind)
		}
	}
	if kinds[KindRemovedSentence] != 2 || kinds[KindSwappedEntity] == 0 || kinds[KindAnswerable] == 0 {
		t.Errorf("kinds %v, want both paragraphs to lose a sentence and some swaps", kinds)
	}
	if again := MakeUnanswerable(corpus, items, UnanswerableOptions{Seed: 1, RemoveShare: 1, SwapShare: 1}); !reflect.DeepEqual(u, again) {
		t.Error("the same seed gave a different set")
	}
	dir := t.TempDir()
	if err := WriteUnanswerable(dir, u); err != nil {
		t.Fatal(err)
	}
	back, err := LoadQA(filepath.Join(dir, "qa.jsonl"))
	if err != nil || len(back) != len(u.Items) {
		t.Fatalf("reading the written set back: %d items, %v", len(back), err)
	}
	if ds, err := LoadBEIR(dir, "test"); err != nil || len(ds.Corpus) != 2 || !strings.Contains(ds.Corpus[0].Text, "Santa Clara") {
		t.Fatalf("reading the written corpus back: %v", err)
	}
}
