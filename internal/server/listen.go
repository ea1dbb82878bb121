package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// ListenAndServe serves on addr until ctx ends, then shuts down
// gracefully: no new connections, in-flight requests and streams get up
// to 30 s to finish. ready, when set, is told the bound address.
func (srv *Server) ListenAndServe(ctx context.Context, addr string, ready func(bound string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	ln = netutil.LimitListener(ln, srv.opts.MaxConns)
	// Headers within 10 s, a whole body within 5 min (a large upload on a
	// slow line), idle keep-alive connections closed after 2 min.
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(srv.opts.Log.Handler(), slog.LevelWarn)}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if srv.opts.TLSCert != "" {
			errc <- hs.ServeTLS(ln, srv.opts.TLSCert, srv.opts.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.stop() // ingests stop now; other requests get the grace below
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = hs.Shutdown(shut)
	srv.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// IsLoopback reports whether addr (host:port) is on a loopback address.
func IsLoopback(addr string) bool {
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
