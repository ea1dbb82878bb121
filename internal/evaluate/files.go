package evaluate

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile creates path (and its directory) and fills it with write,
// atomically: the data go to a temporary file beside it, synced, given
// path's permissions (0644 for a new file) and renamed over it, and the
// directory is synced, so a crash or a failed write leaves the old file
// whole, never half of the new one. A path that is a symbolic link
// rewrites the file it points to and stays a link.
func WriteFile(path string, write func(io.Writer) error) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return writeFile(real, write)
	}
	return writeFile(path, write) // not there yet
}

func writeFile(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; the leftover otherwise
	w := bufio.NewWriter(tmp)
	for _, step := range []func() error{func() error { return write(w) }, w.Flush, func() error { return tmp.Chmod(mode) }, tmp.Sync} {
		if err := step(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteReports writes each named file into dir (created as needed).
func WriteReports(dir string, files map[string]func(io.Writer) error) error {
	for name, write := range files {
		if err := WriteFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

// WriteRunReport writes report.md and a self-contained report.html of one
// run into dir.
func WriteRunReport(dir string, r RunReport) error {
	return WriteReports(dir, map[string]func(io.Writer) error{
		"report.md":   func(w io.Writer) error { return WriteRunMarkdown(w, r) },
		"report.html": func(w io.Writer) error { return WriteRunHTML(w, r) },
	})
}

// WriteCompareReport writes compare.md and a self-contained compare.html
// into dir.
func WriteCompareReport(dir, title string, cmp Comparison) error {
	return WriteReports(dir, map[string]func(io.Writer) error{
		"compare.md":   func(w io.Writer) error { return WriteCompareMarkdown(w, title, cmp) },
		"compare.html": func(w io.Writer) error { return WriteCompareHTML(w, title, cmp) },
	})
}
