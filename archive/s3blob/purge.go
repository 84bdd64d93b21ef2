package s3blob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/edocgw/edocgw/archive"
)

var _ archive.Purger = (*Store)(nil)

// Delete implements archive.Purger: it removes every version of the
// blob's key, delete markers included. It first reads the lock of each
// version: if any still has a retention date after Now or a legal hold,
// it deletes nothing and returns an error wrapping archive.ErrRetained
// (GOVERNANCE too: the purge never bypasses a lock). Versions are then
// deleted newest first, so the original goes last: if the service refuses
// one anyway (a lock set meanwhile, a clock ahead of ours), what Open reads
// is still the original.
func (s *Store) Delete(ctx context.Context, d archive.Digest) error {
	k := key(d)
	vs, err := s.versions(ctx, k)
	if err != nil {
		return fmt.Errorf("s3blob: delete %s: %w", d, err)
	}
	found := false
	for _, v := range vs {
		found = found || !v.IsDeleteMarker
	}
	if !found {
		return fmt.Errorf("s3blob: delete %s: %w", d, archive.ErrNotFound)
	}
	for _, v := range vs {
		if v.IsDeleteMarker {
			continue
		}
		if err := s.checkUnlocked(ctx, k, v.VersionID); err != nil {
			return fmt.Errorf("s3blob: delete %s: %w", d, err)
		}
	}
	for _, v := range vs {
		err := s.c.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{VersionID: v.VersionID})
		switch {
		case err == nil:
		case locked(err):
			return fmt.Errorf("s3blob: delete %s: version %s: %w: %w", d, v.VersionID, archive.ErrRetained, err)
		default:
			return fmt.Errorf("s3blob: delete %s: version %s: %w", d, v.VersionID, err)
		}
	}
	return nil
}

// versions lists every version of k, delete markers included, newest first.
func (s *Store) versions(ctx context.Context, k string) ([]minio.ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var vs []minio.ObjectInfo
	for o := range s.c.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: k, WithVersions: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("listing versions of %s: %w", k, o.Err)
		}
		if o.Key == k {
			vs = append(vs, o)
		}
	}
	return vs, nil
}

// checkUnlocked returns an error wrapping archive.ErrRetained if the
// version has a retention date after Now or a legal hold.
func (s *Store) checkUnlocked(ctx context.Context, k, versionID string) error {
	mode, until, err := s.c.GetObjectRetention(ctx, s.bucket, k, versionID)
	switch {
	case noLock(err):
	case err != nil:
		return fmt.Errorf("retention of version %s: %w", versionID, err)
	case mode != nil && *mode != "" && until != nil && until.After(s.now()):
		return fmt.Errorf("%w: version %s is under %s retention until %s", archive.ErrRetained, versionID, *mode, until.UTC().Format("2006-01-02T15:04:05Z"))
	}
	hold, err := s.c.GetObjectLegalHold(ctx, s.bucket, k, minio.GetObjectLegalHoldOptions{VersionID: versionID})
	switch {
	case noLock(err):
	case err != nil:
		return fmt.Errorf("legal hold of version %s: %w", versionID, err)
	case hold != nil && *hold == minio.LegalHoldEnabled:
		return fmt.Errorf("%w: version %s is under a legal hold", archive.ErrRetained, versionID)
	}
	return nil
}

// noLock reports the answer for a version, or a bucket, without that
// lock (MinIO: NoSuchObjectLockConfiguration, or InvalidRequest "Bucket is
// missing ObjectLockConfiguration" for a bucket created without it).
func noLock(err error) bool {
	var er minio.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	switch er.Code {
	case "NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError":
		return true
	case "InvalidRequest":
		return strings.Contains(er.Message, "ObjectLockConfiguration")
	}
	return false
}

// locked reports a deletion refused because of object lock: MinIO answers
// InvalidRequest "Object is WORM protected…", AWS S3 AccessDenied "…
// protected by object lock".
func locked(err error) bool {
	var er minio.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	msg := strings.ToLower(er.Message)
	return er.Code == "ObjectLocked" || strings.Contains(msg, "worm") || strings.Contains(msg, "object lock")
}
