package finetune

import (
	"fmt"
	"path/filepath"

	"github.com/ragtune/ragtune/internal/chunk"
)

// FileRequest is the preparation of one examples file.
type FileRequest struct {
	Path   string // the examples file
	System string // system prompt for question/answer pairs
	// Out is where the training files go; "" for finetune/ beside Path.
	Out         string
	DropInvalid bool // write the valid examples even when some lines have problems
	Options     Options
	// Rewrite, when set, changes the examples after reading (RAFT puts
	// retrieved context in them); a note it returns becomes a warning.
	Rewrite func([]Example) ([]Example, string, error)
}

// PrepareFile reads, checks, counts and prices the examples of a file
// and writes the training files when every line is sound (or when
// DropInvalid is set: the valid ones). The report lists every problem;
// writing nothing because of them is not an error.
func PrepareFile(req FileRequest) (*Report, error) {
	exs, problems, err := Read(req.Path, req.System)
	if err != nil {
		return nil, err
	}
	var note string
	if req.Rewrite != nil {
		if exs, note, err = req.Rewrite(exs); err != nil {
			return nil, err
		}
	}
	tok, err := chunk.NewTiktokenCounter(EncodingFor(req.Options.Model))
	if err != nil {
		return nil, err
	}
	rep, train, val := Prepare(exs, problems, tok, req.Options)
	if note != "" {
		rep.Warnings = append(rep.Warnings, note)
	}
	failed := len(rep.Errors) > 0
	if failed && !req.DropInvalid {
		return rep, nil
	}
	out := req.Out
	if out == "" {
		out = filepath.Join(filepath.Dir(req.Path), "finetune")
	}
	if rep.Valid > 0 {
		if rep.Files, err = Write(out, train, val, req.Options.Model); err != nil {
			return nil, err
		}
	}
	if failed {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d problem(s) dropped; wrote the %d valid examples", len(rep.Errors), rep.Valid))
	}
	return rep, nil
}
