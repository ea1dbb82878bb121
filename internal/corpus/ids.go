package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// DocID derives a document's stable ID from its path.
func DocID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:8])
}

// ChunkID derives a chunk's ID from its document, position and text, so
// re-ingesting the same content reproduces the same IDs.
func ChunkID(path string, ord int, text string) string {
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(ord)))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil)[:10])
}
