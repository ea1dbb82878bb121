package evaluate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile creates path (and its directory) and fills it with write.
func WriteFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
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
