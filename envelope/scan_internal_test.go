package envelope

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestScannerTagRuns: tags pass through the scanner byte for byte whatever
// the read size cuts them at, quoted '>' and the other quote included, and
// the markup limit falls where it did when tags went byte by byte.
func TestScannerTagRuns(t *testing.T) {
	doc := `<a x="1>2" y='say "hi"' z="it's">` + "<b\n c = 'v' />" + `<c d=">>>"></c></a>`
	for _, chunk := range []int{1, 2, 3, 5, 7, 64} {
		s := newScanner(strings.NewReader(doc), int64(len(doc)), 1<<20, 1<<10, "n")
		s.in = s.in[:chunk]
		got, err := io.ReadAll(s)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if string(got) != doc {
			t.Fatalf("chunk %d: %q", chunk, got)
		}
		s.release()
	}
	// maxText 16: a tag of 16 bytes passes, one of 17 does not.
	for _, tc := range []struct {
		tag  string
		fail bool
	}{{`<a b="1234567"/>`, false}, {`<a b="12345678"/>`, true}, {`<a b='123456789012345'/>`, true}} {
		for _, chunk := range []int{1, 4, 64} {
			s := newScanner(strings.NewReader(tc.tag), int64(len(tc.tag)), 1<<20, 16, "n")
			s.in = s.in[:chunk]
			got, err := io.ReadAll(s)
			if tc.fail != errors.Is(err, ErrMarkupTooLong) {
				t.Fatalf("%s, chunk %d: %q, %v", tc.tag, chunk, got, err)
			}
			if !tc.fail && !bytes.Equal(got, []byte(tc.tag)) {
				t.Fatalf("%s, chunk %d: %q", tc.tag, chunk, got)
			}
		}
	}
}
