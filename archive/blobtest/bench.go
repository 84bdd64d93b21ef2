package blobtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/edocgw/edocgw/archive"
)

// BenchSizes are the blob sizes of the benchmarks: a typical document and a
// document with attachments.
var BenchSizes = []struct {
	Name string
	Size int
}{{"10KB", 10_000}, {"5MB", 5_000_000}}

// BenchPut measures Put of new blobs of each of BenchSizes.
func BenchPut(b *testing.B, s archive.BlobStore) {
	for _, bs := range BenchSizes {
		b.Run(bs.Name, func(b *testing.B) {
			data := Data(1, bs.Size)
			b.SetBytes(int64(bs.Size))
			b.ReportAllocs()
			i := uint64(0)
			for b.Loop() {
				i++
				binary.LittleEndian.PutUint64(data, i) // new content every time
				if _, _, err := s.Put(context.Background(), bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchOpenRead measures Open and a full, verified read of a blob of each
// of BenchSizes.
func BenchOpenRead(b *testing.B, s archive.BlobStore) {
	for _, bs := range BenchSizes {
		b.Run(bs.Name, func(b *testing.B) {
			data := Data(2, bs.Size)
			d, _, err := s.Put(context.Background(), bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(bs.Size))
			b.ReportAllocs()
			for b.Loop() {
				blob, err := s.Open(context.Background(), d)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, blob)
				blob.Close()
				if err != nil || n != int64(bs.Size) {
					b.Fatalf("read %d bytes, %v", n, err)
				}
			}
		})
	}
}

// MemorySize and MemoryLimit: a Put and a full read of a MemorySize blob
// must each allocate less than MemoryLimit.
const (
	MemorySize  = 256 << 20
	MemoryLimit = 64 << 20
)

// RunMemory checks that a Put and a full read of a MemorySize blob, streamed
// from a generator, each allocate less than MemoryLimit in total (so they
// hold no more than that at any time). s must accept MemorySize bytes. The
// test must not run in parallel with others.
func RunMemory(t *testing.T, s archive.BlobStore) {
	want := StreamDigest(9, MemorySize)
	ctx := context.Background()
	var d archive.Digest
	var n int64
	put := allocated(func() {
		var err error
		if d, n, err = s.Put(ctx, Stream(9, MemorySize)); err != nil {
			t.Fatalf("Put: %v", err)
		}
	})
	if d != want || n != MemorySize {
		t.Fatalf("Put = %s, %d; want %s, %d", d, n, want, MemorySize)
	}
	var read int64
	get := allocated(func() {
		b, err := s.Open(ctx, d)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer b.Close()
		if read, err = io.Copy(io.Discard, b); err != nil {
			t.Fatalf("read: %v", err)
		}
	})
	if read != MemorySize {
		t.Fatalf("read %d bytes, want %d", read, MemorySize)
	}
	t.Logf("%d MiB blob: Put allocated %.1f MiB, Open+read allocated %.1f MiB (limit %d MiB)",
		MemorySize>>20, mib(put), mib(get), MemoryLimit>>20)
	if put >= MemoryLimit {
		t.Errorf("Put of %d MiB allocated %.1f MiB, want < %d MiB", MemorySize>>20, mib(put), MemoryLimit>>20)
	}
	if get >= MemoryLimit {
		t.Errorf("reading %d MiB allocated %.1f MiB, want < %d MiB", MemorySize>>20, mib(get), MemoryLimit>>20)
	}
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// BenchPutParallel measures Puts of new blobs of each of BenchSizes by 8
// goroutines per processor, as a hub accepting documents at once does.
func BenchPutParallel(b *testing.B, s archive.BlobStore) {
	for _, bs := range BenchSizes {
		b.Run(bs.Name, func(b *testing.B) {
			b.SetBytes(int64(bs.Size))
			b.ReportAllocs()
			b.SetParallelism(8)
			var next atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				data := Data(3, bs.Size)
				for pb.Next() {
					binary.LittleEndian.PutUint64(data, next.Add(1)) // new content every time
					if _, _, err := s.Put(context.Background(), bytes.NewReader(data)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
