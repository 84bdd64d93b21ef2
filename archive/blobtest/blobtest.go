package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/edocgw/edocgw/archive"
)

// MaxSize is the limit on blob size that the stores given to Run must be
// configured with.
const MaxSize = 42 << 20

// Backdoor reaches a store's storage behind the store's back.
type Backdoor interface {
	// Tamper replaces the stored bytes of d with data.
	Tamper(t *testing.T, d archive.Digest, data []byte)
	// Contents lists everything the storage holds: blobs, temporary files
	// or objects, object versions, unfinished uploads.
	Contents(t *testing.T) []string
}

// Run runs the conformance suite. Each subtest gets its own store from
// newStore, empty, with MaxSize configured, implementing Backdoor.
func Run(t *testing.T, newStore func(t *testing.T) archive.BlobStore) {
	open := func(t *testing.T) (archive.BlobStore, Backdoor) {
		t.Helper()
		s := newStore(t)
		b, ok := s.(Backdoor)
		if !ok {
			t.Fatalf("blobtest: %T does not implement blobtest.Backdoor", s)
		}
		return s, b
	}
	tests := []struct {
		name string
		f    func(*testing.T, archive.BlobStore, Backdoor)
	}{
		{"RoundTrip", testRoundTrip},
		{"Idempotent", testIdempotent},
		{"Concurrent", testConcurrent},
		{"ReadAt", testReadAt},
		{"NotFound", testNotFound},
		{"Corrupt", testCorrupt},
		{"TooLarge", testTooLarge},
		{"ReaderError", testReaderError},
		{"Cancel", testCancel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, b := open(t)
			tt.f(t, s, b)
		})
	}
}

// Data returns n pseudo-random bytes determined by seed.
func Data(seed uint64, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(Stream(seed, int64(n)), b); err != nil {
		panic(err)
	}
	return b
}

// Stream returns a reader of the same bytes as Data(seed, n), generated as
// they are read, in constant memory.
func Stream(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = byte(seed), byte(seed>>8), byte(seed>>16), byte(seed>>24), byte(seed>>32), byte(seed>>40), byte(seed>>48), byte(seed>>56)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// StreamDigest returns the digest of Stream(seed, n).
func StreamDigest(seed uint64, n int64) archive.Digest {
	h := sha256.New()
	if _, err := io.Copy(h, Stream(seed, n)); err != nil {
		panic(err)
	}
	var d archive.Digest
	h.Sum(d[:0])
	return d
}

func put(t *testing.T, s archive.BlobStore, r io.Reader, want []byte) archive.Digest {
	t.Helper()
	d, n, err := s.Put(context.Background(), r)
	if err != nil {
		t.Fatalf("Put(%d bytes): %v", len(want), err)
	}
	if d != archive.Sum(want) || n != int64(len(want)) {
		t.Fatalf("Put(%d bytes) = %s, %d; want %s, %d", len(want), d, n, archive.Sum(want), len(want))
	}
	return d
}

// readBack opens d and checks that a full read gives want.
func readBack(t *testing.T, s archive.BlobStore, d archive.Digest, want []byte) {
	t.Helper()
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer b.Close()
	if b.Size() != int64(len(want)) {
		t.Errorf("Size() = %d, want %d", b.Size(), len(want))
	}
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("reading %s: %v", d, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes that differ from the %d stored", len(got), len(want))
	}
	if n, err := b.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v; want 0, EOF", n, err)
	}
}

func testRoundTrip(t *testing.T, s archive.BlobStore, _ Backdoor) {
	tests := []struct {
		name string
		size int
		r    func([]byte) io.Reader
	}{
		{"empty", 0, bytesReader},
		{"1B", 1, bytesReader},
		{"4095B half reads", 4095, func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
		{"1MiB one byte then rest", 1 << 20, func(b []byte) io.Reader {
			return io.MultiReader(iotest.OneByteReader(bytes.NewReader(b[:1])), bytes.NewReader(b[1:]))
		}},
		{"16MiB", 16 << 20, bytesReader},
		{"16MiB+1", 16<<20 + 1, bytesReader},
		{"40MiB data then EOF", 40 << 20, func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := Data(uint64(100+i), tt.size)
			d := put(t, s, tt.r(data), data)
			readBack(t, s, d, data)
		})
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func testIdempotent(t *testing.T, s archive.BlobStore, bd Backdoor) {
	for _, size := range []int{10, 20 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := Data(uint64(size), size)
			d := put(t, s, bytes.NewReader(data), data)
			before := bd.Contents(t)
			put(t, s, iotest.HalfReader(bytes.NewReader(data)), data)
			if after := bd.Contents(t); !slices.Equal(before, after) {
				t.Errorf("a second Put of the same bytes changed the storage:\nbefore %q\nafter  %q", before, after)
			}
			readBack(t, s, d, data)
		})
	}
}

func testConcurrent(t *testing.T, s archive.BlobStore, _ Backdoor) {
	type job struct{ data []byte }
	same, sameLarge := Data(1, 100<<10), Data(2, 20<<20)
	var jobs []job
	for i := range 4 {
		jobs = append(jobs, job{same}, job{Data(uint64(10+i), 64<<10+i)})
	}
	for range 2 {
		jobs = append(jobs, job{sameLarge})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() {
			d, n, err := s.Put(context.Background(), bytes.NewReader(j.data))
			switch {
			case err != nil:
				errs[i] = err
			case d != archive.Sum(j.data) || n != int64(len(j.data)):
				errs[i] = fmt.Errorf("got %s, %d; want %s, %d", d, n, archive.Sum(j.data), len(j.data))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put %d of %d bytes: %v", i, len(jobs[i].data), err)
		}
	}
	// Concurrent reads of the same blob.
	for _, j := range jobs {
		wg.Go(func() {
			b, err := s.Open(context.Background(), archive.Sum(j.data))
			if err != nil {
				t.Error(err)
				return
			}
			defer b.Close()
			got, err := io.ReadAll(b)
			if err != nil || !bytes.Equal(got, j.data) {
				t.Errorf("concurrent read of %d bytes: %d bytes, %v", len(j.data), len(got), err)
			}
		})
	}
	wg.Wait()
}

func testReadAt(t *testing.T, s archive.BlobStore, _ Backdoor) {
	data := Data(3, 1<<20+123)
	size := int64(len(data))
	d := put(t, s, bytes.NewReader(data), data)
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// Start a sequential read; ReadAt must not disturb it.
	head := make([]byte, 1000)
	if _, err := io.ReadFull(b, head); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off     int64
		n       int
		wantN   int
		wantEOF bool
	}{
		{0, 10, 10, false},
		{1, 1, 1, false},
		{size / 2, 64 << 10, 64 << 10, false},
		{1 << 20, 123, 123, false},
		{size - 10, 100, 10, true},
		{size, 10, 0, true},
		{size + 5, 10, 0, true},
	}
	for _, tt := range tests {
		p := make([]byte, tt.n)
		n, err := b.ReadAt(p, tt.off)
		if n != tt.wantN {
			t.Errorf("ReadAt(%d bytes, off %d) read %d, want %d (err %v)", tt.n, tt.off, n, tt.wantN, err)
			continue
		}
		if !bytes.Equal(p[:n], data[min(tt.off, size):min(tt.off, size)+int64(n)]) {
			t.Errorf("ReadAt(%d bytes, off %d): wrong bytes", tt.n, tt.off)
		}
		switch {
		case tt.wantEOF && err != io.EOF:
			t.Errorf("ReadAt(%d bytes, off %d): err %v, want EOF", tt.n, tt.off, err)
		case !tt.wantEOF && err != nil:
			t.Errorf("ReadAt(%d bytes, off %d): %v", tt.n, tt.off, err)
		}
	}
	rest, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("sequential read after ReadAt: %v", err)
	}
	if !bytes.Equal(append(head, rest...), data) {
		t.Fatal("ReadAt disturbed the sequential read")
	}
}

func testNotFound(t *testing.T, s archive.BlobStore, _ Backdoor) {
	put(t, s, bytes.NewReader([]byte("stored")), []byte("stored"))
	for _, d := range []archive.Digest{archive.Sum([]byte("never stored")), archive.Sum(nil), {}} {
		b, err := s.Open(context.Background(), d)
		if !errors.Is(err, archive.ErrNotFound) {
			if b != nil {
				b.Close()
			}
			t.Errorf("Open(%s) = %v, want ErrNotFound", d, err)
		}
	}
}

func testCorrupt(t *testing.T, s archive.BlobStore, bd Backdoor) {
	tests := []struct {
		name   string
		size   int
		tamper func([]byte) []byte
	}{
		{"one bit flipped", 5000, func(b []byte) []byte { b = bytes.Clone(b); b[2500] ^= 1; return b }},
		{"last byte changed", 5000, func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-1]++; return b }},
		{"truncated", 5000, func(b []byte) []byte { return b[:len(b)-1] }},
		{"appended", 5000, func(b []byte) []byte { return append(bytes.Clone(b), 0) }},
		{"emptied", 5000, func([]byte) []byte { return nil }},
		{"bit flipped in a large blob", 20 << 20, func(b []byte) []byte { b = bytes.Clone(b); b[17<<20] ^= 0x80; return b }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := Data(uint64(200+i), tt.size)
			d := put(t, s, bytes.NewReader(data), data)
			bd.Tamper(t, d, tt.tamper(data))
			readers := []struct {
				name string
				read func(io.Reader) error
			}{
				{"ReadAll", func(r io.Reader) error { _, err := io.ReadAll(r); return err }},
				{"io.Copy", func(r io.Reader) error { _, err := io.Copy(struct{ io.Writer }{io.Discard}, r); return err }},
			}
			for _, rd := range readers {
				b, err := s.Open(context.Background(), d)
				if err == nil {
					err = rd.read(b)
					b.Close()
				}
				if !errors.Is(err, archive.ErrCorrupt) {
					t.Errorf("%s of a tampered blob: %v, want ErrCorrupt", rd.name, err)
				}
			}
		})
	}
}

func testTooLarge(t *testing.T, s archive.BlobStore, bd Backdoor) {
	d, n, err := s.Put(context.Background(), Stream(4, MaxSize))
	if err != nil || n != MaxSize || d != StreamDigest(4, MaxSize) {
		t.Fatalf("Put of exactly MaxSize bytes = %s, %d, %v; want %s, %d", d, n, err, StreamDigest(4, MaxSize), MaxSize)
	}
	before := bd.Contents(t)
	for _, size := range []int64{MaxSize + 1, 3 * MaxSize} {
		cr := &countingReader{r: Stream(5, size)}
		_, _, err := s.Put(context.Background(), cr)
		if !errors.Is(err, archive.ErrTooLarge) {
			t.Errorf("Put of %d bytes: %v, want ErrTooLarge", size, err)
		}
		if cr.n > MaxSize+1 {
			t.Errorf("Put of %d bytes read %d of them, want at most MaxSize+1", size, cr.n)
		}
		if after := bd.Contents(t); !slices.Equal(before, after) {
			t.Errorf("a Put over MaxSize left something:\nbefore %q\nafter  %q", before, after)
		}
		if b, err := s.Open(context.Background(), StreamDigest(5, MaxSize)); !errors.Is(err, archive.ErrNotFound) {
			if b != nil {
				b.Close()
			}
			t.Errorf("Open of the first MaxSize bytes of a refused blob: %v, want ErrNotFound", err)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var errReader = errors.New("blobtest: reader failed")

func testReaderError(t *testing.T, s archive.BlobStore, bd Backdoor) {
	put(t, s, bytes.NewReader([]byte("kept")), []byte("kept"))
	before := bd.Contents(t)
	for _, at := range []int64{0, 3 << 20, 20 << 20} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			r := io.MultiReader(Stream(6, at), iotest.ErrReader(errReader))
			if _, _, err := s.Put(context.Background(), r); !errors.Is(err, errReader) {
				t.Errorf("Put of a reader failing after %d bytes: %v, want its error", at, err)
			}
			if after := bd.Contents(t); !slices.Equal(before, after) {
				t.Errorf("a failed Put left something:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

func testCancel(t *testing.T, s archive.BlobStore, bd Backdoor) {
	put(t, s, bytes.NewReader([]byte("kept")), []byte("kept"))
	before := bd.Contents(t)
	for _, at := range []int64{-1, 0, 1 << 20, 20 << 20} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var r io.Reader = Stream(7, 30<<20)
			if at < 0 {
				cancel()
			} else {
				r = &cancelAfter{r: r, n: at, cancel: cancel}
			}
			if _, _, err := s.Put(ctx, r); !errors.Is(err, context.Canceled) {
				t.Errorf("Put cancelled after %d bytes: %v, want context.Canceled", at, err)
			}
			if after := bd.Contents(t); !slices.Equal(before, after) {
				t.Errorf("a cancelled Put left something:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

// cancelAfter calls cancel once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	} else if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}
