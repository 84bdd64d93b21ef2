package vxp

import (
	"encoding/hex"
	"strings"
)

// The hub's ids are ULIDs (26 Crockford base32 digits, 128 bits). The
// protocol shows them as UUIDs (8-4-4-4-12 hex digits of the same 128
// bits): .NET clients parse docId with new Guid(docId) (§5 notes). Both
// forms are accepted on the way in.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// crockfordValue maps a digit to its value, -1 for others.
var crockfordValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(crockford) {
		t[crockford[i]] = int8(i)
	}
	return t
}()

// WireID is a hub id in the UUID form docId and DocId carry; an id that is
// not a ULID is returned as it is.
func WireID(id string) string {
	b, ok := ulidBytes(id)
	if !ok {
		return id
	}
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// HubID reads a docId: the UUID form (any case, with or without hyphens
// and braces) or the hub's own ULID. ok is false for anything else.
func HubID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if _, ok := ulidBytes(strings.ToUpper(s)); ok {
		return strings.ToUpper(s), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || (len(s) != 32 && len(s) != 36) {
		return "", false
	}
	if len(s) == 36 && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
		return "", false
	}
	var b [16]byte
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return "", false
	}
	return ulidString(b), true
}

func ulidBytes(s string) (b [16]byte, ok bool) {
	if len(s) != 26 || s[0] > '7' {
		return b, false
	}
	var hi, lo uint64
	for i := range len(s) {
		v := crockfordValue[s[i]]
		if v < 0 {
			return b, false
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	return b, true
}

func ulidString(b [16]byte) string {
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
