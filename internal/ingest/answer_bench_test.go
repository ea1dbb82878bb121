package ingest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// BenchmarkAbstentionSQuAD measures the extractive answerer with the
// default thresholds on every 35th SQuAD v1.1 dev question: how often it
// answers, how often the answer contains a gold answer, and how often it
// declines the same questions asked of an unrelated corpus (SciFact),
// where none is answerable.
func BenchmarkAbstentionSQuAD(b *testing.B) {
	src := datasetDir(b, "squad-v1.1-dev")
	files := b.TempDir()
	f, _ := os.Open(filepath.Join(src, "corpus.jsonl"))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var raw map[string]string
		json.Unmarshal(sc.Bytes(), &raw)
		os.WriteFile(filepath.Join(files, raw["_id"]+".txt"), []byte(raw["title"]+"\n\n"+raw["text"]), 0o644)
	}
	in := benchIngester(b, filepath.Join(b.TempDir(), "s"))
	in.Run(b.Context(), Options{Root: files, KeyBase: files, Chunk: chunk.DefaultOptions()})
	sci := b.TempDir()
	writeBEIRCorpus(b, datasetDir(b, "scifact"), sci)
	other := benchIngester(b, filepath.Join(b.TempDir(), "o"))
	other.Run(b.Context(), Options{Root: sci, KeyBase: sci, Chunk: chunk.DefaultOptions()})
	qf, _ := os.ReadFile(filepath.Join(src, "qa.jsonl"))
	type qa struct {
		Question string
		Answers  []string
	}
	var qs []qa
	for i, line := range strings.Split(strings.TrimSpace(string(qf)), "\n") {
		if i%35 != 0 {
			continue
		}
		var q qa
		json.Unmarshal([]byte(line), &q)
		qs = append(qs, q)
	}
	th := answer.DefaultThresholds()
	answered, contains, declined := 0, 0, 0
	ask := func(in *Ingester, question string) answer.Result {
		hits, err := (&retrieve.Retriever{Corpus: in.Corpus}).Search(b.Context(), retrieve.Query{Text: question, K: retrieve.DefaultK})
		if err != nil {
			b.Fatal(err)
		}
		res, err := answer.Answer(b.Context(), answer.NewExtractive(in.Corpus, th), answer.Request{Question: question, Hits: hits})
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	for b.Loop() {
		answered, contains, declined = 0, 0, 0
		for _, q := range qs {
			if res := ask(in, q.Question); !res.Abstained {
				answered++
				for _, a := range q.Answers {
					if strings.Contains(strings.ToLower(res.Answer), strings.ToLower(a)) {
						contains++
						break
					}
				}
			}
			if ask(other, q.Question).Abstained {
				declined++
			}
		}
	}
	n := float64(len(qs))
	b.ReportMetric(float64(answered)/n, "answered")
	b.ReportMetric(float64(contains)/n, "answer-contains")
	b.ReportMetric(float64(declined)/n, "declined-unanswerable")
}
