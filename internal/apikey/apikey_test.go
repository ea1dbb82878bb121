package apikey

import (
	"errors"
	"regexp"
	"testing"
)

func TestKeyFormat(t *testing.T) {
	k, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^rt_[0-9a-f]{48}$`).MatchString(k) {
		t.Fatalf("key %q: want rt_ and 48 hex digits", k)
	}
	k2, _ := New()
	if k == k2 {
		t.Fatal("two keys are the same")
	}
	// The hash earlier releases stored for a key: hex SHA-256 of the key.
	if got := Hash("rt_x"); got != "e328527ba73b5f2d07d5936a148ad190490cd343857f7c18b63f065bd35b53cd" {
		t.Fatalf("hash %q", got)
	}
	if !Equal(Hash(k), Hash(k)) || Equal(Hash(k), Hash(k2)) {
		t.Fatal("Equal")
	}
}

func TestKeyScopes(t *testing.T) {
	if err := Check("ci", []string{"read", "write", "admin"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		scopes []string
	}{{"", []string{"read"}}, {"ci", nil}, {"ci", []string{"root"}}} {
		if Check(c.name, c.scopes) == nil {
			t.Errorf("Check(%q, %v) accepted", c.name, c.scopes)
		}
	}
}

func TestKeyErrors(t *testing.T) {
	if err := Check("ci", []string{"root"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unknown scope: %v", err)
	}
	if err := Check("", []string{"read"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no name: %v", err)
	}
}
