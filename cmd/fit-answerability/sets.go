package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/evaluate"
)

type split struct {
	train, held []evaluate.QAItem
	isTrain     map[string]bool
	doc         map[string]string // an original item's gold document
}

// splitByArticle puts every item (and every item derived from it) with
// its gold article's parity.
func splitByArticle(orig, items []evaluate.QAItem) split {
	s := split{isTrain: map[string]bool{}, doc: map[string]string{}}
	article := map[string]int{}
	for _, it := range orig {
		if len(it.GoldDocIDs) > 0 {
			article[it.ID] = articleNumber(it.GoldDocIDs[0])
			s.doc[it.ID] = it.GoldDocIDs[0]
		}
	}
	for _, it := range items {
		id := it.ID
		if it.Origin != "" {
			id = it.Origin
		}
		if article[id]%2 == 0 {
			s.train = append(s.train, it)
			s.isTrain[it.ID] = true
		} else {
			s.held = append(s.held, it)
		}
	}
	return s
}

func articleNumber(docID string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(docID, "p", 2)[0], "a"))
	return n
}

func writeSets(o options, u evaluate.Unanswerable, s split) error {
	if o.sets != "" {
		for name, items := range map[string][]evaluate.QAItem{"train": s.train, "heldout": s.held} {
			if err := evaluate.WriteUnanswerable(filepath.Join(o.sets, name), evaluate.Unanswerable{Corpus: u.Corpus, Items: items}); err != nil {
				return err
			}
		}
	}
	if o.sliceOut == "" {
		return nil
	}
	want := strings.Split(o.slice, ",")
	var small evaluate.Unanswerable
	for _, d := range u.Corpus {
		if slices.Contains(want, strings.SplitN(d.ID, "p", 2)[0]) {
			small.Corpus = append(small.Corpus, d)
		}
	}
	in := map[string]bool{}
	for _, d := range small.Corpus {
		in[d.ID] = true
	}
	for _, it := range s.held {
		id := it.ID
		if it.Origin != "" {
			id = it.Origin
		}
		if in[s.doc[id]] {
			small.Items = append(small.Items, it)
		}
	}
	return evaluate.WriteUnanswerable(o.sliceOut, small)
}
