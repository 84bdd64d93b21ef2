package archive

import (
	"context"
	"errors"
)

// ErrRetained: the storage keeps the blob under a lock that has not
// expired (S3 object lock retention or legal hold); nothing was deleted.
var ErrRetained = errors.New("archive: blob retained by the storage's lock")

// Purger is implemented by blob stores that can remove an original for
// good, once the retention period of every document that needs it is over.
// It stands beside [BlobStore] and is not part of it: the gateway itself
// never deletes, only the explicit, audited purge does.
type Purger interface {
	// Delete removes the blob stored under d: afterwards Open reports
	// ErrNotFound. An unknown digest gives an error wrapping ErrNotFound; a
	// blob the storage still locks gives one wrapping ErrRetained and stays
	// readable. Delete does not know which documents share the bytes: the
	// caller checks that none still needs them.
	Delete(ctx context.Context, d Digest) error
}
