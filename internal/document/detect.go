package document

import (
	"bytes"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

var extFormats = map[string]Format{
	".md": Markdown, ".markdown": Markdown, ".mdx": Markdown, ".mkd": Markdown,
	".txt": Text, ".text": Text, ".rst": Text, ".adoc": Text, ".org": Text, ".csv": Text, ".tsv": Text,
	".html": HTML, ".htm": HTML, ".xhtml": HTML,
	".pdf":  PDF,
	".docx": DOCX,
}

// codeLanguages maps source file extensions to a language name.
var codeLanguages = map[string]string{
	".go": "go", ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
	".ts": "typescript", ".tsx": "typescript", ".jsx": "javascript", ".java": "java", ".kt": "kotlin",
	".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rs": "rust",
	".rb": "ruby", ".php": "php", ".swift": "swift", ".scala": "scala", ".sh": "shell", ".bash": "shell",
	".sql": "sql", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json", ".proto": "protobuf",
	".css": "css", ".scss": "css", ".lua": "lua", ".r": "r", ".pl": "perl", ".ex": "elixir", ".exs": "elixir",
	".erl": "erlang", ".hs": "haskell", ".ml": "ocaml", ".dart": "dart", ".tf": "hcl", ".vue": "vue",
}

// namedText are extension-less files that are conventionally text.
var namedText = map[string]Format{
	"readme": Text, "license": Text, "copying": Text, "authors": Text, "changelog": Text,
	"makefile": Code, "dockerfile": Code, "notice": Text,
}

// Detect decides the format of a file from its name, falling back to the
// content for names without a known extension.
func Detect(name string, data []byte) (Format, string, error) {
	ext := strings.ToLower(filepath.Ext(name))
	if f, ok := extFormats[ext]; ok {
		if f == PDF && !bytes.Contains(head(data, 1024), []byte("%PDF-")) {
			return "", "", &SkipError{Reason: "has a .pdf name but no PDF header"}
		}
		return f, "", nil
	}
	if lang, ok := codeLanguages[ext]; ok {
		return Code, lang, nil
	}
	base := strings.ToLower(filepath.Base(name))
	if f, ok := namedText[strings.TrimSuffix(base, ext)]; ok && (ext == "" || ext == ".md" || ext == ".txt") {
		if f == Code {
			return Code, base, nil
		}
		return f, "", nil
	}
	if ext != "" {
		return "", "", &SkipError{Reason: "unsupported file type " + ext}
	}
	if looksBinary(data) {
		return "", "", &SkipError{Reason: "binary file"}
	}
	return Text, "", nil
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// looksBinary applies the heuristic git and grep use: a NUL byte early on
// means binary. UTF-16 text has NULs too, so a BOM exempts it.
func looksBinary(data []byte) bool {
	if hasUTF16BOM(data) {
		return false
	}
	return bytes.IndexByte(head(data, 8000), 0) >= 0
}

func hasUTF16BOM(b []byte) bool {
	return len(b) >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))
}

// validText reports whether s is UTF-8 without control characters that no
// text file carries.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
