package fsblob_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/blobtest"
	"github.com/edocgw/edocgw/archive/fsblob"
)

// testStore gives the suite access to the directory behind the store.
type testStore struct {
	*fsblob.Store
	dir string
}

func newTestStore(t testing.TB, opts fsblob.Options) testStore {
	dir := t.TempDir()
	s, err := fsblob.New(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return testStore{s, dir}
}

// blobPath is the documented place of a blob.
func (s testStore) blobPath(d archive.Digest) string {
	h := d.String()
	return filepath.Join(s.dir, "sha256", h[:2], h[2:4], h)
}

func (s testStore) Tamper(t *testing.T, d archive.Digest, data []byte) {
	t.Helper()
	p := s.blobPath(d)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o444); err != nil {
		t.Fatal(err)
	}
}

func (s testStore) Contents(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(s.dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(s.dir, p)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) archive.BlobStore {
		return newTestStore(t, fsblob.Options{MaxSize: blobtest.MaxSize})
	})
}

func TestMemory(t *testing.T) {
	blobtest.RunMemory(t, newTestStore(t, fsblob.Options{}))
}

func TestLayoutAndMode(t *testing.T) {
	s := newTestStore(t, fsblob.Options{})
	data := []byte("a document")
	d, _, err := s.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.blobPath(d))
	if err != nil {
		t.Fatalf("blob not at its documented path: %v", err)
	}
	if info.Mode().Perm() != 0o444 {
		t.Errorf("blob mode %v, want 0444", info.Mode().Perm())
	}
	if got := s.Contents(t); !slices.Equal(got, []string{filepath.Join("sha256", d.String()[:2], d.String()[2:4], d.String())}) {
		t.Errorf("storage holds %q, want only the blob", got)
	}
}

func TestConcurrentSameContentStoresOneFile(t *testing.T) {
	s := newTestStore(t, fsblob.Options{})
	data := blobtest.Data(1, 1<<20)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, _, err := s.Put(context.Background(), bytes.NewReader(data)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := s.Contents(t); len(got) != 1 {
		t.Errorf("16 concurrent Puts of the same bytes left %q, want one file", got)
	}
}

func TestStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := fsblob.New(dir, fsblob.Options{}); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(dir, "tmp", "put-old"), filepath.Join(dir, "tmp", "put-fresh")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for p, age := range map[string]time.Duration{old: 25 * time.Hour, fresh: 23 * time.Hour} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fsblob.New(dir, fsblob.Options{Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a 25-hour-old temporary file survived New: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a 23-hour-old temporary file was removed: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		opts fsblob.Options
	}{
		{"no directory", "", fsblob.Options{}},
		{"negative MaxSize", t.TempDir(), fsblob.Options{MaxSize: -1}},
		{"a file", file, fsblob.Options{}},
	}
	for _, tt := range tests {
		if _, err := fsblob.New(tt.dir, tt.opts); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	blobtest.BenchPut(b, newTestStore(b, fsblob.Options{}))
}

func BenchmarkOpenRead(b *testing.B) {
	blobtest.BenchOpenRead(b, newTestStore(b, fsblob.Options{}))
}

func BenchmarkPutParallel(b *testing.B) {
	b.Run("syncfs", func(b *testing.B) { blobtest.BenchPutParallel(b, newTestStore(b, fsblob.Options{})) })
	b.Run("fsync-each", func(b *testing.B) { blobtest.BenchPutParallel(b, newTestStore(b, fsblob.Options{SyncEach: true})) })
}
