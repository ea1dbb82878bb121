package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/sqlitedb"
)

// ingest takes either a JSON body {"path": "dir/inside/root", "tags": [...]}
// naming files already on the server under the allowed root, or a
// multipart upload of files (form field "file", repeatable), which are
// saved in the upload directory and ingested from there.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	// The ingest stops when the client leaves or the server shuts down.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	r = r.WithContext(ctx)
	b := backendOf(r.Context())
	if !b.Ingest {
		writeError(w, http.StatusNotFound, "ingest over HTTP is off on this server")
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		s.ingestUpload(w, r, b)
		return
	}
	var req struct {
		Path string   `json:"path"`
		Tags []string `json:"tags"`
	}
	if !decode(w, r, &req) {
		return
	}
	path, err := within(b.IngestRoot, req.Path)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := b.Collection.IngestPath(r.Context(), path, req.Tags)
	if err != nil {
		s.ingestFailed(w, rep, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// within resolves rel under root, refusing anything that leaves it,
// through ".." or through a symlink.
func within(root, rel string) (string, error) {
	if root == "" {
		return "", errors.New("no ingest root is configured on this server")
	}
	if rel == "" || filepath.IsAbs(rel) {
		return "", fmt.Errorf("path %q must be relative to the server's ingest root", rel)
	}
	if c := filepath.Clean(rel); c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q is outside the ingest root", rel)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("ingest root: %w", err)
	}
	p := filepath.Join(realRoot, rel)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", rel, errors.Unwrap(err))
	}
	if r, err := filepath.Rel(realRoot, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q is outside the ingest root", rel)
	}
	return real, nil
}

func (s *Server) ingestUpload(w http.ResponseWriter, r *http.Request, b *Backend) {
	if b.UploadDir == "" {
		writeError(w, http.StatusNotFound, "uploads are off on this server")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed upload: "+err.Error())
		return
	}
	if err := os.MkdirAll(b.UploadDir, 0o755); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	var saved []string
	var tags []string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeUploadError(w, err)
			return
		}
		if part.FormName() == "tags" {
			b, _ := io.ReadAll(io.LimitReader(part, 4096))
			json.Unmarshal(b, &tags)
			continue
		}
		name := part.FileName()
		if part.FormName() != "file" || name == "" {
			continue
		}
		if name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("file name %q may not contain a path or start with a dot", name))
			return
		}
		dst := filepath.Join(b.UploadDir, name)
		if err := saveFile(dst, part); err != nil {
			writeUploadError(w, err)
			return
		}
		saved = append(saved, dst)
	}
	if len(saved) == 0 {
		writeError(w, http.StatusBadRequest, `no files in the upload (form field "file")`)
		return
	}
	end := func(*ingest.Report, error) {}
	if b.Activity != nil {
		end = b.Activity.Begin(ingest.KindUpload, b.UploadDir)
	}
	total := &ingest.Report{Files: []ingest.Result{}}
	var reports []any
	for _, p := range saved {
		rep, err := b.Collection.IngestPath(r.Context(), p, tags)
		if rep != nil {
			total.Merge(rep)
		}
		if err != nil {
			os.Remove(p)
			end(total, err)
			s.ingestFailed(w, rep, err)
			return
		}
		// An upload that was not stored (unsupported, unreadable) is not kept.
		if rep.Added+rep.Updated+rep.Unchanged == 0 {
			os.Remove(p)
		}
		reports = append(reports, rep)
	}
	end(total, nil)
	writeJSON(w, http.StatusOK, map[string]any{"files": len(saved), "reports": reports})
}

func writeUploadError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload over %d bytes", tooBig.Limit))
		return
	}
	writeError(w, http.StatusBadRequest, "upload failed: "+err.Error())
}

// saveFile writes through a temporary file, so a failed upload leaves
// nothing half-written.
func saveFile(dst string, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// ingestFailed answers an ingest that did not finish: stopped by the
// shutdown (503 with Retry-After: what was ingested is kept), cut short
// by the client (499), or refused (400).
func (s *Server) ingestFailed(w http.ResponseWriter, rep *ingest.Report, err error) {
	switch {
	case errors.Is(err, ingest.ErrInterrupted) && s.stopping.Err() != nil:
		done := 0
		if rep != nil {
			done = rep.Added + rep.Updated + rep.Unchanged
		}
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"the server is shutting down: ingest interrupted after %d files; what was ingested is kept, send the request again to finish", done))
	case errors.Is(err, ingest.ErrInterrupted):
		writeError(w, statusClientClosed, err.Error())
	case errors.Is(err, sqlitedb.ErrReadOnly):
		writeError(w, http.StatusServiceUnavailable, "the server may read its store but not write it: "+err.Error())
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}
