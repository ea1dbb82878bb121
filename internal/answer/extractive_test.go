package answer

import (
	"context"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/conversation"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// corpusStats computes document frequencies over a fixed set of texts the
// same way the store does (per chunk, per stem).
type corpusStats []string

func (c corpusStats) TermStats(_ context.Context, terms []string) (int, map[string]int, error) {
	df := map[string]int{}
	for _, t := range terms {
		for _, text := range c {
			if lexical.StemSet(text)[lexical.Stem(t)] {
				df[t]++
			}
		}
	}
	return len(c), df, nil
}

func hit(path, heading, text string, lines ...int) retrieve.Hit {
	return retrieve.Hit{Hit: corpus.Hit{DocPath: path, Chunk: corpus.Chunk{ID: "id-" + path, Heading: heading, Text: text, LineStart: lines[0], LineEnd: lines[1]}}}
}

var (
	rotation = hit("ops.md", "Ops > Keys", "## Key rotation\n\nSigning keys rotate every ninety days. To rotate a key by hand, run the rotate command and revoke the old key.", 10, 14)
	backups  = hit("ops.md", "Ops > Backups", "Backups run every night at 02:00 UTC.\nEach backup is kept for thirty days.", 3, 4)
	restores = hit("restore.md", "Restores", "- A restore takes about twenty minutes for a typical database.", 1, 1)
	stats    = corpusStats{rotation.Text, backups.Text, restores.Text, "unrelated text about the weather", "more unrelated text about lunch"}
)

func TestExtractive(t *testing.T) {
	gen := NewExtractive(stats, DefaultThresholds())
	tests := []struct {
		question string
		hits     []retrieve.Hit
		reason   string // "" means answered
		contains string
		cites    []int
	}{
		{"How do I rotate a key by hand?", []retrieve.Hit{backups, rotation}, "", "run the rotate command and revoke the old key. [2]", []int{2}},
		{"How long is each backup kept?", []retrieve.Hit{backups, restores}, "", "Each backup is kept for thirty days. [1]", []int{1}},
		{"How long does a restore take?", []retrieve.Hit{restores}, "", "A restore takes about twenty minutes for a typical database. [1]", []int{1}},
		{"Anything?", nil, ReasonNoResults, "", nil},
		{"What is the capital of France?", []retrieve.Hit{backups}, ReasonLowRetrievalScore, "", nil},
		// Every word is covered by the chunk, but no single sentence
		// supports an answer.
		{"rotate backups restore nightly twenty?", []retrieve.Hit{{Hit: corpus.Hit{DocPath: "mix.md", Chunk: corpus.Chunk{Text: "We rotate things. Backups happen sometimes. Restore is a word. Nightly runs occur. Twenty is a number."}}}}, ReasonUnsupportedAnswer, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.question, func(t *testing.T) {
			res, err := Answer(t.Context(), gen, Request{Question: tc.question, Hits: tc.hits})
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason != "" {
				if !res.Abstained || res.AbstainReason == nil || *res.AbstainReason != tc.reason || res.Answer != Declined || len(res.Citations) != 0 {
					t.Fatalf("got %+v, want abstention %s", res, tc.reason)
				}
				return
			}
			if res.Abstained || !strings.Contains(res.Answer, tc.contains) {
				t.Fatalf("answer %q (abstained %v), want it to contain %q", res.Answer, res.Abstained, tc.contains)
			}
			var ns []int
			for _, c := range res.Citations {
				ns = append(ns, c.N)
				if h := tc.hits[c.N-1]; c.Doc != h.DocPath || c.ChunkID != h.ID || c.Lines != [2]int{h.LineStart, h.LineEnd} {
					t.Errorf("citation %+v does not match hit %d", c, c.N)
				}
			}
			if len(ns) != len(tc.cites) || (len(ns) > 0 && ns[0] != tc.cites[0]) {
				t.Errorf("citations %v, want %v", ns, tc.cites)
			}
		})
	}
}

func TestStreamOrder(t *testing.T) {
	gen := NewExtractive(stats, DefaultThresholds())
	events, err := gen.Generate(t.Context(), Request{Question: "How do I rotate a key by hand?", Hits: []retrieve.Hit{rotation}})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for ev := range events {
		types = append(types, string(ev.Type))
	}
	if got := strings.Join(types, ","); got != "assessment,token,citation,usage,done" {
		t.Errorf("event order %s", got)
	}
}

func TestSentences(t *testing.T) {
	got := Sentences("# Title\n\nFirst sentence is here. Second one, e.g. this, ends here!\n```\ncode block line here\n```\n- list item with words\n- another list item here\n| table | row | with | cells |")
	want := []string{"First sentence is here.", "Second one, e.g. this, ends here!", "list item with words", "another list item here"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences = %q\nwant %q", got, want)
	}
}

// TestFollowUp: "And by hand?" after a question about key rotation is
// answered by the sentence about doing it by hand, not by the one that
// best matches the earlier question.
func TestFollowUp(t *testing.T) {
	gen := NewExtractive(stats, DefaultThresholds())
	res, err := Answer(t.Context(), gen, Request{Question: "And by hand?", Hits: []retrieve.Hit{rotation},
		History: []conversation.Turn{{Role: "user", Text: "How often do signing keys rotate?"}, {Role: "assistant", Text: "Signing keys rotate every ninety days. [1]"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Abstained || !strings.Contains(res.Answer, "run the rotate command") {
		t.Errorf("follow-up answered %q (abstained %v)", res.Answer, res.Abstained)
	}
}
