package server

import (
	"net/http"

	"github.com/ragtune/ragtune/internal/ingest"
)

// IngestActivity records and reports a collection's ingest rounds: its
// watched folders, crawled sites and uploads. An *ingest.Tracker is one.
type IngestActivity interface {
	// Begin records that a round of the source starts; the function it
	// returns records the round's end.
	Begin(kind ingest.SourceKind, source string) func(*ingest.Report, error)
	// Sources is every source's status.
	Sources() []ingest.SourceStatus
}

// ingestStatus answers GET /v1/ingest/status: what each source of the
// collection is doing and what its last round did; no sources when the
// server tracks none.
func (s *Server) ingestStatus(w http.ResponseWriter, r *http.Request) {
	sources := []ingest.SourceStatus{}
	if a := backendOf(r.Context()).Activity; a != nil {
		sources = a.Sources()
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"sources": sources})
}
