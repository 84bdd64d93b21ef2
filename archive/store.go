package archive

import (
	"context"
	"errors"
	"io"
)

// Errors of the archive. Implementations wrap them with %w; test with errors.Is.
var (
	// ErrNotFound: no blob is stored under the digest.
	ErrNotFound = errors.New("archive: blob not found")
	// ErrCorrupt: the stored bytes do not hash to the blob's digest.
	ErrCorrupt = errors.New("archive: blob corrupt")
	// ErrTooLarge: a Put exceeded the store's configured maximum size;
	// nothing of it stays stored.
	ErrTooLarge = errors.New("archive: blob too large")
	// ErrInvalidDigest: text that is not a SHA-256 digest in hex.
	ErrInvalidDigest = errors.New("archive: invalid digest")
)

// BlobStore is a write-once, content-addressed store of originals.
// Implementations are safe for concurrent use.
type BlobStore interface {
	// Put stores the bytes of r, computing their SHA-256 while streaming (our
	// own digest, never an S3 checksum), and returns it with the size.
	// Storing bytes that are already stored is not an error and stores
	// nothing new. On any error nothing of r stays stored.
	Put(ctx context.Context, r io.Reader) (Digest, int64, error)
	// Open returns the blob for reading. Reading it to the end verifies the
	// digest: a mismatch is reported on the last Read as an error wrapping
	// ErrCorrupt. An unknown digest gives an error wrapping ErrNotFound.
	// The Blob's reads may be bound to ctx.
	Open(ctx context.Context, d Digest) (Blob, error)
}

// Blob is a stored blob opened for reading.
//
// Read returns the bytes from the start and verifies the digest at the end.
// ReadAt is independent of Read, for parsers that need random access; the
// bytes it returns are not verified, so a caller that must be certain reads
// the blob to the end once (as the auditor's verification does).
type Blob interface {
	io.Reader
	io.ReaderAt
	io.Closer
	// Size is the blob's length in bytes as the storage reports it.
	Size() int64
}
