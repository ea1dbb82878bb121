package server

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed ui
var uiFiles embed.FS

// uiCSP is the web UI's Content-Security-Policy: scripts and styles only
// from this server's own files (no inline script, no eval), API calls
// only to it, no plugins, and no framing by any other page. Reports are
// shown in sandboxed frames (srcdoc), whose inline styles need
// 'unsafe-inline' for styles; scripts never get it.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// uiRoutes are the paths of the web UI's files.
func uiRoutes() []string {
	routes := []string{"/{$}"}
	entries, _ := fs.ReadDir(uiFiles, "ui")
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "index.html" {
			routes = append(routes, "/"+e.Name())
		}
	}
	return routes
}

// uiHandler serves the web interface with its security headers; its API
// calls carry the key the user types in, so the page itself needs none.
func uiHandler() http.Handler {
	sub, _ := fs.Sub(uiFiles, "ui")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if strings.HasSuffix(r.URL.Path, ".js") || strings.HasSuffix(r.URL.Path, ".css") || r.URL.Path == "/" {
			// A new binary serves new files; the browser asks again.
			h.Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
