package retrieve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ragtune/ragtune/internal/corpus"
)

// ErrBadRequest marks a query that cannot run as asked.
var ErrBadRequest = errors.New("bad query")

// Request is a query as a user writes it, on the command line or in an
// HTTP body: zero K and empty Mode mean the project's defaults.
type Request struct {
	Text       string
	K          int
	Mode       string
	PathPrefix string
	Tags       []string
}

// Defaults are what a Request leaves out, and its bound.
type Defaults struct {
	Mode Mode
	K    int
	MaxK int // the most chunks a query may ask for; 0 for no bound
}

// Query checks the request and fills in the defaults: the one place the
// CLI and the server turn what a user asked into a Query. Tags are
// normalised as documents' tags are.
func (r Request) Query(d Defaults) (Query, error) {
	if strings.TrimSpace(r.Text) == "" {
		return Query{}, fmt.Errorf("%w: the query is empty", ErrBadRequest)
	}
	mode := d.Mode
	if mode == "" {
		mode = Lexical
	}
	if r.Mode != "" {
		m, err := ParseMode(r.Mode)
		if err != nil {
			return Query{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		mode = m
	}
	k := r.K
	if k <= 0 {
		k = d.K
	}
	if k <= 0 {
		k = DefaultK
	}
	if d.MaxK > 0 && k > d.MaxK {
		return Query{}, fmt.Errorf("%w: k must be at most %d", ErrBadRequest, d.MaxK)
	}
	return Query{Text: r.Text, K: k, Mode: mode, PathPrefix: r.PathPrefix, Tags: corpus.NormalizeTags(r.Tags)}, nil
}
