package server

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed ui
var uiFiles embed.FS

// ui serves the web interface; its API calls carry the key the user
// types in, so the page itself needs none.
func uiHandler() http.Handler {
	sub, _ := fs.Sub(uiFiles, "ui")
	return http.FileServerFS(sub)
}
