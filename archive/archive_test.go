package archive_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/edocgw/edocgw/archive"
)

// The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func TestDigestString(t *testing.T) {
	if got := archive.Sum([]byte("abc")).String(); got != abc {
		t.Errorf("Sum(abc) = %s, want %s", got, abc)
	}
	if got := archive.Sum(nil).String(); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("Sum(nil) = %s", got)
	}
}

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{abc, false},
		{strings.ToUpper(abc), false},
		{"", true},
		{abc[:63], true},
		{abc + "0", true},
		{"sha256:" + abc[7:], true},
		{"zz" + abc[2:], true},
		{" " + abc[1:], true},
	}
	for _, tt := range tests {
		d, err := archive.ParseDigest(tt.in)
		switch {
		case tt.wantErr && !errors.Is(err, archive.ErrInvalidDigest):
			t.Errorf("ParseDigest(%q) = %s, %v; want ErrInvalidDigest", tt.in, d, err)
		case !tt.wantErr && (err != nil || d.String() != abc):
			t.Errorf("ParseDigest(%q) = %s, %v; want %s", tt.in, d, err, abc)
		}
	}
}

func TestDigestText(t *testing.T) {
	d := archive.Sum([]byte("abc"))
	b, err := json.Marshal(map[string]archive.Digest{"d": d})
	if err != nil || string(b) != `{"d":"`+abc+`"}` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var back map[string]archive.Digest
	if err := json.Unmarshal(b, &back); err != nil || back["d"] != d {
		t.Fatalf("json.Unmarshal = %v, %v", back, err)
	}
	var bad archive.Digest
	if err := json.Unmarshal([]byte(`"abc"`), &bad); !errors.Is(err, archive.ErrInvalidDigest) {
		t.Errorf("unmarshal of a short digest: %v, want ErrInvalidDigest", err)
	}
}

func TestVerifyingReader(t *testing.T) {
	data := []byte("the original bytes")
	tests := []struct {
		name    string
		stored  []byte
		size    int64
		wantErr error
	}{
		{"intact", data, int64(len(data)), nil},
		{"intact, size unknown", data, -1, nil},
		{"altered", []byte("the 0riginal bytes"), int64(len(data)), archive.ErrCorrupt},
		{"truncated", data[:5], int64(len(data)), archive.ErrCorrupt},
		{"size differs from the storage's", data, int64(len(data)) + 1, archive.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := archive.NewVerifyingReader(iotest.HalfReader(bytes.NewReader(tt.stored)), archive.Sum(data), tt.size)
			got, err := io.ReadAll(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadAll: %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.stored) {
				t.Errorf("read %q, want %q", got, tt.stored)
			}
			// The verdict is sticky.
			_, again := r.Read(make([]byte, 10))
			if want := tt.wantErr; want == nil && again != io.EOF || want != nil && !errors.Is(again, want) {
				t.Errorf("Read after the end: %v", again)
			}
		})
	}
}

func TestVerifyingReaderPassesErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	r := archive.NewVerifyingReader(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), archive.Sum([]byte("abc")), 3)
	if _, err := io.ReadAll(r); !errors.Is(err, boom) {
		t.Errorf("ReadAll: %v, want the reader's error", err)
	}
}
