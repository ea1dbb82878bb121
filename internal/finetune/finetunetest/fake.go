// Package finetunetest provides a fake of OpenAI's files and fine-tuning
// API for tests: the real JSON shapes, jobs that walk through their
// states, paginated events.
package finetunetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Fake implements the files and fine-tuning endpoints with
// OpenAI's JSON shapes. Each GET of a job moves it one state along its
// script; events come back newest first, two per page.
// Fake is the fake provider; serve it with httptest.NewServer.
type Fake struct {
	mu      sync.Mutex
	Files   map[string]string // id → uploaded content
	scripts map[string][]string
	step    map[string]int
	model   map[string]string
	method  map[string]map[string]any
	// Created holds the body of every job-creation request, in order.
	Created []map[string]any
}

// New returns an empty fake.
func New() *Fake {
	return &Fake{Files: map[string]string{}, scripts: map[string][]string{}, step: map[string]int{}, model: map[string]string{}, method: map[string]map[string]any{}}
}

func (f *Fake) jobJSON(id string) map[string]any {
	st := f.scripts[id][f.step[id]]
	j := map[string]any{"id": id, "object": "fine_tuning.job", "created_at": 1700000000, "model": f.model[id], "organization_id": "org",
		"status": st, "fine_tuned_model": nil, "finished_at": nil, "result_files": []string{}, "seed": 7, "trained_tokens": nil,
		"training_file": "file-1", "validation_file": nil, "hyperparameters": map[string]any{"n_epochs": "auto"}, "error": nil, "method": f.method[id]}
	switch st {
	case "succeeded":
		j["fine_tuned_model"], j["trained_tokens"] = "ft:"+f.model[id]+":ragtune:abc", 1234
	case "failed":
		j["error"] = map[string]any{"code": "invalid_training_file", "message": "line 3 has no assistant message", "param": "training_file"}
	case "failed_dpo":
		j["status"] = "failed"
		j["error"] = map[string]any{"code": "invalid_training_file", "message": "DPO training needs preferred_output and non_preferred_output on every line", "param": "training_file"}
	}
	return j
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	switch {
	case r.Method == "POST" && r.URL.Path == "/v1/files":
		file, _, err := r.FormFile("file")
		if err != nil || r.FormValue("purpose") != "fine-tune" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"bad upload"}}`)
			return
		}
		b, _ := io.ReadAll(file)
		id := fmt.Sprintf("file-%d", len(f.Files)+1)
		f.Files[id] = string(b)
		enc.Encode(map[string]any{"id": id, "object": "file", "bytes": len(b), "created_at": 1, "filename": "train.jsonl", "purpose": "fine-tune", "status": "processed"})
	case r.Method == "POST" && r.URL.Path == "/v1/fine_tuning/jobs":
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		id := fmt.Sprintf("ftjob-%d", len(f.scripts)+1)
		f.model[id] = body["model"].(string)
		f.Created = append(f.Created, body)
		f.method[id] = map[string]any{"type": "supervised", "supervised": map[string]any{"hyperparameters": map[string]any{"n_epochs": "auto"}}}
		if m, ok := body["method"].(map[string]any); ok {
			f.method[id] = m
		}
		trainFile, _ := body["training_file"].(string)
		switch {
		case f.method[id]["type"] == "dpo" && !strings.Contains(f.Files[trainFile], "preferred_output"):
			f.scripts[id] = []string{"validating_files", "failed_dpo"}
		case body["suffix"] == "broken":
			f.scripts[id] = []string{"validating_files", "failed"}
		default:
			f.scripts[id] = []string{"validating_files", "queued", "running", "some_new_status", "succeeded"}
		}
		enc.Encode(f.jobJSON(id))
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/fine_tuning/jobs/") && strings.HasSuffix(r.URL.Path, "/events"):
		events := []map[string]any{}
		for i := 5; i >= 1; i-- { // newest first
			events = append(events, map[string]any{"id": fmt.Sprintf("ev-%d", i), "object": "fine_tuning.job.event", "created_at": 1700000000 + i, "level": "info", "message": fmt.Sprintf("step %d", i), "type": "message"})
		}
		start := 0
		if after := r.URL.Query().Get("after"); after != "" {
			for i, e := range events {
				if e["id"] == after {
					start = i + 1
				}
			}
		}
		end := min(start+2, len(events))
		enc.Encode(map[string]any{"object": "list", "data": events[start:end], "has_more": end < len(events)})
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/fine_tuning/jobs/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/fine_tuning/jobs/")
		if f.step[id] < len(f.scripts[id])-1 {
			f.step[id]++
		}
		enc.Encode(f.jobJSON(id))
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/cancel"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/fine_tuning/jobs/"), "/cancel")
		f.scripts[id] = append(f.scripts[id][:f.step[id]+1], "cancelled")
		f.step[id]++
		enc.Encode(f.jobJSON(id))
	default:
		http.NotFound(w, r)
	}
}
