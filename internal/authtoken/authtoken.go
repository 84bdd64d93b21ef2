// Package authtoken makes and hashes the hub's bearer tokens. A token is
// "edt_" and 43 characters of base64url (32 random bytes); the store keeps
// only its SHA-256, so a leaked database does not leak credentials.
package authtoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// Prefix starts every token, so that secret scanners can find leaked ones.
const Prefix = "edt_"

// Hash is the stored form of a token.
type Hash [sha256.Size]byte

// New returns a fresh token from r (crypto/rand.Reader when nil) and its hash.
func New(r io.Reader) (string, Hash, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", Hash{}, fmt.Errorf("authtoken: %w", err)
	}
	tok := Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, Of(tok), nil
}

// Of hashes a token as presented (surrounding space removed, as a token
// file's trailing newline).
func Of(token string) Hash { return sha256.Sum256([]byte(strings.TrimSpace(token))) }

// WellFormed reports whether s looks like a token New makes; callers still
// look its hash up.
func WellFormed(s string) bool {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
