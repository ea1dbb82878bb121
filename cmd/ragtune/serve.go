package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/server"
)

// serveOptions are serve's flags.
type serveOptions struct {
	addr, ingestRoot, name string
	insecure               bool
	maxBody                int64
	rate                   float64
	burst, answerSec       int
	collections            []string
}

func (a *app) serveCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API: search, ask (with SSE streaming), documents, OpenAI-compatible endpoints",
		Long: `serve answers over HTTP:

  POST /v1/search, POST /v1/ask (add ?stream=true for Server-Sent Events:
  token, citation, abstain, usage, done, error), GET /v1/documents,
  DELETE /v1/documents/{id}, GET /healthz, GET /metrics (Prometheus), and an
  OpenAI-compatible POST /v1/chat/completions (model "ragtune" or
  "ragtune/{lexical,dense,hybrid}") and POST /v1/embeddings.

Every /v1 request needs "Authorization: Bearer <key>" from 'ragtune keys add'.
--insecure-local turns keys off, and is accepted only on a loopback address.

One server can serve several projects' stores as collections
(--collection hr=/srv/hr/ragtune.toml). Keys live in each store, so a key
opens only its own collection; pick one with ?collection=NAME, or leave it
out to get the only collection a key opens.`,
		Example: `  ragtune keys add laptop --scope read,write
  ragtune serve --addr 127.0.0.1:8080
  ragtune serve --insecure-local
  ragtune serve --name eng --collection hr=/srv/hr/ragtune.toml
  curl -N -H "Authorization: Bearer $KEY" -d '{"question":"How do I rotate keys?"}' 'localhost:8080/v1/ask?stream=true'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.serve(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.BoolVar(&o.insecure, "insecure-local", false, "no API keys (loopback addresses only)")
	f.Int64Var(&o.maxBody, "max-body", 1<<20, "largest request body in bytes")
	f.Float64Var(&o.rate, "rate", 20, "requests per second per key (0 = unlimited)")
	f.IntVar(&o.burst, "burst", 40, "requests a key may make at once")
	f.IntVar(&o.answerSec, "answer-timeout", 120, "longest an answer may take, in seconds")
	f.StringVar(&o.ingestRoot, "ingest-root", ".", "POST /v1/ingest may name paths inside this directory only")
	f.StringVar(&o.name, "name", server.DefaultCollection, "collection name of this project's store")
	f.StringSliceVar(&o.collections, "collection", nil, "serve another project's store too: NAME=path/to/ragtune.toml (repeatable); its keys open only it")
	return cmd
}

func (a *app) serve(cmd *cobra.Command, o serveOptions) error {
	if o.insecure && !server.IsLoopback(o.addr) {
		return usagef("--insecure-local is only allowed on a loopback address, not %s", o.addr)
	}
	root, err := filepath.Abs(o.ingestRoot)
	if err != nil {
		return err
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	configs, err := config.Collections(o.name, cfg, o.collections, a.environ)
	if errors.Is(err, config.ErrBadCollection) {
		return usageError{err}
	} else if err != nil {
		return err
	}
	backends := map[string]server.Backend{}
	keys := 0
	for n, c := range configs {
		p, err := a.openProject(cmd, c)
		if err != nil {
			return fmt.Errorf("collection %s: %w", n, err)
		}
		defer p.Close()
		ks, err := p.Store().APIKeys(cmd.Context())
		if err != nil {
			return err
		}
		keys += len(ks)
		if backends[n], err = backend(p, root); err != nil {
			return fmt.Errorf("collection %s: %w", n, err)
		}
	}
	if !o.insecure && keys == 0 {
		return fmt.Errorf("no API keys: create one with `ragtune keys add NAME --scope read`, or use --insecure-local on loopback")
	}
	srv := server.NewMulti(backends, o.name, server.Options{Insecure: o.insecure, MaxBody: o.maxBody, RateLimit: o.rate,
		RateBurst: o.burst, AnswerLimit: time.Duration(o.answerSec) * time.Second, Log: a.log})
	return srv.ListenAndServe(cmd.Context(), o.addr, func(bound string) {
		a.log.Info("serving", "addr", bound)
		fmt.Fprintf(a.stderr, "ragtune serving on http://%s\n", bound)
	})
}

// backend serves one collection's project. Each mode's retriever (which
// loads the embedding model and the query adapter) is built once by the
// project and shared by all requests; a newly trained or toggled adapter
// is picked up on restart.
func backend(p *project.Project, ingestRoot string) (server.Backend, error) {
	cfg := p.Config()
	mode, err := cfg.Retrieve.ModeValue()
	if err != nil {
		return server.Backend{}, err
	}
	return server.Backend{Collection: p, Keys: p.Store(), Mode: mode, K: cfg.Retrieve.K,
		Ingest: true, IngestRoot: ingestRoot, UploadDir: filepath.Join(cfg.StoreDir(), "uploads")}, nil
}
