// Package ingest is the reading side of a Put shared by the blob stores:
// hashing, counting, the size limit and cancellation.
package ingest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	"github.com/edocgw/edocgw/archive"
)

// Reader passes the bytes of an input through, hashing and counting them. It
// fails with an error wrapping archive.ErrTooLarge once more than max bytes
// arrive (max <= 0: no limit) and with the context's error once ctx is done.
// The first error other than io.EOF is sticky and kept for Err.
type Reader struct {
	ctx context.Context
	r   io.Reader
	max int64
	n   int64
	h   hash.Hash
	err error
}

// New returns a Reader of r.
func New(ctx context.Context, r io.Reader, max int64) *Reader {
	return &Reader{ctx: ctx, r: r, max: max, h: sha256.New()}
}

func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return 0, err
	}
	if r.max > 0 && int64(len(p)) > r.max-r.n+1 {
		p = p[:r.max-r.n+1] // one byte past the limit is enough to know
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	if r.max > 0 && r.n > r.max {
		r.err = fmt.Errorf("%w: more than %d bytes", archive.ErrTooLarge, r.max)
		return 0, r.err
	}
	r.h.Write(p[:n])
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// Err is the first error other than io.EOF that Read returned, or nil.
func (r *Reader) Err() error { return r.err }

// Sum returns the digest and count of the bytes read so far.
func (r *Reader) Sum() (archive.Digest, int64) {
	var d archive.Digest
	r.h.Sum(d[:0])
	return d, r.n
}
