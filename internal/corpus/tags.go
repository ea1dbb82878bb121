package corpus

import "strings"

// NormalizeTags lower-cases, trims quotes and spaces, and drops empty
// and repeated tags; commas are not allowed inside a tag.
func NormalizeTags(raw []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range raw {
		t = strings.ToLower(strings.Trim(strings.TrimSpace(t), `"'`))
		t = strings.ReplaceAll(t, ",", " ")
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}
