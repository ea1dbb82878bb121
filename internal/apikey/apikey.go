// Package apikey is the one definition of a ragtune API key, shared by
// every place keys are kept (the local store, a Weaviate cluster) so that
// a key made by one is checked the same way by the other: "rt_" and 48
// hex digits, kept only as the hex SHA-256 of the whole key.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
)

// Scopes a key may hold: "read" (search, ask), "write" (ingest, delete
// documents) and "admin" (revoke keys over HTTP).
var scopes = [...]string{"read", "write", "admin"}

// ErrUnknown means a key is unknown.
var ErrUnknown = errors.New("unknown API key")

// ErrExists means a key of that name exists already.
var ErrExists = errors.New("exists already")

// ErrInvalid means a new key's name or scopes are refused.
var ErrInvalid = errors.New("invalid key")

// Key describes a stored key (never the key itself).
type Key struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"created_at"`
}

// New makes a random key; it is shown once and only its Hash is kept.
func New() (string, error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("making an API key: %w", err)
	}
	return "rt_" + hex.EncodeToString(raw), nil
}

// Hash is what is stored in place of key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Check refuses a key without a name or scopes, or with a scope other
// than read, write and admin.
func Check(name string, sc []string) error {
	for _, s := range sc {
		known := false
		for _, k := range scopes {
			known = known || s == k
		}
		if !known {
			return fmt.Errorf("%w: unknown scope %q (want read, write or admin)", ErrInvalid, s)
		}
	}
	if name == "" || len(sc) == 0 {
		return fmt.Errorf("%w: a key needs a name and at least one scope", ErrInvalid)
	}
	return nil
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
