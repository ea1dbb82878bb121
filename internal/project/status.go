package project

import (
	"context"
	"fmt"
	"io"

	"github.com/dustin/go-humanize"
	"github.com/ragtune/ragtune/internal/corpus"
)

// Status is what the project holds; its JSON names are part of the CLI
// contract (`ragtune status --json`).
type Status struct {
	Documents int               `json:"documents"`
	Chunks    int               `json:"chunks"`
	Tokens    int64             `json:"tokens"`
	Bytes     int64             `json:"store_bytes"`
	Identity  map[string]string `json:"index_identity"`
	// Problems is set when a check was asked for: empty means sound.
	Problems []string `json:"problems,omitempty"`
	// DocumentList is set when the documents were asked for.
	DocumentList []corpus.DocumentInfo `json:"document_list,omitempty"`
	// Check says how far the store was checked: "full" (Verify),
	// "quick" (a small store, without being asked) or "skipped".
	Check string `json:"-"`
}

// StatusRequest says what Status reports beyond the counts.
type StatusRequest struct {
	Verify    bool // check the corpus's consistency
	Quick     bool // without Verify: check a corpus of up to QuickCheckLimit chunks
	Documents bool // list every document
}

// Status counts the corpus, measures the store and describes the index
// identity: the store's settings, the corpus's embedder and, for a
// cluster, where it is.
func (p *Project) Status(ctx context.Context, req StatusRequest) (Status, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return Status{}, err
	}
	stats, err := c.Stats(ctx)
	if err != nil && !req.Verify {
		return Status{}, err
	}
	st := Status{Documents: stats.Documents, Chunks: stats.Chunks, Tokens: stats.Tokens, Bytes: p.store.Bytes()}
	var countErr error
	if err != nil { // a damaged store: the check below says what is wrong
		countErr = fmt.Errorf("counting the corpus: %w", err)
	}
	if st.Identity, err = p.store.AllMeta(ctx); err != nil && !req.Verify {
		return st, err
	}
	if st.Identity == nil {
		st.Identity = map[string]string{}
	}
	if id, err := c.Identity(ctx); err == nil {
		st.Identity["embedder"], st.Identity["dimension"] = id.Embedder, fmt.Sprint(id.Dim)
	} else if !req.Verify {
		return st, err
	}
	for k, v := range c.Describe() {
		st.Identity[k] = v
	}
	switch {
	case req.Verify:
		st.Check, st.Problems = "full", p.check(ctx, c)
		if countErr != nil {
			st.Problems = append([]string{countErr.Error()}, st.Problems...)
		}
	case req.Quick:
		st.Check = "skipped"
		if ran, found := p.QuickCheck(ctx, st.Chunks); ran {
			st.Check = "quick"
			if len(found) > 0 {
				st.Problems = found
			}
		}
	}
	if req.Documents {
		if st.DocumentList, err = c.Documents(ctx, ""); err != nil {
			return st, err
		}
		if st.DocumentList == nil {
			st.DocumentList = []corpus.DocumentInfo{}
		}
	}
	return st, nil
}

// Documents lists the corpus's documents under prefix.
func (p *Project) Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return nil, err
	}
	return c.Documents(ctx, prefix)
}

// DeleteDocument deletes the document with that ID; false if none.
func (p *Project) DeleteDocument(ctx context.Context, id string) (bool, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return false, err
	}
	return corpus.DeleteByID(ctx, c, id)
}

// check runs the corpus's consistency check, turning a check that cannot
// run into a problem to report, so a damaged store is described, not
// refused.
func (p *Project) check(ctx context.Context, c corpus.Corpus) []string {
	problems, err := c.Verify(ctx)
	if err != nil {
		problems = append(problems, "the check could not finish: "+err.Error())
	}
	if problems == nil {
		problems = []string{}
	}
	return problems
}

// QuickCheckLimit is the largest corpus (in chunks) that QuickCheck
// checks: about half a second on two cores. Larger ones are checked by
// `status --verify`.
const QuickCheckLimit = 5000

// QuickCheck checks a corpus of up to QuickCheckLimit chunks without
// being asked, so that a damaged index is noticed by the next status or
// ingest; it reports whether it ran and what it found.
func (p *Project) QuickCheck(ctx context.Context, chunks int) (bool, []string) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return false, nil
	}
	if _, ok := c.(corpus.Repairer); !ok || chunks > QuickCheckLimit {
		return false, nil // a cluster checks itself; a large store on demand
	}
	return true, p.check(ctx, c)
}

// Repair rebuilds the corpus's derived indexes from its chunks.
func (p *Project) Repair(ctx context.Context) error {
	c, err := p.Corpus(ctx)
	if err != nil {
		return err
	}
	return corpus.Repair(ctx, c)
}

// Document reads one document back with its chunks.
func (p *Project) Document(ctx context.Context, path string) (corpus.Document, error) {
	c, err := p.Corpus(ctx)
	if err != nil {
		return corpus.Document{}, err
	}
	return c.Document(ctx, path)
}

// WriteText writes the status for a person, with where the store and its
// configuration are.
func (st Status) WriteText(w io.Writer, storeDir, configFile string) {
	fmt.Fprintf(w, "store      %s (%s on disk)\n", storeDir, humanize.IBytes(uint64(max(st.Bytes, 0))))
	if configFile != "" {
		fmt.Fprintf(w, "config     %s\n", configFile)
	}
	if st.Identity["backend"] == "weaviate" {
		fmt.Fprintf(w, "corpus     weaviate at %s (%s; consistency %s)\n", st.Identity["weaviate"], st.Identity["collections"], st.Identity["consistency"])
	}
	fmt.Fprintf(w, "documents  %d\nchunks     %d (%d tokens)\n", st.Documents, st.Chunks, st.Tokens)
	fmt.Fprintf(w, "lexical    %s\nembedder   %s (dimension %s)\n", st.Identity["lexical"], st.Identity["embedder"], st.Identity["dimension"])
	for _, d := range st.DocumentList {
		fmt.Fprintf(w, "  %-50s %-8s %4d chunks  %s\n", d.Path, d.Format, d.Chunks, humanize.IBytes(uint64(max(d.Size, 0))))
	}
	switch {
	case st.Check == "skipped":
		fmt.Fprintf(w, "check      not run (over %d chunks: ragtune status --verify checks the whole store)\n", QuickCheckLimit)
	case st.Check == "full" && len(st.Problems) == 0:
		fmt.Fprintln(w, "check      ok (integrity, full-text and keyword indexes, chunk counts, vectors)")
	case len(st.Problems) > 0:
		fmt.Fprintln(w, "check      damaged; ragtune store repair rebuilds the indexes")
	}
	for _, p := range st.Problems {
		fmt.Fprintf(w, "problem    %s\n", p)
	}
}
