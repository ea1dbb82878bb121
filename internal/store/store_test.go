package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Create(t.Context(), filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenMissingAndWrongVersion(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(t.Context(), dir); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open(empty dir) = %v, want ErrNotFound", err)
	}
	s, _ := Create(t.Context(), dir)
	s.db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`)
	s.Close()
	if _, err := Open(t.Context(), dir); err == nil {
		t.Fatal("opened a store with another schema version")
	}
}

func TestVectorCache(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	h := [32]byte{1}
	if err := s.PutVectors(ctx, "m@1", [][32]byte{h}, [][]float32{{0.5, 0.5}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetVectors(ctx, "m@1", [][32]byte{h, {2}})
	if err != nil || len(got) != 1 || got[h][1] != 0.5 {
		t.Errorf("cache = %v, %v", got, err)
	}
}

func TestRevokeAPIKey(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if found, err := s.RevokeAPIKey(ctx, "laptop"); found || err != nil {
		t.Fatalf("revoking in an empty store: %v, %v", found, err)
	}
	key, err := s.CreateAPIKey(ctx, "laptop", []string{"read", "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIKey(ctx, "x", []string{"root"}); err == nil {
		t.Error("an unknown scope was accepted")
	}
	if name, scopes, err := s.CheckAPIKey(ctx, key); err != nil || name != "laptop" || len(scopes) != 2 {
		t.Fatalf("check: %s %v %v", name, scopes, err)
	}
	if found, err := s.RevokeAPIKey(ctx, "laptop"); !found || err != nil {
		t.Fatalf("revoke: %v, %v", found, err)
	}
	if _, _, err := s.CheckAPIKey(ctx, key); !errors.Is(err, ErrBadKey) {
		t.Errorf("a revoked key still checks: %v", err)
	}
	if found, err := s.RevokeAPIKey(ctx, "laptop"); found || err != nil {
		t.Errorf("revoking twice: %v, %v", found, err)
	}
}

// TestStoreIsPrivate: a new store's folder and database are its owner's
// only; they hold API key hashes and the whole corpus.
func TestStoreIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := Create(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, DBFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}
