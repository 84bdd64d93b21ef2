package s3blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/internal/ingest"
)

// Retention modes of S3 object lock.
const (
	Compliance = "COMPLIANCE"
	Governance = "GOVERNANCE"
)

const (
	// DefaultPartSize is the part size when Config.PartSize is zero.
	DefaultPartSize = 16 << 20
	minPartSize     = 5 << 20 // S3's minimum for all parts but the last
	maxPartSize     = 5 << 30
	maxParts        = 10000 // S3's limit per upload

	blobPrefix = "sha256/"
	tmpPrefix  = "tmp/"
	// cleanupTimeout bounds removing a temporary object after the caller's
	// context is done.
	cleanupTimeout = time.Minute
)

// Errors of New, besides those of the service.
var (
	ErrConfig           = errors.New("s3blob: invalid configuration")
	ErrNoObjectLock     = errors.New("s3blob: bucket has no object lock")
	ErrDefaultRetention = errors.New("s3blob: bucket has a default retention rule")
)

// Config configures a Store.
type Config struct {
	Endpoint  string // host:port of the S3 service
	AccessKey string
	SecretKey string
	Bucket    string
	Secure    bool   // HTTPS
	Region    string // optional
	// PartSize is the part size of uploads and the size of the buffer each
	// Put holds: 0 means DefaultPartSize; at least 5 MiB, at most 5 GiB.
	PartSize int64
	// MaxSize is the largest blob Put accepts, in bytes; 0: no limit.
	MaxSize int64
	// Retention is the object lock each original gets; zero: none.
	Retention Retention
	// Now is the clock retention periods start from; nil: time.Now.
	Now func() time.Time
	// Transport is the HTTP transport to use; nil: minio-go's default.
	Transport http.RoundTripper
}

// Retention is a per-object lock: Mode (Compliance or Governance) for
// Period from the Put.
type Retention struct {
	Mode   string
	Period time.Duration
}

// Store is an S3 blob store. It is safe for concurrent use, also by several
// processes on the same bucket.
type Store struct {
	c        *minio.Client
	core     minio.Core
	bucket   string
	partSize int64
	max      int64
	ret      Retention
	now      func() time.Time
	bufs     sync.Pool // of *[]byte, partSize long
	small    sync.Pool // of *[]byte, smallSize long
}

// smallSize is what Put reads before it takes a part-size buffer: a blob
// that fits is sent in one request from it, so that many Puts of small
// documents at once hold smallSize each, not a part each.
const smallSize = 1 << 20

var _ archive.BlobStore = (*Store)(nil)

func (c *Config) check() error {
	switch {
	case c.Endpoint == "":
		return fmt.Errorf("%w: no endpoint", ErrConfig)
	case c.Bucket == "":
		return fmt.Errorf("%w: no bucket", ErrConfig)
	case c.PartSize != 0 && (c.PartSize < minPartSize || c.PartSize > maxPartSize):
		return fmt.Errorf("%w: part size %d outside [5 MiB, 5 GiB]", ErrConfig, c.PartSize)
	case c.MaxSize < 0:
		return fmt.Errorf("%w: negative MaxSize", ErrConfig)
	}
	r := c.Retention
	switch {
	case r == Retention{}:
	case r.Mode != Compliance && r.Mode != Governance:
		return fmt.Errorf("%w: retention mode %q, want %s or %s", ErrConfig, r.Mode, Compliance, Governance)
	case r.Period <= 0:
		return fmt.Errorf("%w: retention period %v", ErrConfig, r.Period)
	}
	return nil
}

// New connects to the bucket, creating it with object lock enabled if it
// does not exist, and checks that an existing one suits the configuration.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.Secure,
		Region:    cfg.Region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Store{c: c, core: minio.Core{Client: c}, bucket: cfg.Bucket, partSize: cfg.PartSize, max: cfg.MaxSize, ret: cfg.Retention, now: cfg.Now}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.bufs.New = func() any { b := make([]byte, s.partSize); return &b }
	s.small.New = func() any { b := make([]byte, min(smallSize, s.partSize)); return &b }
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context, region string) error {
	exists, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3blob: bucket %s: %w", s.bucket, err)
	}
	if !exists {
		err := s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region, ObjectLocking: true})
		switch {
		case err == nil:
			if err := s.c.SetBucketLifecycle(ctx, s.bucket, tmpLifecycle()); err != nil {
				return fmt.Errorf("s3blob: bucket %s: lifecycle of %s: %w", s.bucket, tmpPrefix, err)
			}
		case code(err) == "BucketAlreadyOwnedByYou": // created by another instance meanwhile
		default:
			return fmt.Errorf("s3blob: creating bucket %s: %w", s.bucket, err)
		}
	}
	enabled, mode, _, _, err := s.c.GetObjectLockConfig(ctx, s.bucket)
	switch {
	case code(err) == "ObjectLockConfigurationNotFoundError":
		enabled = ""
	case err != nil:
		return fmt.Errorf("s3blob: bucket %s: object lock: %w", s.bucket, err)
	}
	if enabled != "Enabled" && s.ret != (Retention{}) {
		return fmt.Errorf("%w: %s (retention %s is configured; create the bucket with object lock)", ErrNoObjectLock, s.bucket, s.ret.Mode)
	}
	if mode != nil && *mode != "" {
		return fmt.Errorf("%w: %s has %s by default (temporary objects could not be removed; set retention in edocgw instead)", ErrDefaultRetention, s.bucket, *mode)
	}
	return nil
}

// tmpLifecycle expires what a crashed Put leaves under tmp/.
func tmpLifecycle() *lifecycle.Configuration {
	return &lifecycle.Configuration{Rules: []lifecycle.Rule{{
		ID:                          "edocgw-expire-tmp",
		Status:                      "Enabled",
		RuleFilter:                  lifecycle.Filter{Prefix: tmpPrefix},
		Expiration:                  lifecycle.Expiration{Days: 1},
		NoncurrentVersionExpiration: lifecycle.NoncurrentVersionExpiration{NoncurrentDays: 1},
	}}}
}

// code is the S3 error code of err, or "" if err is not an S3 error.
func code(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

func key(d archive.Digest) string { return blobPrefix + d.String() }

// Put implements archive.BlobStore.
func (s *Store) Put(ctx context.Context, r io.Reader) (d archive.Digest, n int64, err error) {
	in := ingest.New(ctx, r, s.max)
	// A blob that fits in smallSize is sent from a small buffer; a larger
	// one goes on in a part-size buffer. After a failed request the HTTP
	// transport may still be reading the buffer: it is left to the garbage
	// collector then.
	pool, bp := &s.small, s.small.Get().(*[]byte)
	m, err := io.ReadFull(in, *bp)
	if err == nil {
		sp := bp
		pool, bp = &s.bufs, s.bufs.Get().(*[]byte)
		copy(*bp, *sp)
		s.small.Put(sp)
		var k int
		k, err = io.ReadFull(in, (*bp)[m:])
		m += k
	}
	defer func() {
		if err == nil {
			pool.Put(bp)
		}
	}()
	switch {
	case err == nil:
		return s.putLarge(ctx, in, *bp)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		d, n = in.Sum()
		if err := s.putSmall(ctx, d, (*bp)[:m]); err != nil {
			return archive.Digest{}, 0, err
		}
		return d, n, nil
	}
	return archive.Digest{}, 0, fmt.Errorf("s3blob: put: %w", err)
}

// putSmall writes a blob held in memory straight to its key.
func (s *Store) putSmall(ctx context.Context, d archive.Digest, b []byte) error {
	k := key(d)
	if _, ok, err := s.oldest(ctx, k); err != nil || ok {
		return err
	}
	// The payload is signed with its SHA-256 (our digest) and also sent as
	// its checksum, so the service refuses bytes altered on the way.
	opts := minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		DisableContentSha256: true,
		UserMetadata:         map[string]string{"X-Amz-Checksum-Sha256": base64.StdEncoding.EncodeToString(d[:])},
	}
	opts.Mode, opts.RetainUntilDate = s.retention()
	opts.SetMatchETagExcept("*")
	_, err := s.core.PutObject(ctx, s.bucket, k, bytes.NewReader(b), int64(len(b)), "", d.String(), opts)
	if code(err) == "PreconditionFailed" {
		return nil // stored meanwhile by another Put
	}
	if err != nil {
		return fmt.Errorf("s3blob: put %s: %w", d, err)
	}
	return nil
}

// putLarge uploads buf, already full, and the rest of in to a temporary key
// in parts of len(buf), then copies it to its final key.
func (s *Store) putLarge(ctx context.Context, in *ingest.Reader, buf []byte) (d archive.Digest, n int64, err error) {
	tmp, err := tmpKey()
	if err != nil {
		return archive.Digest{}, 0, err
	}
	versionID, err := s.upload(ctx, tmp, in, buf)
	if err != nil {
		return archive.Digest{}, 0, fmt.Errorf("s3blob: put: %w", err)
	}
	defer s.remove(ctx, tmp, versionID)

	d, n = in.Sum()
	k := key(d)
	switch _, ok, err := s.oldest(ctx, k); {
	case err != nil:
		return archive.Digest{}, 0, err
	case ok:
		return d, n, nil
	}
	dst := minio.CopyDestOptions{Bucket: s.bucket, Object: k}
	dst.Mode, dst.RetainUntilDate = s.retention()
	if _, err := s.c.ComposeObject(ctx, dst, minio.CopySrcOptions{Bucket: s.bucket, Object: tmp, VersionID: versionID}); err != nil {
		return archive.Digest{}, 0, fmt.Errorf("s3blob: put %s: copy from %s: %w", d, tmp, err)
	}
	return d, n, nil
}

// upload is a multipart upload of buf, already full, and the rest of in to
// k, through buf. Each part's payload is signed with its SHA-256. It returns
// the version stored; on error the upload is aborted.
func (s *Store) upload(ctx context.Context, k string, in *ingest.Reader, buf []byte) (versionID string, err error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, k, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = s.core.AbortMultipartUpload(ctx, s.bucket, k, id)
		}
	}()
	var parts []minio.CompletePart
	n := len(buf)
	for {
		if len(parts) == maxParts {
			return "", fmt.Errorf("%w: more than %d parts of %d bytes", archive.ErrTooLarge, maxParts, len(buf))
		}
		sum := sha256.Sum256(buf[:n])
		p, err := s.core.PutObjectPart(ctx, s.bucket, k, id, len(parts)+1, bytes.NewReader(buf[:n]), int64(n),
			minio.PutObjectPartOptions{Sha256Hex: hex.EncodeToString(sum[:]), DisableContentSha256: true})
		if err != nil {
			return "", err
		}
		parts = append(parts, minio.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
		if n < len(buf) {
			break
		}
		n, err = io.ReadFull(in, buf)
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return "", err
		}
	}
	info, err := s.core.CompleteMultipartUpload(ctx, s.bucket, k, id, parts, minio.PutObjectOptions{})
	if err != nil {
		return "", err
	}
	return info.VersionID, nil
}

// retention is the lock for an object stored now.
func (s *Store) retention() (minio.RetentionMode, time.Time) {
	if s.ret == (Retention{}) {
		return "", time.Time{}
	}
	// S3 takes whole seconds: round up, never shorten the period.
	until := s.now().Add(s.ret.Period).UTC()
	if t := until.Truncate(time.Second); t.Before(until) {
		until = t.Add(time.Second)
	}
	return minio.RetentionMode(s.ret.Mode), until
}

// remove deletes one version of a temporary object, even after ctx is done.
// A failure leaves it to the tmp/ lifecycle rule.
func (s *Store) remove(ctx context.Context, k, versionID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = s.c.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{VersionID: versionID})
}

func tmpKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("s3blob: %w", err)
	}
	return tmpPrefix + hex.EncodeToString(b[:]), nil
}

// oldest returns the oldest version of k that is not a delete marker.
func (s *Store) oldest(ctx context.Context, k string) (minio.ObjectInfo, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var v minio.ObjectInfo
	found := false
	// Versions of a key are listed newest first: keep the last one.
	for o := range s.c.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: k, WithVersions: true}) {
		if o.Err != nil {
			return v, false, fmt.Errorf("s3blob: listing versions of %s: %w", k, o.Err)
		}
		if o.Key == k && !o.IsDeleteMarker {
			v, found = o, true
		}
	}
	return v, found, nil
}

// Open implements archive.BlobStore.
func (s *Store) Open(ctx context.Context, d archive.Digest) (archive.Blob, error) {
	k := key(d)
	v, ok, err := s.oldest(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("s3blob: open %s: %w", d, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3blob: open %s: %w", d, archive.ErrNotFound)
	}
	opts := minio.GetObjectOptions{VersionID: v.VersionID}
	// Two lazy handles: the sequential stream, and range requests for ReadAt.
	seq, err := s.c.GetObject(ctx, s.bucket, k, opts)
	if err != nil {
		return nil, fmt.Errorf("s3blob: open %s: %w", d, err)
	}
	ra, err := s.c.GetObject(ctx, s.bucket, k, opts)
	if err != nil {
		seq.Close()
		return nil, fmt.Errorf("s3blob: open %s: %w", d, err)
	}
	return &blob{d: d, seq: seq, ra: ra, r: archive.NewVerifyingReader(seq, d, v.Size), size: v.Size}, nil
}

type blob struct {
	d       archive.Digest
	seq, ra *minio.Object
	r       io.Reader
	size    int64
}

func (b *blob) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	return n, b.wrap(err)
}

func (b *blob) ReadAt(p []byte, off int64) (int, error) {
	n, err := b.ra.ReadAt(p, off)
	return n, b.wrap(err)
}

func (b *blob) Close() error {
	err := b.seq.Close()
	if rerr := b.ra.Close(); err == nil {
		err = rerr
	}
	return err
}

func (b *blob) Size() int64 { return b.size }

// wrap marks a version that vanished after Open as not found.
func (b *blob) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	switch code(err) {
	case "":
		return err
	case "NoSuchKey", "NoSuchVersion":
		return fmt.Errorf("s3blob: read %s: %w: %w", b.d, archive.ErrNotFound, err)
	default:
		return fmt.Errorf("s3blob: read %s: %w", b.d, err)
	}
}
