package evaluate

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ragtune/ragtune/internal/document"
)

// Dataset is a BEIR-layout collection.
type Dataset struct {
	Name    string
	Dir     string
	Corpus  []CorpusDoc
	Queries []Query // only queries with judgements, in file order
	Qrels   Qrels
	Hash    string // sha256 of the corpus file: identifies the corpus
}

// CorpusDoc is one BEIR document.
type CorpusDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Query is one BEIR query.
type Query struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// IsBEIR reports whether dir looks like a BEIR collection.
func IsBEIR(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "queries.jsonl"))
	return err == nil
}

// LoadBEIR reads corpus.jsonl[.gz], queries.jsonl and qrels/<split>.tsv.
func LoadBEIR(dir, split string) (*Dataset, error) {
	ds := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Dir: dir}
	corpusPath := filepath.Join(dir, "corpus.jsonl")
	if _, err := os.Stat(corpusPath); errors.Is(err, fs.ErrNotExist) {
		corpusPath += ".gz"
	}
	hash, err := readJSONL(corpusPath, func(line int, raw []byte) error {
		var d CorpusDoc
		if err := json.Unmarshal(raw, &d); err != nil || d.ID == "" {
			return fmt.Errorf("%s line %d: not a corpus record with an _id: %v", corpusPath, line, err)
		}
		ds.Corpus = append(ds.Corpus, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ds.Hash = hash
	qrelsPath := filepath.Join(dir, "qrels", split+".tsv")
	if ds.Qrels, err = readQrels(qrelsPath); err != nil {
		return nil, err
	}
	queriesPath := filepath.Join(dir, "queries.jsonl")
	_, err = readJSONL(queriesPath, func(line int, raw []byte) error {
		var q Query
		if err := json.Unmarshal(raw, &q); err != nil || q.ID == "" {
			return fmt.Errorf("%s line %d: not a query record with an _id: %v", queriesPath, line, err)
		}
		if hasRelevant(ds.Qrels[q.ID]) {
			ds.Queries = append(ds.Queries, q)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ds.Queries) == 0 {
		return nil, fmt.Errorf("%s: no query has a relevant judgement in %s", dir, qrelsPath)
	}
	return ds, nil
}

// readJSONL calls fn for every non-empty line and returns the sha256 of
// the file as stored.
func readJSONL(path string, fn func(line int, raw []byte) error) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading dataset: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	var r io.Reader = io.TeeReader(f, h)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		if err := fn(n, sc.Bytes()); err != nil {
			return "", err
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	io.Copy(io.Discard, r)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readQrels reads "query-id corpus-id score" rows (tab-separated, with or
// without the BEIR header; TREC's four-column form also works).
func readQrels(path string) (Qrels, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading judgements: %w", err)
	}
	q := Qrels{}
	for n, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || (n == 0 && f[0] == "query-id") {
			continue
		}
		if len(f) == 4 {
			f = []string{f[0], f[2], f[3]} // TREC: qid iter docid rel
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%s line %d: want query-id, corpus-id, score", path, n+1)
		}
		score, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: score %q is not an integer", path, n+1, f[2])
		}
		if q[f[0]] == nil {
			q[f[0]] = map[string]int{}
		}
		q[f[0]][f[1]] = score
	}
	return q, nil
}

// Documents is the corpus as documents for the ingest pipeline, keyed by
// their IDs. Title and text form one body, as BM25 baselines on BEIR
// index them.
func (ds *Dataset) Documents() []*document.Document {
	out := make([]*document.Document, len(ds.Corpus))
	for i, c := range ds.Corpus {
		text := c.Text
		if c.Title != "" {
			text = c.Title + "\n\n" + c.Text
		}
		out[i] = &document.Document{Path: c.ID, Format: document.Text, Text: text}
	}
	return out
}
