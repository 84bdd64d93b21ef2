package fsblob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
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

// TestLeafDirRemovedBehindTheStore: a Put whose directory this Store made
// before, and someone removed since, makes it again (the Store remembers
// the directories it made and does not look them up each time).
func TestLeafDirRemovedBehindTheStore(t *testing.T) {
	ctx := context.Background()
	first := []byte("edocgw leaf directory")
	d1 := sha256.Sum256(first)
	// A second content in the same directory (the first two bytes).
	var second []byte
	for i := 0; ; i++ {
		b := fmt.Appendf(nil, "edocgw %d", i)
		if d := sha256.Sum256(b); d[0] == d1[0] && d[1] == d1[1] {
			second = b
			break
		}
	}
	for _, unnamed := range []bool{false, true} {
		s, err := New(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if unnamed && !s.unnamed {
			t.Logf("SKIPPED: no O_TMPFILE here: unnamed Put untested")
			continue
		}
		s.unnamed = unnamed
		d, _, err := s.Put(ctx, bytes.NewReader(first))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Dir(s.path(d))); err != nil {
			t.Fatal(err)
		}
		d2, _, err := s.Put(ctx, bytes.NewReader(second))
		if err != nil {
			t.Fatalf("unnamed=%v: Put after the directory was removed: %v", unnamed, err)
		}
		if filepath.Dir(s.path(d2)) != filepath.Dir(s.path(d)) {
			t.Fatalf("unnamed=%v: %s and %s are not in one directory", unnamed, d, d2)
		}
		b, err := s.Open(ctx, d2)
		if err != nil {
			t.Fatalf("unnamed=%v: %v", unnamed, err)
		}
		b.Close()
	}
}
