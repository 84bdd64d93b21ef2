package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/archive/s3blob"
	"github.com/edocgw/edocgw/internal/store"
)

// archiveHelp describes --archive-url.
const archiveHelp = `archive of originals: s3://ACCESS:SECRET@HOST:PORT/BUCKET[?tls=true&lock=compliance|governance&retention=DAYS&part-size=MIB]
(credentials may come from $EDOCGW_S3_ACCESS_KEY and $EDOCGW_S3_SECRET_KEY instead), or file:///DIR; default DATA/blobs`

// gatewayStoreOptions are the metadata store's options of a running
// gateway: serve's, and the in-process bench's, which must be the same.
func gatewayStoreOptions(env Env) store.Options {
	return store.Options{Now: env.Now, GatherWindow: store.ServeGatherWindow}
}

// openArchive opens the blob store named by rawURL, or the embedded one
// under dataDir when rawURL is empty.
func openArchive(ctx context.Context, rawURL, dataDir string, maxSize int64, now func() time.Time) (archive.BlobStore, string, error) {
	if rawURL == "" {
		dir := filepath.Join(dataDir, "blobs")
		s, err := fsblob.New(dir, fsblob.Options{MaxSize: maxSize, Now: now})
		return s, dir, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("--archive-url: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" {
			return nil, "", fmt.Errorf("--archive-url %q: file:///DIR needs a path", rawURL)
		}
		s, err := fsblob.New(u.Path, fsblob.Options{MaxSize: maxSize, Now: now})
		return s, u.Path, err
	case "s3":
	default:
		return nil, "", fmt.Errorf("--archive-url %q: scheme must be s3 or file", redactURL(u))
	}
	cfg := s3blob.Config{Endpoint: u.Host, Bucket: strings.Trim(u.Path, "/"), MaxSize: maxSize, Now: now, Secure: true,
		AccessKey: os.Getenv("EDOCGW_S3_ACCESS_KEY"), SecretKey: os.Getenv("EDOCGW_S3_SECRET_KEY")}
	if u.User != nil {
		cfg.AccessKey = u.User.Username()
		if p, ok := u.User.Password(); ok {
			cfg.SecretKey = p
		}
	}
	if cfg.Endpoint == "" || cfg.Bucket == "" || strings.Contains(cfg.Bucket, "/") {
		return nil, "", fmt.Errorf("--archive-url %s: want s3://HOST:PORT/BUCKET", redactURL(u))
	}
	q := u.Query()
	if v := q.Get("tls"); v != "" {
		if cfg.Secure, err = strconv.ParseBool(v); err != nil {
			return nil, "", fmt.Errorf("--archive-url: tls=%q", v)
		}
	}
	cfg.Region = q.Get("region")
	if v := q.Get("part-size"); v != "" {
		mib, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mib < 5 {
			return nil, "", fmt.Errorf("--archive-url: part-size=%q (MiB, at least 5)", v)
		}
		cfg.PartSize = mib << 20
	}
	if mode := q.Get("lock"); mode != "" {
		days, err := strconv.Atoi(q.Get("retention"))
		if err != nil || days <= 0 {
			return nil, "", fmt.Errorf("--archive-url: lock=%s needs retention=DAYS", mode)
		}
		switch strings.ToLower(mode) {
		case "compliance":
			cfg.Retention.Mode = s3blob.Compliance
		case "governance":
			cfg.Retention.Mode = s3blob.Governance
		default:
			return nil, "", fmt.Errorf("--archive-url: lock=%q (compliance or governance)", mode)
		}
		cfg.Retention.Period = time.Duration(days) * 24 * time.Hour
	}
	s, err := s3blob.New(ctx, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("archive %s: %w", redactURL(u), err)
	}
	return s, redactURL(u), nil
}

// redactURL hides a URL's password.
func redactURL(u *url.URL) string { return u.Redacted() }
