package bundle_test

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
)

// pattern yields n bytes, a 64 KiB random block over and over: a large
// original that no one holds in memory.
type pattern struct {
	block  []byte
	pos, n int64
}

func newPattern(n int64) *pattern {
	block := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{'e', 'd', 'o', 'c'}).Read(block)
	return &pattern{block, 0, n}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.pos == p.n {
		return 0, io.EOF
	}
	k := copy(b[:min(int64(len(b)), p.n-p.pos)], p.block[p.pos%int64(len(p.block)):])
	p.pos += int64(k)
	return k, nil
}

// measure returns the bytes f allocated, all told.
func measure(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLargeOriginalBoundedMemory writes a bundle of a 64 MiB original to a
// file, verifies it and reads the original back, and checks that each
// allocated a small constant, not a multiple of the original: it is
// streamed both ways.
func TestLargeOriginalBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB")
	}
	const size = 64 << 20
	h := sha256.New()
	if _, err := io.Copy(h, newPattern(size)); err != nil {
		t.Fatal(err)
	}
	var digest archive.Digest
	h.Sum(digest[:0])
	hub := theHub()
	c := contentsOf(hub, digest, size, func() (io.ReadCloser, error) { return io.NopCloser(newPattern(size)), nil })

	f, err := os.Create(filepath.Join(t.TempDir(), "bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var werr error
	wrote := measure(func() { werr = bundle.Write(f, c, hub.key) })
	if werr != nil {
		t.Fatal(werr)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}

	var b *bundle.Bundle
	var read int64
	verified := measure(func() {
		if b, err = bundle.Open(f, fi.Size(), hub.cert); err != nil {
			return
		}
		var rc io.ReadCloser
		if rc, err = b.Original(); err != nil {
			return
		}
		defer rc.Close()
		read, err = io.Copy(io.Discard, rc)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep := b.Report(); rep.Size != size || rep.Digest != digest || read != size {
		t.Fatalf("report %d bytes %s, read %d", rep.Size, rep.Digest, read)
	}
	t.Logf("%d MiB original: bundle of %d MiB; Write allocated %d KiB, Open and reading the original back %d KiB",
		size>>20, fi.Size()>>20, wrote>>10, verified>>10)
	for what, n := range map[string]uint64{"Write": wrote, "Open and read": verified} {
		if n > 8<<20 { // an eighth of the original
			t.Errorf("%s allocated %d MiB for a %d MiB original: memory is not bounded", what, n>>20, size>>20)
		}
	}
}
