package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/blobtest"
	"github.com/edocgw/edocgw/archive/s3blob"
)

// A locked original is not deleted, nor is anything else of its key.
func TestDeleteRetained(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	for _, mode := range []string{s3blob.Compliance, s3blob.Governance} {
		t.Run(mode, func(t *testing.T) {
			cfg := srv.config("")
			cfg.PartSize = 5 << 20
			cfg.Retention = s3blob.Retention{Mode: mode, Period: time.Hour}
			s := srv.store(t, cfg)
			for _, data := range lockedBlobs(t, s) {
				d := archive.Sum(data)
				// A newer, unlocked version (an overwrite) is kept too.
				altered := append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^1)
				if _, err := srv.admin.PutObject(ctx, s.bucket, key(d), bytes.NewReader(altered), int64(len(altered)), minio.PutObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				before := s.Contents(t)
				err := s.Delete(ctx, d)
				if !errors.Is(err, archive.ErrRetained) {
					t.Fatalf("Delete of a %s-retained blob: %v, want ErrRetained", mode, err)
				}
				if after := s.Contents(t); !slices.Equal(before, after) {
					t.Errorf("a refused Delete changed the storage:\nbefore %q\nafter  %q", before, after)
				}
				if got, err := readAll(t, s, d); err != nil || !bytes.Equal(got, data) {
					t.Errorf("Open after a refused Delete: %d bytes (original: %v), %v", len(got), bytes.Equal(got, data), err)
				}
			}
		})
	}
}

func TestDeleteUnlocked(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		bucket func(t *testing.T) string // "": a new bucket made by New (object lock, versioned)
		edit   func(t *testing.T, s testStore, d archive.Digest)
	}{
		{"one version", nil, nil},
		{"overwritten and a delete marker", nil, func(t *testing.T, s testStore, d archive.Digest) {
			if _, err := srv.admin.PutObject(ctx, s.bucket, key(d), bytes.NewReader([]byte("other")), 5, minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := srv.admin.RemoveObject(ctx, s.bucket, key(d), minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"unversioned bucket", func(t *testing.T) string {
			b := randomBucket()
			if err := srv.admin.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
				t.Fatal(err)
			}
			return b
		}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := srv.config("")
			if tt.bucket != nil {
				cfg.Bucket = tt.bucket(t)
			}
			s := srv.store(t, cfg)
			keep := blobtest.Data(uint64(100+i), 1000)
			dk, _, err := s.Put(ctx, bytes.NewReader(keep))
			if err != nil {
				t.Fatal(err)
			}
			data := blobtest.Data(uint64(200+i), 1000)
			d, _, err := s.Put(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(t, s, d)
			}
			if err := s.Delete(ctx, d); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.Open(ctx, d); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("Open after Delete: %v, want ErrNotFound", err)
			}
			if vs := s.versions(t, key(d)); len(vs) != 0 {
				t.Errorf("%d versions left, want none", len(vs))
			}
			if err := s.Delete(ctx, d); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("second Delete: %v, want ErrNotFound", err)
			}
			if got, err := readAll(t, s, dk); err != nil || !bytes.Equal(got, keep) {
				t.Errorf("the other blob: %d bytes, %v", len(got), err)
			}
			// The bytes may be stored again.
			if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if got, err := readAll(t, s, d); err != nil || !bytes.Equal(got, data) {
				t.Errorf("after a new Put: %d bytes, %v", len(got), err)
			}
		})
	}
}

// Once its retention is over an original may be deleted.
func TestDeleteAfterRetention(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	cfg := srv.config("")
	cfg.Retention = s3blob.Retention{Mode: s3blob.Compliance, Period: 2 * time.Second}
	s := srv.store(t, cfg)
	data := blobtest.Data(7, 100)
	d, _, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, d); !errors.Is(err, archive.ErrRetained) {
		t.Fatalf("Delete during retention: %v, want ErrRetained", err)
	}
	time.Sleep(3500 * time.Millisecond)
	if err := s.Delete(ctx, d); err != nil {
		t.Fatalf("Delete after retention: %v", err)
	}
	if _, err := s.Open(ctx, d); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Open after Delete: %v, want ErrNotFound", err)
	}
}

func TestDeleteLegalHold(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	s := srv.store(t, srv.config(""))
	data := blobtest.Data(8, 100)
	d, _, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	on := minio.LegalHoldEnabled
	if err := srv.admin.PutObjectLegalHold(ctx, s.bucket, key(d), minio.PutObjectLegalHoldOptions{
		VersionID: s.versions(t, key(d))[0].VersionID, Status: &on}); err != nil {
		t.Fatal(err)
	}
	err = s.Delete(ctx, d)
	if !errors.Is(err, archive.ErrRetained) {
		t.Fatalf("Delete under a legal hold: %v, want ErrRetained", err)
	}
	if got, err := readAll(t, s, d); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Open after a refused Delete: %d bytes, %v", len(got), err)
	}
	if want := "legal hold"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
