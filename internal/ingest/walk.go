package ingest

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// file is a candidate found by the walk.
type file struct {
	path string // on disk
	key  string // the document's key in the store
}

// walker finds candidate files under a root, deciding on symlinks and
// globs. Symlinks are not followed unless asked, and even then never to a
// target outside the root, and never twice into the same directory.
type walker struct {
	root     string // absolute, symlinks resolved
	include  []string
	exclude  []string
	follow   bool
	keyOf    func(abs string) string
	files    []file
	skipped  []Result
	visited  map[string]bool
	maxFiles int
}

func (w *walker) walk(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if w.visited[real] {
		w.skip(dir, "symlink loop: directory already visited")
		return nil
	}
	w.visited[real] = true
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			w.skip(path, err.Error())
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel := w.rel(path)
		if d.IsDir() {
			if path != dir && rel != "." && w.excluded(rel+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if w.excluded(rel) || !w.included(rel) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return w.symlink(path)
		}
		if !d.Type().IsRegular() {
			w.skip(path, "not a regular file")
			return nil
		}
		w.files = append(w.files, file{path: path, key: w.keyOf(path)})
		return nil
	})
}

func (w *walker) symlink(path string) error {
	if !w.follow {
		w.skip(path, "symlink not followed (set ingest.follow_symlinks = true to follow links inside the root)")
		return nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		w.skip(path, fmt.Sprintf("broken symlink: %v", err))
		return nil
	}
	if !Within(w.root, target) {
		w.skip(path, "symlink points outside the ingest root: "+target)
		return nil
	}
	info, err := os.Stat(target)
	if err != nil {
		w.skip(path, err.Error())
		return nil
	}
	if info.IsDir() {
		// The trailing separator makes WalkDir descend through the link.
		return w.walk(path + string(filepath.Separator))
	}
	if !info.Mode().IsRegular() {
		w.skip(path, "symlink to something that is not a regular file")
		return nil
	}
	w.files = append(w.files, file{path: path, key: w.keyOf(path)})
	return nil
}

func (w *walker) rel(path string) string {
	r, err := filepath.Rel(w.root, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}

func (w *walker) excluded(rel string) bool {
	for _, pat := range w.exclude {
		if ok, _ := doublestar.Match(pat, rel); ok {
			return true
		}
		if strings.HasSuffix(rel, "/") {
			if ok, _ := doublestar.Match(pat, strings.TrimSuffix(rel, "/")); ok {
				return true
			}
		}
	}
	return false
}

func (w *walker) included(rel string) bool {
	if len(w.include) == 0 {
		return true
	}
	for _, pat := range w.include {
		if ok, _ := doublestar.Match(pat, rel); ok {
			return true
		}
	}
	return false
}

func (w *walker) skip(path, reason string) {
	w.skipped = append(w.skipped, Result{Path: w.keyOf(path), Status: StatusSkipped, Reason: reason})
}

// Within reports whether path is root or below it.
func Within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Selects reports whether a walk of o.Root would take the file at path:
// inside the root, not excluded (nor any folder above it) and included.
// A watcher uses it to decide which changed files to ingest.
func (o Options) Selects(path string) bool {
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil || !Within(root, abs) {
		return false
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == "." {
		return rel == "." // the root itself, when it is a file
	}
	w := &walker{include: o.Include, exclude: append(append([]string{}, DefaultExclude...), o.Exclude...)}
	rel = filepath.ToSlash(rel)
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if w.excluded(strings.Join(parts[:i], "/") + "/") {
			return false
		}
	}
	return !w.excluded(rel) && w.included(rel)
}

// Key is the document key of the file at path for keyBase, as ingest
// stores it: the path relative to keyBase, or absolute outside it.
func Key(keyBase, path string) string {
	base, _ := filepath.Abs(cmp.Or(keyBase, "."))
	abs, _ := filepath.Abs(path)
	return docKey(base, abs)
}
