package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/blobtest"
	"github.com/edocgw/edocgw/archive/s3blob"
	"github.com/edocgw/edocgw/internal/testenv"
)

// server is a MinIO for one test, with an admin client that goes behind the
// stores' backs.
type server struct {
	*testenv.MinIOServer
	admin *minio.Client
}

func newServer(t testing.TB) *server {
	t.Helper()
	srv := testenv.MinIO(t)
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return &server{srv, c}
}

func (s *server) config(bucket string) s3blob.Config {
	return s3blob.Config{Endpoint: s.Endpoint, AccessKey: s.AccessKey, SecretKey: s.SecretKey, Bucket: bucket}
}

func randomBucket() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "edocgw-test-" + hex.EncodeToString(b)
}

// testStore gives the suite access to the bucket behind the store.
type testStore struct {
	*s3blob.Store
	srv    *server
	bucket string
}

func (s *server) store(t testing.TB, cfg s3blob.Config) testStore {
	t.Helper()
	if cfg.Bucket == "" {
		cfg.Bucket = randomBucket()
	}
	st, err := s3blob.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return testStore{st, s, cfg.Bucket}
}

func key(d archive.Digest) string { return "sha256/" + d.String() }

// versions lists the versions of k, newest first.
func (s testStore) versions(t testing.TB, k string) []minio.ObjectInfo {
	t.Helper()
	var vs []minio.ObjectInfo
	for o := range s.srv.admin.ListObjectsIter(context.Background(), s.bucket, minio.ListObjectsOptions{Prefix: k, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.Key == k {
			vs = append(vs, o)
		}
	}
	return vs
}

// Tamper removes every version of the blob's key (possible when no
// retention protects it) and puts data in its place: merely adding a newer
// version would not change what Open reads.
func (s testStore) Tamper(t *testing.T, d archive.Digest, data []byte) {
	t.Helper()
	ctx := context.Background()
	for _, v := range s.versions(t, key(d)) {
		if err := s.srv.admin.RemoveObject(ctx, s.bucket, key(d), minio.RemoveObjectOptions{VersionID: v.VersionID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.srv.admin.PutObject(ctx, s.bucket, key(d), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (s testStore) Contents(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for o := range s.srv.admin.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		e := fmt.Sprintf("%s@%s", o.Key, o.VersionID)
		if o.IsDeleteMarker {
			e += " (delete marker)"
		}
		out = append(out, e)
	}
	for u := range s.srv.admin.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		out = append(out, "upload "+u.Key+" "+u.UploadID)
	}
	slices.Sort(out)
	return out
}

func TestConformance(t *testing.T) {
	srv := newServer(t)
	blobtest.Run(t, func(t *testing.T) archive.BlobStore {
		cfg := srv.config("")
		cfg.MaxSize = blobtest.MaxSize
		return srv.store(t, cfg)
	})
}

func TestMemory(t *testing.T) {
	srv := newServer(t)
	blobtest.RunMemory(t, srv.store(t, srv.config("")))
}

func TestBucketCreatedWithObjectLock(t *testing.T) {
	srv := newServer(t)
	s := srv.store(t, srv.config(""))
	ctx := context.Background()
	lock, _, _, _, err := srv.admin.GetObjectLockConfig(ctx, s.bucket)
	if err != nil || lock != "Enabled" {
		t.Errorf("object lock %q, %v; want Enabled", lock, err)
	}
	v, err := srv.admin.GetBucketVersioning(ctx, s.bucket)
	if err != nil || !v.Enabled() {
		t.Errorf("versioning %+v, %v; want enabled", v, err)
	}
	lc, err := srv.admin.GetBucketLifecycle(ctx, s.bucket)
	if err != nil || len(lc.Rules) != 1 || lc.Rules[0].RuleFilter.Prefix != "tmp/" || lc.Rules[0].Expiration.Days != 1 {
		t.Errorf("lifecycle %+v, %v; want tmp/ expiring after a day", lc, err)
	}
	// A second New on the same bucket accepts it as it is.
	if _, err := s3blob.New(ctx, srv.config(s.bucket)); err != nil {
		t.Errorf("New on the existing bucket: %v", err)
	}
}

// lockedBlobs puts a small blob and one past the part size (stored through
// a temporary object and a copy) and returns their contents.
func lockedBlobs(t *testing.T, s testStore) [][]byte {
	t.Helper()
	blobs := [][]byte{blobtest.Data(1, 1000), blobtest.Data(2, 12<<20)}
	for _, b := range blobs {
		d, _, err := s.Put(context.Background(), bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if vs := s.versions(t, key(d)); len(vs) != 1 {
			t.Fatalf("%d versions after Put, want 1", len(vs))
		}
	}
	if c := s.Contents(t); len(c) != len(blobs) {
		t.Fatalf("storage holds %q, want only the %d blobs", c, len(blobs))
	}
	return blobs
}

func readAll(t *testing.T, s archive.BlobStore, d archive.Digest) ([]byte, error) {
	t.Helper()
	b, err := s.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(b)
}

func TestComplianceRetention(t *testing.T) {
	srv := newServer(t)
	now := time.Now().Truncate(time.Second).Add(time.Minute + 500*time.Millisecond)
	cfg := srv.config("")
	cfg.PartSize = 5 << 20
	cfg.Retention = s3blob.Retention{Mode: s3blob.Compliance, Period: time.Hour}
	cfg.Now = func() time.Time { return now }
	s := srv.store(t, cfg)
	ctx := context.Background()
	wantUntil := now.Truncate(time.Second).Add(time.Hour + time.Second) // rounded up

	for _, data := range lockedBlobs(t, s) {
		t.Run(fmt.Sprint(len(data)), func(t *testing.T) {
			d := archive.Sum(data)
			k := key(d)
			orig := s.versions(t, k)[0].VersionID

			mode, until, err := srv.admin.GetObjectRetention(ctx, s.bucket, k, orig)
			if err != nil || mode == nil || *mode != minio.Compliance || !until.Equal(wantUntil) {
				t.Errorf("retention %v until %v, %v; want COMPLIANCE until %v", mode, until, err, wantUntil)
			}
			earlier := wantUntil.Add(-30 * time.Minute)
			if err := srv.admin.PutObjectRetention(ctx, s.bucket, k, minio.PutObjectRetentionOptions{
				VersionID: orig, Mode: mode, RetainUntilDate: &earlier, GovernanceBypass: true}); err == nil {
				t.Error("shortening a COMPLIANCE retention succeeded")
			}
			for _, bypass := range []bool{false, true} {
				err := srv.admin.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{VersionID: orig, GovernanceBypass: bypass})
				if err == nil {
					t.Errorf("deleting the original version (bypass %v) succeeded", bypass)
				}
			}
			// An overwrite only adds a version; a plain delete only a marker.
			altered := append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]+1)
			if _, err := srv.admin.PutObject(ctx, s.bucket, k, bytes.NewReader(altered), int64(len(altered)), minio.PutObjectOptions{}); err != nil {
				t.Fatalf("overwrite: %v", err)
			}
			got, err := readAll(t, s, d)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("after an overwrite Open read %d bytes (original: %v), %v; want the original", len(got), bytes.Equal(got, data), err)
			}
			if err := srv.admin.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil {
				t.Fatalf("delete without a version: %v", err)
			}
			got, err = readAll(t, s, d)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("after a delete marker Open read %d bytes, %v; want the original", len(got), err)
			}
			// Put still finds it stored and adds nothing.
			before := s.Contents(t)
			if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if after := s.Contents(t); !slices.Equal(before, after) {
				t.Errorf("Put of a stored blob behind a delete marker changed the storage:\nbefore %q\nafter  %q", before, after)
			}
			vs := s.versions(t, k)
			if vs[len(vs)-1].VersionID != orig {
				t.Errorf("the original version %s is no longer the oldest: %+v", orig, vs)
			}
		})
	}
}

func TestGovernanceRetention(t *testing.T) {
	srv := newServer(t)
	cfg := srv.config("")
	cfg.PartSize = 5 << 20
	cfg.Retention = s3blob.Retention{Mode: s3blob.Governance, Period: time.Hour}
	s := srv.store(t, cfg)
	ctx := context.Background()
	for _, data := range lockedBlobs(t, s) {
		t.Run(fmt.Sprint(len(data)), func(t *testing.T) {
			d := archive.Sum(data)
			k := key(d)
			orig := s.versions(t, k)[0].VersionID
			mode, _, err := srv.admin.GetObjectRetention(ctx, s.bucket, k, orig)
			if err != nil || mode == nil || *mode != minio.Governance {
				t.Errorf("retention %v, %v; want GOVERNANCE", mode, err)
			}
			if err := srv.admin.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{VersionID: orig}); err == nil {
				t.Fatal("deleting the original version without bypass succeeded")
			}
			if got, err := readAll(t, s, d); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Open after a refused delete: %d bytes, %v", len(got), err)
			}
			// Whoever may bypass governance can remove the original and put
			// other bytes: Open must then fail, not return them.
			if err := srv.admin.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{VersionID: orig, GovernanceBypass: true}); err != nil {
				t.Fatalf("delete with bypass: %v", err)
			}
			altered := append([]byte{data[0] ^ 1}, data[1:]...)
			if _, err := srv.admin.PutObject(ctx, s.bucket, k, bytes.NewReader(altered), int64(len(altered)), minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			if got, err := readAll(t, s, d); !errors.Is(err, archive.ErrCorrupt) {
				t.Errorf("Open of replaced bytes: %d bytes (altered: %v), %v; want ErrCorrupt", len(got), bytes.Equal(got, altered), err)
			}
		})
	}
}

func TestConcurrentSmallPutsStoreOneVersion(t *testing.T) {
	srv := newServer(t)
	s := srv.store(t, srv.config(""))
	data := blobtest.Data(3, 100<<10)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, _, err := s.Put(context.Background(), bytes.NewReader(data)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if vs := s.versions(t, key(archive.Sum(data))); len(vs) != 1 {
		t.Errorf("8 concurrent Puts of the same bytes stored %d versions, want 1", len(vs))
	}
}

func TestExistingBucketWithoutObjectLock(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	bucket := randomBucket()
	if err := srv.admin.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := srv.config(bucket)
	cfg.Retention = s3blob.Retention{Mode: s3blob.Compliance, Period: time.Hour}
	if _, err := s3blob.New(ctx, cfg); !errors.Is(err, s3blob.ErrNoObjectLock) {
		t.Errorf("New with retention on a bucket without object lock: %v, want ErrNoObjectLock", err)
	}
	// Without retention such a bucket (unversioned) serves.
	cfg.Retention, cfg.PartSize = s3blob.Retention{}, 5<<20
	s := srv.store(t, cfg)
	for _, data := range [][]byte{blobtest.Data(4, 10), blobtest.Data(5, 11<<20)} {
		d, _, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(t, s, d); err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back %d of %d bytes, %v", len(got), len(data), err)
		}
	}
	if c := s.Contents(t); len(c) != 2 {
		t.Errorf("storage holds %q, want the 2 blobs", c)
	}
}

func TestBucketWithDefaultRetentionRefused(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	bucket := randomBucket()
	if err := srv.admin.MakeBucket(ctx, bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	mode, validity, unit := minio.Governance, uint(1), minio.Days
	if err := srv.admin.SetObjectLockConfig(ctx, bucket, &mode, &validity, &unit); err != nil {
		t.Fatal(err)
	}
	if _, err := s3blob.New(ctx, srv.config(bucket)); !errors.Is(err, s3blob.ErrDefaultRetention) {
		t.Errorf("New on a bucket with default retention: %v, want ErrDefaultRetention", err)
	}
}

func TestConfigErrors(t *testing.T) {
	ok := s3blob.Config{Endpoint: "127.0.0.1:1", Bucket: "b"}
	tests := []struct {
		name string
		edit func(*s3blob.Config)
	}{
		{"no endpoint", func(c *s3blob.Config) { c.Endpoint = "" }},
		{"no bucket", func(c *s3blob.Config) { c.Bucket = "" }},
		{"part size too small", func(c *s3blob.Config) { c.PartSize = 5<<20 - 1 }},
		{"part size too large", func(c *s3blob.Config) { c.PartSize = 5<<30 + 1 }},
		{"negative MaxSize", func(c *s3blob.Config) { c.MaxSize = -1 }},
		{"unknown mode", func(c *s3blob.Config) { c.Retention = s3blob.Retention{Mode: "compliance", Period: time.Hour} }},
		{"mode without period", func(c *s3blob.Config) { c.Retention = s3blob.Retention{Mode: s3blob.Governance} }},
		{"period without mode", func(c *s3blob.Config) { c.Retention = s3blob.Retention{Period: time.Hour} }},
	}
	for _, tt := range tests {
		cfg := ok
		tt.edit(&cfg)
		if _, err := s3blob.New(context.Background(), cfg); !errors.Is(err, s3blob.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tt.name, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s3blob.New(ctx, s3blob.Config{Endpoint: "127.0.0.1:1", Bucket: "edocgw", AccessKey: "a", SecretKey: "b"})
	if err == nil || errors.Is(err, s3blob.ErrConfig) {
		t.Errorf("New against a closed port: %v, want a connection error", err)
	}
}

func BenchmarkPut(b *testing.B) {
	srv := newServer(b)
	blobtest.BenchPut(b, srv.store(b, srv.config("")))
}

func BenchmarkOpenRead(b *testing.B) {
	srv := newServer(b)
	blobtest.BenchOpenRead(b, srv.store(b, srv.config("")))
}

// Blobs on either side of the small buffer (1 MiB) and of the part size
// (5 MiB here) are stored whole and read back the same, one version each.
func TestPutSizesAroundBuffers(t *testing.T) {
	srv := newServer(t)
	cfg := srv.config("")
	cfg.PartSize = 5 << 20
	s := srv.store(t, cfg)
	for i, n := range []int{0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 5<<20 - 1, 5 << 20, 5<<20 + 1, 11 << 20} {
		data := blobtest.Data(uint64(10+i), n)
		d, got, err := s.Put(context.Background(), bytes.NewReader(data))
		if err != nil || got != int64(n) || d != archive.Sum(data) {
			t.Fatalf("Put of %d bytes = %s, %d, %v", n, d, got, err)
		}
		b, err := s.Open(context.Background(), d)
		if err != nil {
			t.Fatalf("Open of %d bytes: %v", n, err)
		}
		back, err := io.ReadAll(b)
		b.Close()
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("read back %d of %d bytes: %v", len(back), n, err)
		}
		if vs := s.versions(t, key(d)); len(vs) != 1 {
			t.Fatalf("%d bytes: %d versions", n, len(vs))
		}
	}
}
