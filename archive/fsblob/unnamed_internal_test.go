package fsblob

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Both ways of Put store the same blob, read-only, and leave no temporary
// file behind.
func TestPutNamedAndUnnamed(t *testing.T) {
	for _, unnamed := range []bool{false, true} {
		dir := t.TempDir()
		s, err := New(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS == "linux" && !s.unnamed {
			t.Logf("SKIPPED: no O_TMPFILE on %s: unnamed Put untested", dir)
		}
		if unnamed && !s.unnamed {
			continue
		}
		s.unnamed = unnamed
		data := bytes.Repeat([]byte("edocgw "), 1000)
		d, n, err := s.Put(context.Background(), bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("unnamed=%v: Put = %d, %v", unnamed, n, err)
		}
		// Again: already stored.
		if d2, _, err := s.Put(context.Background(), bytes.NewReader(data)); err != nil || d2 != d {
			t.Fatalf("unnamed=%v: second Put = %v, %v", unnamed, d2, err)
		}
		info, err := os.Stat(s.path(d))
		if err != nil || info.Mode().Perm() != blobMode {
			t.Fatalf("unnamed=%v: blob %v, %v", unnamed, info, err)
		}
		b, err := s.Open(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(b)
		b.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("unnamed=%v: read back %d bytes, %v", unnamed, len(got), err)
		}
		if left, _ := os.ReadDir(filepath.Join(dir, tmpDir)); len(left) != 0 {
			t.Fatalf("unnamed=%v: %d files left in tmp", unnamed, len(left))
		}
	}
}
