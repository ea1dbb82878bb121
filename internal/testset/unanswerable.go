package testset

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/answerability"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/evaluate"
)

// Unanswerable questions come two ways: a model writer's off-passage
// questions (half of them, when it can write them; see offPassage), and
// twins of kept answerable questions with one name or number swapped for
// one that no passage of the corpus contains: on the corpus' topic,
// phrased like a real question, and not answered by anything stored
// (checked against the whole index, not only the source passage).

// offPassage asks an UnanswerableWriter for up to want verified
// questions, from passages of documents in a seeded order.
func (g *generation) offPassage(ctx context.Context, want int) (int, error) {
	uw, ok := g.w.(UnanswerableWriter)
	if !ok || want == 0 {
		return 0, nil
	}
	got, tries := 0, 0
	for _, i := range g.rng.Perm(len(g.docs)) {
		if got >= want || tries >= want*passagesPerItem {
			break
		}
		cs, err := g.chunksOf(ctx, g.docs[i])
		if err != nil {
			return got, err
		}
		if len(cs) == 0 {
			continue
		}
		tries++
		p := Passage{Doc: g.docs[i], Chunks: cs[:1]}
		cands, err := uw.WriteUnanswerable(ctx, p)
		if err := g.writerFailed(ctx, err); err != nil {
			return got, err
		}
		if g.keptOne(p, cands) {
			got++
		}
	}
	return got, nil
}

// swapped adds up to want twins of kept answerable questions.
func (g *generation) swapped(ctx context.Context, want int) error {
	if want <= 0 {
		return nil
	}
	var sources []int
	names := map[string][]string{} // names asked about, by document
	for i, it := range g.items {
		if it.ShouldAnswer() && it.Provenance != nil {
			sources = append(sources, i)
			for _, k := range keySpans(it.Question) {
				if !k.num {
					names[it.Provenance.Doc] = append(names[it.Provenance.Doc], k.text)
				}
			}
		}
	}
	got := 0
	for _, i := range g.rng.Perm(len(sources)) {
		if got >= want {
			break
		}
		src := g.items[sources[i]]
		q, term, err := g.verifiedSwap(ctx, src.Question, otherNames(names, src.Provenance.Doc))
		if err != nil {
			return err
		}
		if q == "" {
			continue
		}
		if g.kept.near(q) {
			g.rep.Dropped["near_duplicate"]++
			continue
		}
		p := Passage{Doc: corpus.DocumentInfo{Path: src.Provenance.Doc}}
		for _, id := range src.Provenance.ChunkIDs {
			p.Chunks = append(p.Chunks, corpus.Chunk{ID: id})
		}
		g.add(p, Candidate{Question: q, Kind: evaluate.KindSwappedEntity, Method: "swapped_entity",
			Verified: fmt.Sprintf("no stored passage contains %q", term)})
		g.items[len(g.items)-1].Origin = src.ID
		got++
	}
	return nil
}

// verifiedSwap tries a few swaps of q and returns the first whose
// swapped-in text no chunk contains ("" when none).
func (g *generation) verifiedSwap(ctx context.Context, q string, names []string) (string, string, error) {
	for range 5 {
		swapped, term, ok := g.swap(q, names)
		if !ok {
			g.rep.Dropped["no_swappable_key"]++
			return "", "", nil
		}
		absent, err := g.absent(ctx, term)
		if err != nil || absent {
			return swapped, term, err
		}
		g.rep.Dropped["swap_found_in_corpus"]++
	}
	return "", "", nil
}

// absent reports whether no chunk of the corpus contains the phrase.
func (g *generation) absent(ctx context.Context, phrase string) (bool, error) {
	_, df, err := g.src.TermStats(ctx, []string{phrase})
	if err != nil {
		return false, fmt.Errorf("checking %q against the corpus: %w", phrase, err)
	}
	return df[phrase] == 0, nil
}

type key struct {
	start, end int
	text       string
	num        bool
}

// keySpans are the question's names (runs of capitalised words after the
// first) and numbers.
func keySpans(q string) []key {
	toks := answerability.Tokenize(q)
	var out []key
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Num && !t.Date && isDigits(t.Text):
			out = append(out, key{t.Start, t.End, t.Text, true})
		case t.Cap && !t.Punct && !t.Stop:
			j := i
			for j+1 < len(toks) && toks[j+1].Cap && !toks[j+1].Punct {
				j++
			}
			out = append(out, key{t.Start, toks[j].End, q[t.Start:toks[j].End], false})
			i = j
		}
	}
	return out
}

func isDigits(s string) bool {
	_, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return err == nil
}

// otherNames are the names to swap in: names asked about in other
// documents (on the corpus' topics, but often mentioned somewhere), then
// a fixed list of names of every kind that a corpus is unlikely to hold.
func otherNames(byDoc map[string][]string, doc string) []string {
	var out []string
	for d, ns := range byDoc {
		if d != doc {
			out = append(out, ns...)
		}
	}
	// Map order is random: sort for a deterministic draw.
	slices.Sort(out)
	return append(slices.Compact(out), outsideNames...)
}

// outsideNames are places, organisations and people for swaps when the
// corpus' own names are all mentioned in it.
var outsideNames = []string{"Reykjavik", "Montevideo", "Tallinn", "Kraków", "Osaka", "Nairobi", "Valparaíso", "Tromsø",
	"Lyon", "Adelaide", "Quebec", "Porto", "Cork", "Graz", "Bergen", "Nagoya",
	"Northwind Traders", "Contoso", "Fabrikam", "Initech", "Globex", "Umbrella Labs", "Wayne Enterprises", "Tyrell Systems",
	"Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Margaret Hamilton", "Donald Knuth", "Frances Allen",
	"Blue Harbor Council", "Silver Ridge Committee", "Amber Valley Board", "Granite Works Guild"}

// swap replaces one key of q: a number is shifted, a name replaced by a
// name asked about in another document. It returns the new question and
// the inserted text.
func (g *generation) swap(q string, names []string) (string, string, bool) {
	keys := keySpans(q)
	if len(keys) == 0 {
		return "", "", false
	}
	k := keys[g.rng.IntN(len(keys))]
	for range 40 {
		var repl string
		if k.num {
			n, _ := strconv.Atoi(strings.ReplaceAll(k.text, ",", ""))
			shift := 1 + g.rng.IntN(30)
			if g.rng.IntN(2) == 0 && n-shift > 0 {
				shift = -shift
			}
			repl = strconv.Itoa(n + shift)
		} else if len(names) > 0 {
			repl = names[g.rng.IntN(len(names))]
		}
		if repl != "" && !strings.EqualFold(repl, k.text) && !strings.Contains(strings.ToLower(q), strings.ToLower(repl)) {
			return q[:k.start] + repl + q[k.end:], repl, true
		}
	}
	return "", "", false
}
