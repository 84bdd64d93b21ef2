package routing

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestSpoolMemoryReuse: a small body's buffer goes back to the pool on
// Close, and a reader taken before Close then reads nothing rather than
// the next body that lands in the same buffer.
func TestSpoolMemoryReuse(t *testing.T) {
	first := bytes.Repeat([]byte("A"), 10_000)
	sp, err := newSpool(bytes.NewReader(first), 1<<20, 1<<20, int64(len(first)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if sp.file != nil {
		t.Fatal("a 10 KB body went to a file")
	}
	if sp.size != int64(len(first)) || sp.digest != sha256.Sum256(first) {
		t.Fatalf("size %d digest %x", sp.size, sp.digest)
	}
	got, err := io.ReadAll(sp.reader())
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	early := sp.ra // as an attachment of the parsed packet holds it
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The next bodies may reuse the buffer; whichever does, the early
	// reader must not see it.
	second := bytes.Repeat([]byte("B"), 10_000)
	for range 8 {
		sp2, err := newSpool(bytes.NewReader(second), 1<<20, 1<<20, int64(len(second)), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(sp2.reader())
		if err != nil || !bytes.Equal(got, second) {
			t.Fatalf("second body: read %d bytes, %v", len(got), err)
		}
		p := make([]byte, 16)
		if n, err := early.ReadAt(p, 0); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("reader of a closed spool read %d bytes %q, %v", n, p[:n], err)
		}
		defer sp2.Close()
	}
}

// TestSpoolRefusalReleases: a body over the limit is refused, and the
// buffer it filled serves the next body intact.
func TestSpoolRefusalReleases(t *testing.T) {
	if _, err := newSpool(strings.NewReader(strings.Repeat("x", 2000)), 1000, 1<<20, -1, t.TempDir()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2,000 bytes with a limit of 1,000: %v", err)
	}
	body := []byte("<edXMLEnvelope/>")
	sp, err := newSpool(bytes.NewReader(body), 1000, 1<<20, -1, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	got, err := io.ReadAll(sp.reader())
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read %q, %v", got, err)
	}
}
