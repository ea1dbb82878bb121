package judge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var listMarker = regexp.MustCompile(`^(?:[-*]|\d+[.)])\s+`)

// Rubric is a team's behaviour rubric: criteria the judge passes or
// fails one by one.
type Rubric struct {
	Criteria []string
}

// ParseRubric reads rubric text: each non-blank line is a criterion,
// except lines starting with "#" (headings, comments); a leading "- ",
// "* " or "1. " or "1) " is dropped.
func ParseRubric(text string) Rubric {
	var r Rubric
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line = strings.TrimSpace(listMarker.ReplaceAllString(line, "")); line != "" {
			r.Criteria = append(r.Criteria, line)
		}
	}
	return r
}

// LoadRubric reads the configured rubric: inline text, or the file
// rubric_file names (relative to dir, the project directory).
func LoadRubric(cfg Config, dir string) (Rubric, error) {
	text := cfg.Rubric
	if cfg.RubricFile != "" {
		path := cfg.RubricFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return Rubric{}, fmt.Errorf("judge rubric: %w", err)
		}
		text = string(b)
	}
	r := ParseRubric(text)
	if strings.TrimSpace(text) != "" && len(r.Criteria) == 0 {
		return r, fmt.Errorf("judge rubric has no criteria (one a line; lines starting with # are comments)")
	}
	return r, nil
}

// Hash identifies the rubric's criteria (the first 16 hex digits of
// their SHA-256), "" for no rubric: two runs judged with different
// rubrics have different hashes.
func (r Rubric) Hash() string {
	if len(r.Criteria) == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join(r.Criteria, "\n")))
	return hex.EncodeToString(sum[:8])
}
