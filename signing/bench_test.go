package signing_test

import (
	"context"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/bench"
	"github.com/edocgw/edocgw/internal/bigpacket"
	"github.com/edocgw/edocgw/signing"
)

// newBigUnsigned is an unsigned packet whose one attachment is n bytes of
// base64, generated as it is read: the test holds no copy of it.
func newBigUnsigned(t testing.TB, n int64) *bigpacket.ReaderAt {
	t.Helper()
	r, err := bigpacket.Around(packet(t, 3), "JVBE", n, "QUJD")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signedFile signs a generated packet of about size bytes into a file.
func signedFile(t testing.TB, size int64) (*os.File, int64) {
	t.Helper()
	src := newBigUnsigned(t, size/4*4)
	f, err := os.Create(filepath.Join(t.TempDir(), "signed.edxml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	leaf := pki(t).Agency
	s := &signing.Signer{Key: leaf.Key, Certificates: append([]*x509.Certificate{leaf.Cert}, leaf.Chain...)}
	if err := s.Sign(f, src, src.Size()); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return f, fi.Size()
}

// TestVerifyLargePacketBoundedMemory signs and verifies a 48 MiB packet
// from a file and checks that verification allocates a small fraction of
// the packet, not a multiple of it.
func TestVerifyLargePacketBoundedMemory(t *testing.T) {
	f, size := signedFile(t, 48<<20)
	v := verifier(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := v.VerifyReaderAt(context.Background(), f, size)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if res.Packet == nil || len(res.Packet.Attachments) != 1 {
		t.Fatalf("packet %+v", res.Packet)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("verified a %d MiB packet allocating %d KiB in all", size>>20, alloc>>10)
	if alloc > uint64(size)/4 {
		t.Fatalf("verification allocated %d MiB for a %d MiB packet", alloc>>20, size>>20)
	}
}

var benchSizes = []struct {
	name string
	n    int64
}{{"10KB", 10 << 10}, {"1MB", 1 << 20}, {"20MB", 20 << 20}, {"100MB", 100 << 20}}

func BenchmarkVerify(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			f, size := signedFile(b, s.n)
			v := verifier(b)
			// What one verification allocates in all, measured once outside
			// the timed loop: an upper bound of the heap it needs.
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := v.VerifyReaderAt(context.Background(), f, size); err != nil {
				b.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			peak := after.TotalAlloc - before.TotalAlloc
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.VerifyReaderAt(context.Background(), f, size); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "MiB-alloc/op")
		})
	}
}

func BenchmarkSign(b *testing.B) {
	leaf := pki(b).Agency
	s := &signing.Signer{Key: leaf.Key, Certificates: []*x509.Certificate{leaf.Cert}}
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			src := newBigUnsigned(b, sz.n/4*4)
			b.SetBytes(src.Size())
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Sign(io.Discard, src, src.Size()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLimit is the least work one 10 KB signed document can cost:
// SHA-256 of its bytes and one RSA-2048 PKCS #1 v1.5 verification
// (bench.LimitWork, which each edocgw bench run also times). The
// hub's pipeline (routing.BenchmarkAccept) is measured against it, one
// core (serial) and every core (parallel).
func BenchmarkLimit(b *testing.B) {
	leaf := pki(b).Agency
	key := leaf.Key
	if key.N.BitLen() != 2048 {
		b.Fatalf("the fixture's agency key has %d bits, not 2048", key.N.BitLen())
	}
	const size = 10240
	work, err := bench.LimitWork(key, size)
	if err != nil {
		b.Fatal(err)
	}
	one := func() {
		if err := work(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			one()
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "docs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one()
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "docs/s")
	})
}
