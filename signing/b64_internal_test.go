package signing

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestB64(t *testing.T) {
	want := []byte("edXML \x00\xff signed bytes")
	enc := base64.StdEncoding.EncodeToString(want)
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"plain", enc, true},
		{"wrapped", enc[:8] + "\r\n" + enc[8:16] + "\n\t " + enc[16:], true},
		{"surrounded", "\n  " + enc + "\n", true},
		{"empty", "", true},
		{"not base64", enc[:8] + "*" + enc[8:], false},
		{"not ASCII", enc[:8] + "é" + enc[8:], false},
		{"unpadded", enc[:len(enc)-1], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b64(tc.in)
			switch {
			case !tc.ok && err == nil:
				t.Fatalf("decoded %q, want an error", got)
			case tc.ok && err != nil:
				t.Fatal(err)
			case tc.ok && tc.in != "" && !bytes.Equal(got, want):
				t.Fatalf("%q, want %q", got, want)
			case tc.ok && tc.in == "" && len(got) != 0:
				t.Fatalf("%q from nothing", got)
			}
		})
	}
}
