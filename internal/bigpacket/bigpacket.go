// Package bigpacket makes packets of any size for tests and benchmarks
// without holding them in memory: a small packet whose payload is replaced
// by n generated base64 bytes, read through io.ReaderAt.
package bigpacket

import (
	"bytes"
	"fmt"
	"io"
)

// ReaderAt is a packet with a generated payload.
type ReaderAt struct {
	head, tail []byte
	n          int64
	fill       string
}

// Around returns packet with payload, found where it ends a text (followed
// by "<"), replaced by n bytes repeating fill (a base64 string whose length
// divides n, so that the payload stays valid base64).
func Around(packet []byte, payload string, n int64, fill string) (*ReaderAt, error) {
	i := bytes.Index(packet, []byte(payload+"<"))
	if i < 0 {
		return nil, fmt.Errorf("bigpacket: payload %q not found", payload)
	}
	if fill == "" || n%int64(len(fill)) != 0 {
		return nil, fmt.Errorf("bigpacket: %d bytes are not whole repetitions of %q", n, fill)
	}
	return &ReaderAt{head: packet[:i], tail: packet[i+len(payload):], n: n, fill: fill}, nil
}

// Size is the packet's length.
func (r *ReaderAt) Size() int64 { return int64(len(r.head)) + r.n + int64(len(r.tail)) }

// ReadAt implements io.ReaderAt.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, h := 0, int64(len(r.head))
	for n < len(p) && off < r.Size() {
		switch {
		case off < h:
			c := copy(p[n:], r.head[off:])
			n, off = n+c, off+int64(c)
		case off < h+r.n:
			c := min(int64(len(p)-n), h+r.n-off)
			for j := range c {
				p[n+int(j)] = r.fill[(off+j-h)%int64(len(r.fill))]
			}
			n, off = n+int(c), off+c
		default:
			c := copy(p[n:], r.tail[off-h-r.n:])
			n, off = n+c, off+int64(c)
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
