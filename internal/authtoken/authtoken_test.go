package authtoken

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewHashWellFormed(t *testing.T) {
	tok, h, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !WellFormed(tok) || !WellFormed(tok+"\n") {
		t.Fatalf("%q not well formed", tok)
	}
	if Of(tok+"\n") != h || Of(" "+tok) != h {
		t.Fatal("hash depends on surrounding space")
	}
	tok2, h2, _ := New(nil)
	if tok2 == tok || h2 == h {
		t.Fatal("two tokens alike")
	}
	// Deterministic from a given reader.
	a, _, _ := New(bytes.NewReader(make([]byte, 32)))
	if a != Prefix+strings.Repeat("A", 43) {
		t.Fatalf("zero token %q", a)
	}
	for _, bad := range []string{"", "edt_", "xyz_" + tok[4:], tok[:len(tok)-1], tok + "A", "edt_" + strings.Repeat("!", 43)} {
		if WellFormed(bad) {
			t.Errorf("WellFormed(%q)", bad)
		}
	}
	if _, _, err := New(bytes.NewReader(nil)); err == nil {
		t.Fatal("short reader accepted")
	}
}
