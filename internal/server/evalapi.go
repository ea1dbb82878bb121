package server

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ragtune/ragtune/internal/advise"
	"github.com/ragtune/ragtune/internal/evaluate"
	"github.com/ragtune/ragtune/internal/store"
)

// Read-only views of a collection's evaluation history and of the
// fine-tune-or-RAG decision, for the web UI: GET /v1/eval/runs lists the
// stored runs, GET /v1/eval/runs/{id} is one run with its per-query
// scores, GET /v1/eval/runs/{id}/report its HTML report, GET
// /v1/eval/diff?a=&b= compares two runs, and GET /v1/advise is the
// decision (JSON, or its HTML page with ?format=html).

// Churner measures how often a collection's documents change, from its
// ingest history; a *project.Project is one.
type Churner interface {
	// Churn is nil when the history is too short to tell.
	Churn(ctx context.Context) (*advise.Churn, error)
}

// Bounds of the evaluation API.
const (
	defaultRunPage = 50
	maxRunPage     = 500
	// adviseRuns bounds the stored runs the decision reads for evidence,
	// as `ragtune advise` does.
	adviseRuns = 200
)

// runSummary is a stored run as the API shows it: the server's file
// paths stay on the server.
type runSummary struct {
	ID        string             `json:"id"`
	CreatedAt time.Time          `json:"created_at"`
	Kind      string             `json:"kind"`
	Dataset   string             `json:"dataset"`
	Primary   string             `json:"primary_metric"`
	Config    map[string]any     `json:"config"`
	Metrics   map[string]float64 `json:"metrics"`
	Queries   int                `json:"queries,omitempty"` // when the per-query scores were read
}

// summarise is a run as listed; its paths were scrubbed as it was read
// (publicRuns).
func summarise(r evaluate.Record) runSummary {
	return runSummary{ID: r.ID, CreatedAt: r.CreatedAt, Kind: r.Kind, Dataset: r.Dataset, Primary: evaluate.PrimaryMetric(r.Kind),
		Config: r.Config, Metrics: r.Metrics, Queries: len(r.PerQuery)}
}

// queryRow is one query of a run with its scores.
type queryRow struct {
	ID     string             `json:"id"`
	Text   string             `json:"text,omitempty"`
	Scores map[string]float64 `json:"scores"`
}

// runStore is the collection's eval history, or a 404 when it has none.
func runStore(w http.ResponseWriter, b *Backend) (evaluate.RunStore, bool) {
	if b.Runs == nil {
		writeError(w, http.StatusNotFound, "this collection keeps no eval history")
		return nil, false
	}
	return b.Runs, true
}

// evalRuns lists stored runs, newest first (?limit=, 50 by default).
func (s *Server) evalRuns(w http.ResponseWriter, r *http.Request) {
	st, ok := runStore(w, backendOf(r.Context()))
	if !ok {
		return
	}
	limit := defaultRunPage
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxRunPage {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be 1 to %d, not %q", maxRunPage, raw))
			return
		}
		limit = n
	}
	recs, err := evaluate.ListRecords(r.Context(), st, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("reading the eval history: %v", err))
		return
	}
	runs := make([]runSummary, 0, len(recs))
	for _, rec := range recs {
		runs = append(runs, summarise(rec))
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// loadRun reads the run named in the path (or by another parameter),
// answering 404 itself when there is none.
func loadRun(w http.ResponseWriter, r *http.Request, st evaluate.RunStore, id string) (evaluate.Record, bool) {
	if id == "" {
		writeError(w, http.StatusBadRequest, "name a run by its id")
		return evaluate.Record{}, false
	}
	rec, err := evaluate.LoadRecord(r.Context(), st, id)
	switch {
	case errors.Is(err, store.ErrNoRun):
		writeError(w, http.StatusNotFound, err.Error())
		return rec, false
	case errors.Is(err, store.ErrAmbiguousRun):
		writeError(w, http.StatusBadRequest, err.Error())
		return rec, false
	case err != nil:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("reading run %s: %v", id, err))
		return rec, false
	}
	return rec, true
}

// evalRun is one run: its settings, metrics and per-query scores.
func (s *Server) evalRun(w http.ResponseWriter, r *http.Request) {
	st, ok := runStore(w, backendOf(r.Context()))
	if !ok {
		return
	}
	rec, ok := loadRun(w, r, st, r.PathValue("id"))
	if !ok {
		return
	}
	texts := evaluate.QueryTexts(rec)
	rows := make([]queryRow, 0, len(rec.PerQuery))
	for id, scores := range rec.PerQuery {
		rows = append(rows, queryRow{ID: id, Text: texts[id], Scores: scores})
	}
	primary := evaluate.PrimaryMetric(rec.Kind)
	// Worst first: the queries to look at.
	sortRows(rows, primary)
	writeJSON(w, http.StatusOK, map[string]any{"run": summarise(rec), "queries": rows})
}

func sortRows(rows []queryRow, metric string) {
	slices.SortFunc(rows, func(a, b queryRow) int {
		if c := cmp.Compare(a.Scores[metric], b.Scores[metric]); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// evalRunReport is a run's report as the self-contained HTML page `eval
// run --report` writes, rebuilt from the stored run.
func (s *Server) evalRunReport(w http.ResponseWriter, r *http.Request) {
	st, ok := runStore(w, backendOf(r.Context()))
	if !ok {
		return
	}
	rec, ok := loadRun(w, r, st, r.PathValue("id"))
	if !ok {
		return
	}
	var page bytes.Buffer
	if err := evaluate.WriteRunHTML(&page, evaluate.RecordReport(rec, evaluate.QueryTexts(rec))); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("drawing the report: %v", err))
		return
	}
	writeReportHTML(w, page.Bytes())
}

// writeReportHTML serves a generated report page: no scripts, and never
// framed except by this server's own pages.
func writeReportHTML(w http.ResponseWriter, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	w.Write(page)
}

// evalDiff compares run a with run b: settings that changed, every
// metric, the queries that flipped and the paired test (?metric= picks
// the per-query metric).
func (s *Server) evalDiff(w http.ResponseWriter, r *http.Request) {
	st, ok := runStore(w, backendOf(r.Context()))
	if !ok {
		return
	}
	q := r.URL.Query()
	var recs [2]evaluate.Record
	for i, name := range []string{"a", "b"} {
		if recs[i], ok = loadRun(w, r, st, q.Get(name)); !ok {
			return
		}
	}
	d := evaluate.DiffWithTexts(recs[0], recs[1], q.Get("metric"))
	writeJSON(w, http.StatusOK, map[string]any{"diff": d, "runs": [2]runSummary{summarise(recs[0]), summarise(recs[1])}})
}

// adviseAnswer reads a yes|no parameter; set is false when absent.
func adviseAnswer(q map[string][]string, name string) (val, set bool, err error) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = strings.ToLower(strings.TrimSpace(vs[0]))
	}
	switch v {
	case "":
		return false, false, nil
	case "yes", "true", "y":
		return true, true, nil
	case "no", "false", "n":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%s must be yes or no, not %q", name, v)
}

// adviseFigures are the numeric parameters of GET /v1/advise.
func adviseFigures(q map[string][]string, wl *advise.Workload) error {
	for name, v := range map[string]*float64{"monthly_requests": &wl.MonthlyRequests, "prompt_tokens": &wl.PromptTokens,
		"context_tokens": &wl.ContextTokens, "output_tokens": &wl.OutputTokens} {
		vs := q[name]
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		x, err := strconv.ParseFloat(vs[0], 64)
		if err != nil || x < 0 || x > 1e12 {
			return fmt.Errorf("%s must be a number from 0 to 1e12, not %q", name, vs[0])
		}
		*v = x
	}
	return nil
}

// adviseRequest builds the decision's request from the query string
// (knowledge_changes, behavior_change, attribution: yes|no;
// monthly_requests and token counts; run: a stored QA run) and what the
// collection holds: its ingest history, eval runs and prepared data.
func (s *Server) adviseRequest(r *http.Request, b *Backend) (advise.Request, int, error) {
	q := r.URL.Query()
	req := advise.Request{Workload: advise.DefaultWorkload(), Prices: advise.DefaultPrices()}
	if err := adviseFigures(q, &req.Workload); err != nil {
		return req, http.StatusBadRequest, err
	}
	var ans [3]bool
	var set [3]bool
	for i, name := range []string{"knowledge_changes", "behavior_change", "attribution"} {
		var err error
		if ans[i], set[i], err = adviseAnswer(q, name); err != nil {
			return req, http.StatusBadRequest, err
		}
	}
	if b.Churn != nil {
		churn, err := b.Churn.Churn(r.Context())
		if err != nil {
			s.opts.Log.Warn("reading the ingest history", "err", err)
		}
		req.Churn = churn
	}
	req.Sources = advise.Sources{Knowledge: advise.SourcePrompt, Behaviour: advise.SourcePrompt, Attribution: advise.SourcePrompt}
	var given *bool
	if set[0] {
		given = &ans[0]
	}
	if val, ok, note := advise.KnowledgeFromChurn(req.Churn, given); ok {
		if !set[0] {
			req.Sources.Knowledge = advise.SourceHistory
		}
		ans[0], set[0] = val, true
		if note != "" {
			req.Notes = append(req.Notes, note)
		}
	}
	for i, name := range []string{"knowledge_changes", "behavior_change", "attribution"} {
		if !set[i] {
			return req, http.StatusBadRequest, fmt.Errorf("answer %s=yes|no (the ingest history is too short to tell for knowledge_changes)", name)
		}
	}
	req.Answers = advise.Answers{KnowledgeChanges: ans[0], BehaviourChange: ans[1], Attribution: ans[2]}
	if b.Runs != nil {
		var chosen *evaluate.Record
		if id := q.Get("run"); id != "" {
			rec, err := evaluate.LoadRecord(r.Context(), b.Runs, id)
			if errors.Is(err, store.ErrNoRun) {
				return req, http.StatusNotFound, err
			} else if err != nil {
				return req, http.StatusInternalServerError, fmt.Errorf("reading run %s: %w", id, err)
			}
			chosen = &rec
		}
		ev, qa, err := advise.GatherEvidence(r.Context(), advise.EvidenceRequest{Runs: b.Runs, Chosen: chosen, Limit: adviseRuns})
		if err != nil {
			return req, http.StatusInternalServerError, fmt.Errorf("reading the eval runs: %w", err)
		}
		req.Evidence = &ev
		if qa != nil {
			req.Measured = advise.FromEval(qa.ID, qa.Metrics, &req.Workload)
			if chosen == nil {
				req.Notes = append(req.Notes, fmt.Sprintf("measured by the newest stored QA run, %s (%s, %s)",
					qa.ID, qa.Dataset, qa.CreatedAt.UTC().Format("2006-01-02")))
			}
		}
	}
	if b.ProjectDir != "" {
		path := filepath.Join(b.ProjectDir, advise.PreparedFile)
		if _, err := os.Stat(path); err == nil {
			prep, err := advise.ReadPrepared(path)
			if err != nil {
				s.opts.Log.Warn("ignoring the prepared-data report", "err", err)
			}
			req.Prepared = prep
		}
	}
	return req, 0, nil
}

// adviseHandler is the decision: the typed report with the cost chart
// as SVG, or with ?format=html the decision page `advise --report`
// writes.
func (s *Server) adviseHandler(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	req, code, err := s.adviseRequest(r, b)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	rep := advise.Advise(req)
	if r.URL.Query().Get("format") == "html" {
		var page bytes.Buffer
		if err := advise.WriteDecisionHTML(&page, rep, advise.PageInfo{Project: "collection " + collectionName(s, b), Made: time.Now()}); err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("drawing the decision page: %v", err))
			return
		}
		writeReportHTML(w, page.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": rep, "chart_svg": advise.SVG(rep.Workload, rep.Prices)})
}

// collectionName is the name b is served under.
func collectionName(s *Server, b *Backend) string {
	for name, c := range s.collections {
		if c == b {
			return name
		}
	}
	return s.def
}

// session tells the web UI what the key may do here: its name, its
// scopes, and which features the collection has on.
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	b := backendOf(r.Context())
	info := infoOf(r.Context()) // admit checked the key once already
	name, scopes, collection := info.keyName, info.scopes, info.collection
	if s.opts.Insecure {
		name, scopes = "", []string{"read", "write", "admin"}
	}
	if collection == "" {
		collection = collectionName(s, b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": name, "scopes": scopes, "collection": collection,
		"feedback": b.Feedback != nil, "ingest": b.Ingest, "eval_history": b.Runs != nil, "ingest_status": b.Activity != nil})
}
