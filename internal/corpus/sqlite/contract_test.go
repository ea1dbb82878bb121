package sqlite

import (
	"testing"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/corpus/corpustest"
)

func TestContract(t *testing.T) {
	corpustest.Run(t, func(t *testing.T) corpus.Corpus {
		c, err := Create(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}
