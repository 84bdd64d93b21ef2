package agencyids

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrBadFingerprint reports a malformed, zero or duplicated certificate
// fingerprint.
var ErrBadFingerprint = errors.New("bad certificate fingerprint")

// Fingerprint is the SHA-256 digest of a DER-encoded certificate.
type Fingerprint [sha256.Size]byte

// FingerprintOf returns the fingerprint of a DER-encoded certificate.
func FingerprintOf(der []byte) Fingerprint { return sha256.Sum256(der) }

// String returns the fingerprint as 64 lower-case hexadecimal digits.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// IsZero reports whether f is all zeros (never a real fingerprint).
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// ParseFingerprint parses 64 hexadecimal digits, or 32 colon-separated
// pairs of them (AB:CD:…), in upper or lower case.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	var digits [2 * sha256.Size]byte
	switch len(s) {
	case 2 * sha256.Size:
		copy(digits[:], s)
	case 3*sha256.Size - 1:
		for i := range sha256.Size {
			if i > 0 && s[3*i-1] != ':' {
				return f, fmt.Errorf("fingerprint %q: position %d: expected ':': %w", s, 3*i-1, ErrBadFingerprint)
			}
			digits[2*i], digits[2*i+1] = s[3*i], s[3*i+1]
		}
	default:
		return f, fmt.Errorf("fingerprint %q: want 64 hex digits, optionally in colon-separated pairs: %w", s, ErrBadFingerprint)
	}
	if _, err := hex.Decode(f[:], digits[:]); err != nil {
		return Fingerprint{}, fmt.Errorf("fingerprint %q: %v: %w", s, err, ErrBadFingerprint)
	}
	return f, nil
}

// MarshalText implements encoding.TextMarshaler (lower-case hex).
func (f Fingerprint) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseFingerprint.
func (f *Fingerprint) UnmarshalText(b []byte) error {
	v, err := ParseFingerprint(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}
