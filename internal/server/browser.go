package server

import (
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
)

// Defences of a server without keys (--insecure-local) against the
// browser on the same machine: a page on another site may send requests
// to 127.0.0.1 (a form post, a no-cors fetch) and, by DNS rebinding, read
// the answers. Such a server answers only requests that name it (a
// loopback Host, or one of AllowHosts), and takes writes only as JSON or,
// for uploads, from its own pages.

// crossSite returns the status and message that refuse r, or 0.
// With keys, a page cannot send a key it does not have, and a key in a
// header needs a CORS preflight this server never grants.
func (s *Server) crossSite(r *http.Request) (int, string) {
	if !s.opts.Insecure {
		return 0, ""
	}
	if !s.hostAllowed(r.Host) {
		return http.StatusMisdirectedRequest, "this server answers requests for localhost only (Host " + r.Host + "); --allow-host adds a name"
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return 0, ""
	}
	// Sec-Fetch-Site, which browsers set and pages cannot, or else the
	// Origin must name this server; requests with neither (curl, SDKs) are
	// not from a browser page.
	if (&http.CrossOriginProtection{}).Check(r) != nil {
		return http.StatusForbidden, "a request from another site may not change this server"
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
	case ct == "multipart/form-data" && r.URL.Path == "/v1/ingest":
	case r.Method == http.MethodDelete && r.ContentLength <= 0:
	default:
		// text/plain and form bodies are what a cross-site form can send.
		return http.StatusUnsupportedMediaType, "send the body as application/json (Content-Type: application/json)"
	}
	return 0, ""
}

// hostAllowed reports whether a Host header names this machine.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return slices.Contains(s.opts.AllowHosts, host)
}

// websocketHandshake reports whether r asks to open a WebSocket.
func websocketHandshake(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// notFound is OpenAI's error object for an unknown route, and 405 with
// Allow for a known route asked with another method.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	writeError(w, http.StatusNotFound, "no such route: "+r.URL.Path)
}
