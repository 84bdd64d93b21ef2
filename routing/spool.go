package routing

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/edocgw/edocgw/archive"
)

// spool holds a request body while it is checked: in memory up to memMax
// bytes, in a temporary file beyond. Only a packet that passes every check
// reaches the (write-once) archive, so hostile input never fills it.
type spool struct {
	ra     io.ReaderAt
	size   int64
	digest archive.Digest
	file   *os.File
}

// newSpool reads r to the end, refusing more than max bytes with
// ErrTooLarge; sizeHint is the declared length, or -1. The caller closes
// the spool.
func newSpool(r io.Reader, max, memMax, sizeHint int64, dir string) (*spool, error) {
	h := sha256.New()
	lr := &io.LimitedReader{R: r, N: max + 1}
	tee := io.TeeReader(lr, h)
	// Small bodies stay in memory, in one allocation when the declared
	// length is known (bytes.Buffer would double its way up to it).
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= memMax {
		buf.Grow(int(sizeHint) + bytes.MinRead)
	}
	n, err := io.CopyN(&buf, tee, memMax+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("routing: read body: %w", err)
	}
	if n <= memMax {
		if n > max {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
		}
		s := &spool{ra: bytes.NewReader(buf.Bytes()), size: n}
		copy(s.digest[:], h.Sum(nil))
		return s, nil
	}
	f, err := os.CreateTemp(dir, "edocgw-spool-*")
	if err != nil {
		return nil, unavailable("spool", err)
	}
	// The name is not needed: the file lives while it is open.
	_ = os.Remove(f.Name())
	s := &spool{ra: f, file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		s.Close()
		return nil, unavailable("spool", err)
	}
	m, err := io.Copy(f, tee)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("routing: read body: %w", err)
	}
	s.size = n + m
	if s.size > max {
		s.Close()
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	copy(s.digest[:], h.Sum(nil))
	return s, nil
}

func (s *spool) reader() io.Reader { return io.NewSectionReader(s.ra, 0, s.size) }

func (s *spool) Close() error {
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}
