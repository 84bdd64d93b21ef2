package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edocgw/edocgw/archive"
)

var _ archive.Purger = (*Store)(nil)

// Delete implements archive.Purger: it removes the blob's read-only file
// and fsyncs its directory. The directories stay; nothing else is touched.
// A filesystem has no retention lock, so Delete never reports
// archive.ErrRetained.
func (s *Store) Delete(ctx context.Context, d archive.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsblob: delete %s: %w", d, err)
	}
	p := s.path(d)
	info, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: delete %s: %w", d, archive.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("fsblob: delete %s: %w", d, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("fsblob: delete %s: not a regular file, left as it is", d)
	}
	// Removing a read-only file needs only write access to its directory.
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: delete %s: %w", d, archive.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("fsblob: delete %s: %w", d, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("fsblob: delete %s: %w", d, err)
	}
	return nil
}
