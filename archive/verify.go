package archive

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
)

// NewVerifyingReader returns a reader of r's bytes that, when r reports
// io.EOF, checks that what was read hashes to want and is size bytes long
// (size < 0: any length). On a mismatch the final Read returns an error
// wrapping ErrCorrupt instead of io.EOF, and so does every later Read.
func NewVerifyingReader(r io.Reader, want Digest, size int64) io.Reader {
	return &verifyingReader{r: r, want: want, size: size, h: sha256.New()}
}

type verifyingReader struct {
	r    io.Reader
	want Digest
	size int64
	h    hash.Hash
	n    int64
	err  error // sticky: io.EOF or a corruption
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF {
		var got Digest
		v.h.Sum(got[:0])
		switch {
		case got != v.want:
			err = fmt.Errorf("%w: %s: read %d bytes hashing to %s", ErrCorrupt, v.want, v.n, got)
		case v.size >= 0 && v.n != v.size:
			err = fmt.Errorf("%w: %s: read %d bytes, storage reports %d", ErrCorrupt, v.want, v.n, v.size)
		}
		v.err = err
	}
	return n, err
}
