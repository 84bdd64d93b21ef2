package routing

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

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
	mem    *bytes.Buffer // a small body, from memPool
	br     *bytes.Reader // ra over mem
}

// memPool keeps the buffers of small bodies: a 10 KB packet's buffer was
// a twentieth of the bytes its acceptance allocated.
var memPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer put back in memPool.
const maxPooledBody = 256 << 10

// newSpool reads r to the end, refusing more than max bytes with
// ErrTooLarge; sizeHint is the declared length, or -1. The caller closes
// the spool.
func newSpool(r io.Reader, max, memMax, sizeHint int64, dir string) (*spool, error) {
	h := sha256.New()
	lr := &io.LimitedReader{R: r, N: max + 1}
	tee := io.TeeReader(lr, h)
	// Small bodies stay in memory, in one allocation when the declared
	// length is known (bytes.Buffer would double its way up to it).
	buf := memPool.Get().(*bytes.Buffer)
	buf.Reset()
	if sizeHint > 0 && sizeHint <= memMax {
		buf.Grow(int(sizeHint) + bytes.MinRead)
	}
	n, err := io.CopyN(buf, tee, memMax+1)
	if err != nil && !errors.Is(err, io.EOF) {
		putMem(buf)
		return nil, fmt.Errorf("routing: read body: %w", err)
	}
	if n <= memMax {
		if n > max {
			putMem(buf)
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
		}
		br := bytes.NewReader(buf.Bytes())
		s := &spool{ra: br, size: n, mem: buf, br: br}
		copy(s.digest[:], h.Sum(nil))
		return s, nil
	}
	defer putMem(buf)
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

// Close releases the body. A reader of a small body taken before (an
// attachment of the parsed packet, say) then reads nothing, as it would
// from a closed file, rather than the next body in its buffer.
func (s *spool) Close() error {
	if s.file != nil {
		return s.file.Close()
	}
	if s.mem != nil {
		s.br.Reset(nil)
		putMem(s.mem)
		s.mem, s.br = nil, nil
	}
	return nil
}

func putMem(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		memPool.Put(b)
	}
}
