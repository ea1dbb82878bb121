package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/config"
	"github.com/ragtune/ragtune/internal/ingest"
	"github.com/ragtune/ragtune/internal/mcpserver"
	"github.com/ragtune/ragtune/internal/project"
	"github.com/ragtune/ragtune/internal/server"
)

// serveOptions are serve's flags.
type serveOptions struct {
	addr, ingestRoot, name string
	tlsCert, tlsKey        string
	allowHosts             []string
	watch, crawl           []string
	crawlEvery             time.Duration
	insecure               bool
	maxBody, maxUpload     int64
	rate                   float64
	burst, maxConns        int
	answerSec, searchSec   int
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
  DELETE /v1/documents/{id}, GET /v1/ingest/status (what --watch, --crawl
  and uploads last did), GET /healthz, GET /metrics (Prometheus), and an
  OpenAI-compatible POST /v1/chat/completions (model "ragtune" or
  "ragtune/{lexical,dense,hybrid}") and POST /v1/embeddings.

With [feedback] enabled = true in ragtune.toml, every answer is recorded
and carries an interaction_id that the asking key rates with POST
/v1/feedback {"interaction_id","rating":"up"|"down","correction"?};
an admin key lists them with GET /v1/feedback. Off by default.

Every /v1 request needs "Authorization: Bearer <key>" from 'ragtune keys add'.
--insecure-local turns keys off, and is accepted only on a loopback address.

One server can serve several projects' stores as collections
(--collection hr=/srv/hr/ragtune.toml). Keys live in each store (in the
cluster on Weaviate, so every serve over it accepts them), so a key
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
	f.Int64Var(&o.maxBody, "max-body", 1<<20, "largest JSON request body in bytes")
	f.Int64Var(&o.maxUpload, "max-upload", 64<<20, "largest file upload to POST /v1/ingest in bytes")
	f.Float64Var(&o.rate, "rate", 200, "requests (and WebSocket questions) per second per key (0 = unlimited)")
	f.IntVar(&o.burst, "burst", 400, "requests a key may make at once")
	f.IntVar(&o.answerSec, "answer-timeout", 120, "longest an answer may take, in seconds")
	f.IntVar(&o.searchSec, "search-timeout", 30, "longest a search (with its query embedding) may take, in seconds; past it the answer is 504")
	f.IntVar(&o.maxConns, "max-conns", 1024, "open connections at most (WebSockets included); more wait to be accepted")
	f.StringSliceVar(&o.watch, "watch", nil, "keep the served project's index in step with this folder (repeatable): changes are ingested within a second")
	f.StringSliceVar(&o.crawl, "crawl", nil, "ingest this web page or sitemap at start and every --crawl-every (repeatable)")
	f.DurationVar(&o.crawlEvery, "crawl-every", time.Hour, "how often --crawl pages are fetched again (unchanged ones cost a 304)")
	f.StringSliceVar(&o.allowHosts, "allow-host", nil, "with --insecure-local: a host name, besides localhost, that requests may name (repeatable)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	f.StringVar(&o.ingestRoot, "ingest-root", ".", "POST /v1/ingest may name paths inside this directory only")
	f.StringVar(&o.name, "name", server.DefaultCollection, "collection name of this project's store")
	f.StringSliceVar(&o.collections, "collection", nil, "serve another project's store too: NAME=path/to/ragtune.toml (repeatable); its keys open only it")
	return cmd
}

func (a *app) serve(cmd *cobra.Command, o serveOptions) error {
	if o.insecure && !server.IsLoopback(o.addr) {
		return usagef("--insecure-local is only allowed on a loopback address, not %s", o.addr)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if err := mustExist(o.tlsCert, o.tlsKey); err != nil {
		return err
	}
	if o.tlsCert == "" && !server.IsLoopback(o.addr) {
		a.log.Warn("serving plain HTTP off loopback: API keys and answers cross the network unencrypted; use --tls-cert/--tls-key or a TLS reverse proxy", "addr", o.addr)
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
		keyStore, err := p.Keys(cmd.Context())
		if err != nil {
			return fmt.Errorf("collection %s: %w", n, err)
		}
		ks, err := keyStore.APIKeys(cmd.Context())
		if err != nil {
			return err
		}
		keys += len(ks)
		activity := ingest.NewTracker(c.Dir)
		if backends[n], err = backend(p, keyStore, root, activity); err != nil {
			return fmt.Errorf("collection %s: %w", n, err)
		}
		a.purgeFeedback(cmd, n, p)
		if n == o.name {
			if err := mustExist(o.watch...); err != nil {
				return err
			}
			a.follow(cmd, p, o, activity)
		}
	}
	if !o.insecure && keys == 0 {
		return fmt.Errorf("no API keys: create one with `ragtune keys add NAME --scope read`, or use --insecure-local on loopback")
	}
	srv := server.NewMulti(backends, o.name, server.Options{Insecure: o.insecure, MaxBody: o.maxBody, MaxUpload: o.maxUpload,
		RateLimit: o.rate, RateBurst: o.burst, AnswerLimit: time.Duration(o.answerSec) * time.Second, SearchLimit: time.Duration(o.searchSec) * time.Second, MaxConns: o.maxConns,
		TLSCert: o.tlsCert, TLSKey: o.tlsKey, AllowHosts: o.allowHosts, Log: a.serveLog()})
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	return srv.ListenAndServe(cmd.Context(), o.addr, func(bound string) {
		if a.jsonOut {
			a.printJSON(map[string]any{"serving": scheme + "://" + bound})
			return
		}
		fmt.Fprintf(a.stderr, "ragtune serving on %s://%s\n", scheme, bound)
	})
}

// backend serves one collection's project. Each mode's retriever (which
// loads the embedding model and the query adapter) is built once by the
// project and shared by all requests; a newly trained or toggled adapter
// is picked up on restart. Uploads and watch and crawl rounds are
// recorded in activity.
func backend(p *project.Project, keys server.Keys, ingestRoot string, activity *ingest.Tracker) (server.Backend, error) {
	cfg := p.Config()
	mode, err := cfg.Retrieve.ModeValue()
	if err != nil {
		return server.Backend{}, err
	}
	mcpServer := mcpserver.New(p, mcpserver.Options{Mode: mode, K: cfg.Retrieve.K, Version: version})
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpServer }, nil)
	b := server.Backend{Collection: p, Keys: keys, Mode: mode, K: cfg.Retrieve.K,
		Ingest: true, IngestRoot: ingestRoot, UploadDir: filepath.Join(cfg.StoreDir(), "uploads"), DocumentRoot: cfg.Dir,
		MCP: mcpHandler, Runs: p.Store(), Churn: p, ProjectDir: cfg.Dir, Activity: activity}
	if cfg.Feedback.Enabled {
		b.Feedback, b.FeedbackRetention = p.Store(), time.Duration(cfg.Feedback.RetentionDays)*24*time.Hour
	}
	return b, nil
}

// purgeFeedback deletes a collection's interactions past retention when
// serve starts (recording purges too, as it goes). A store it cannot
// write is served all the same.
func (a *app) purgeFeedback(cmd *cobra.Command, name string, p *project.Project) {
	fb := p.Config().Feedback
	if !fb.Enabled {
		return
	}
	log := a.serveLog()
	n, err := p.Store().PurgeInteractions(cmd.Context(), time.Duration(fb.RetentionDays)*24*time.Hour)
	if err != nil {
		log.Warn("deleting expired interactions", "collection", name, "err", err)
		return
	}
	log.Info("feedback on: recording answered questions", "collection", name, "retention_days", fb.RetentionDays, "expired_deleted", n)
}

// serveLog is serve's log: the access log at info level on stderr, or
// everything with -v.
func (a *app) serveLog() *slog.Logger {
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
}

// follow keeps the served project in step with folders (--watch) and
// web sources (--crawl) while serving, logging what each round did and
// recording each source's rounds in activity (GET /v1/ingest/status).
// Each folder is watched on its own, so its rounds are its own.
func (a *app) follow(cmd *cobra.Command, p *project.Project, o serveOptions, activity *ingest.Tracker) {
	log := a.serveLog()
	report := func(what string, attrs ...any) func(*ingest.Report, error) {
		return func(rep *ingest.Report, err error) {
			if err != nil {
				log.Error(what, append(attrs, "err", err)...)
			} else if rep != nil {
				log.Info(what, append(attrs, "added", rep.Added, "updated", rep.Updated, "unchanged", rep.Unchanged, "deleted", rep.Deleted, "failed", rep.Failed)...)
			}
		}
	}
	for _, dir := range o.watch {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		activity.Add(ingest.KindWatch, dir)
		go func() {
			err := p.Watch(cmd.Context(), project.WatchRequest{Roots: []string{dir}, Report: report("ingested changes", "folder", dir),
				Begin: func() func(*ingest.Report, error) { return activity.Begin(ingest.KindWatch, dir) }})
			if err != nil {
				log.Error("watching stopped", "folder", dir, "err", err)
				activity.Begin(ingest.KindWatch, dir)(nil, fmt.Errorf("watching stopped: %w", err))
			}
		}()
	}
	if len(o.crawl) > 0 {
		for _, u := range o.crawl {
			activity.Add(ingest.KindCrawl, u)
		}
		go p.Crawl(cmd.Context(), project.CrawlRequest{URLs: o.crawl, Every: o.crawlEvery, Report: report("crawled"),
			Begin: func(u string) func(*ingest.Report, error) { return activity.Begin(ingest.KindCrawl, u) },
			Next: func(at time.Time) {
				for _, u := range o.crawl {
					activity.Schedule(ingest.KindCrawl, u, at)
				}
			}})
	}
}
