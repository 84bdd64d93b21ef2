package agencyids_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
)

// sha256("abc"), FIPS 180-2 test vector.
const abcHex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func colons(h string) string {
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func TestFingerprint(t *testing.T) {
	fp := agencyids.FingerprintOf([]byte("abc"))
	if fp.String() != abcHex {
		t.Fatalf("FingerprintOf = %s", fp)
	}
	if fp.IsZero() || !(agencyids.Fingerprint{}).IsZero() {
		t.Error("IsZero wrong")
	}
	for _, s := range []string{abcHex, strings.ToUpper(abcHex), colons(abcHex), strings.ToUpper(colons(abcHex))} {
		got, err := agencyids.ParseFingerprint(s)
		if err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %s, %v", s, got, err)
		}
	}
	bad := []string{
		"", abcHex[:62], abcHex + "00", "zz" + abcHex[2:], strings.Replace(colons(abcHex), ":", "-", 1),
		colons(abcHex)[:94] + "g", " " + abcHex[1:], abcHex[:63] + "\x00",
	}
	for _, s := range bad {
		if _, err := agencyids.ParseFingerprint(s); !errors.Is(err, agencyids.ErrBadFingerprint) {
			t.Errorf("ParseFingerprint(%q) error = %v, want ErrBadFingerprint", s, err)
		}
	}
	b, err := json.Marshal([]agencyids.Fingerprint{fp})
	if err != nil || string(b) != `["`+abcHex+`"]` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back []agencyids.Fingerprint
	if err := json.Unmarshal([]byte(`["`+colons(abcHex)+`"]`), &back); err != nil || len(back) != 1 || back[0] != fp {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`["abc"]`), &back); !errors.Is(err, agencyids.ErrBadFingerprint) {
		t.Fatalf("Unmarshal bad = %v", err)
	}
}
