package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/server"
)

func (a *app) serveCommand() *cobra.Command {
	var (
		addr        string
		insecure    bool
		maxBody     int64
		rate        float64
		burst       int
		answerSec   int
		ingestRoot  string
		name        string
		collections []string
	)
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if insecure && !isLoopback(addr) {
				return usagef("--insecure-local is only allowed on a loopback address, not %s", addr)
			}
			root, err := filepath.Abs(ingestRoot)
			if err != nil {
				return err
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			configs := map[string]config.Config{name: cfg}
			for _, c := range collections {
				n, path, ok := strings.Cut(c, "=")
				if !ok || n == "" || path == "" {
					return usagef("--collection %q: want NAME=path/to/ragtune.toml", c)
				}
				if _, dup := configs[n]; dup {
					return usagef("collection %q is named twice", n)
				}
				if configs[n], err = config.Load(path, true, a.environ); err != nil {
					return err
				}
			}
			backends := map[string]server.Backend{}
			keys := 0
			for n, c := range configs {
				if err := c.Validate(); err != nil {
					return usageError{fmt.Errorf("collection %s: %w", n, err)}
				}
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
			if !insecure && keys == 0 {
				return fmt.Errorf("no API keys: create one with `ragtune keys add NAME --scope read`, or use --insecure-local on loopback")
			}
			srv := server.NewMulti(backends, name, server.Options{Insecure: insecure, MaxBody: maxBody, RateLimit: rate,
				RateBurst: burst, AnswerLimit: time.Duration(answerSec) * time.Second, Log: a.log})
			return a.listen(cmd.Context(), addr, srv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.BoolVar(&insecure, "insecure-local", false, "no API keys (loopback addresses only)")
	f.Int64Var(&maxBody, "max-body", 1<<20, "largest request body in bytes")
	f.Float64Var(&rate, "rate", 20, "requests per second per key (0 = unlimited)")
	f.IntVar(&burst, "burst", 40, "requests a key may make at once")
	f.IntVar(&answerSec, "answer-timeout", 120, "longest an answer may take, in seconds")
	f.StringVar(&ingestRoot, "ingest-root", ".", "POST /v1/ingest may name paths inside this directory only")
	f.StringVar(&name, "name", server.DefaultCollection, "collection name of this project's store")
	f.StringSliceVar(&collections, "collection", nil, "serve another project's store too: NAME=path/to/ragtune.toml (repeatable); its keys open only it")
	return cmd
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

// listen serves until ctx ends, then shuts down gracefully: no new
// connections, in-flight requests and streams get up to 30 s to finish.
func (a *app) listen(ctx context.Context, addr string, srv *server.Server) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	a.log.Info("serving", "addr", ln.Addr().String())
	fmt.Fprintf(a.stderr, "ragtune serving on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = hs.Shutdown(shut)
	srv.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
