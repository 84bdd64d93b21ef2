package fsblob_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
)

func TestDelete(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, fsblob.Options{})
	keep, gone := []byte("kept"), []byte("purged")
	dk, _, err := s.Put(ctx, bytes.NewReader(keep))
	if err != nil {
		t.Fatal(err)
	}
	dg, _, err := s.Put(ctx, bytes.NewReader(gone))
	if err != nil {
		t.Fatal(err)
	}
	before := s.Contents(t)

	if err := s.Delete(ctx, dg); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Open(ctx, dg); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Open after Delete: %v, want ErrNotFound", err)
	}
	if got, want := s.Contents(t), slices.DeleteFunc(before, func(p string) bool { return p == s.rel(dg) }); !slices.Equal(got, want) {
		t.Errorf("after Delete the storage holds %q, want %q", got, want)
	}
	// The directories stay.
	if _, err := os.Stat(filepath.Dir(s.blobPath(dg))); err != nil {
		t.Errorf("the blob's directory was removed: %v", err)
	}
	if got, err := readAll(s, dk); err != nil || !bytes.Equal(got, keep) {
		t.Errorf("the other blob reads %q, %v", got, err)
	}

	tests := []struct {
		name string
		ctx  func() context.Context
		d    archive.Digest
		want error
	}{
		{"again", context.Background, dg, archive.ErrNotFound},
		{"never stored", context.Background, archive.Sum([]byte("never")), archive.ErrNotFound},
		{"cancelled", func() context.Context {
			c, cancel := context.WithCancel(context.Background())
			cancel()
			return c
		}, dk, context.Canceled},
	}
	for _, tt := range tests {
		if err := s.Delete(tt.ctx(), tt.d); !errors.Is(err, tt.want) {
			t.Errorf("%s: Delete: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := os.Stat(s.blobPath(dk)); err != nil {
		t.Errorf("a cancelled Delete removed the blob: %v", err)
	}
	// Put stores the bytes again.
	if _, _, err := s.Put(ctx, bytes.NewReader(gone)); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(s, dg); err != nil || !bytes.Equal(got, gone) {
		t.Errorf("after a new Put: %q, %v", got, err)
	}
}

func TestDeleteLeavesOtherFiles(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, fsblob.Options{})
	d := archive.Sum([]byte("a directory, not a blob"))
	if err := os.MkdirAll(s.blobPath(d), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, d); err == nil || errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Delete of a directory in a blob's place: %v, want an error", err)
	}
	if _, err := os.Stat(s.blobPath(d)); err != nil {
		t.Errorf("the directory was removed: %v", err)
	}
}

func (s testStore) rel(d archive.Digest) string {
	r, _ := filepath.Rel(s.dir, s.blobPath(d))
	return r
}

func readAll(s archive.BlobStore, d archive.Digest) ([]byte, error) {
	b, err := s.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(b)
	return buf.Bytes(), err
}
