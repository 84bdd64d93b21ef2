package bench

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/signing"
)

func docTo(to ...agencyids.Code) hubtest.Doc { return hubtest.Doc{To: to} }

// testPKI is made once: RSA keys are slow under the race detector.
var testPKI = func() func(t *testing.T) *PKI {
	var p *PKI
	var err error
	return func(t *testing.T) *PKI {
		t.Helper()
		if p == nil && err == nil {
			p, err = NewPKI(4, time.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
}()

// Every document is distinct, signed by its sender, about its size, and
// never sent to its sender.
func TestSourceDocuments(t *testing.T) {
	p := testPKI(t)
	mix := Mix{{"16KB", 16 << 10, 1}, {"64KB", 64 << 10, 1}} // a signed packet has about 6 KB besides its attachment
	src, err := newSource(sourceConfig{agencies: p.Agencies, mix: mix, recipients: 2, seed: 7, tag: "TEST0001",
		limit: 12, ahead: 12, low: 2, workers: 2, dir: t.TempDir(), now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer src.release()
	defer src.close()
	if err := src.prefill(nil); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for {
		d, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(src.body(d))
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := envelope.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if ids[pkt.DocumentID()] {
			t.Fatalf("document %s twice", pkt.DocumentID())
		}
		ids[pkt.DocumentID()] = true
		if pkt.From().OrganID != p.Agencies[d.from].Code {
			t.Fatalf("from %s, want %s", pkt.From().OrganID, p.Agencies[d.from].Code)
		}
		to := pkt.Recipients()
		if len(to) != 2 || to[0] == to[1] {
			t.Fatalf("recipients %v", to)
		}
		for _, c := range to {
			if c == pkt.From().OrganID {
				t.Fatalf("document sent to its sender %s", c)
			}
		}
		if want := mix[d.class].Bytes; d.n < want*95/100 || d.n > want*105/100 {
			t.Fatalf("%d bytes for class %s", d.n, mix[d.class].Name)
		}
	}
	if len(ids) != 12 || src.madeBefore.Load() != 12 || src.madeDur.Load() != 0 {
		t.Fatalf("%d documents, %d signed before, %d during", len(ids), src.madeBefore.Load(), src.madeDur.Load())
	}
}

// Without a limit the source refills below the low mark, and close ends
// it for the senders waiting.
func TestSourceRefillAndClose(t *testing.T) {
	p := testPKI(t)
	src, err := newSource(sourceConfig{agencies: p.Agencies, mix: Mix{{"8KB", 8 << 10, 1}}, recipients: 1, seed: 1, tag: "TEST0002",
		limit: -1, ahead: 4, low: 1, workers: 1, dir: t.TempDir(), now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer src.release()
	if err := src.prefill(nil); err != nil {
		t.Fatal(err)
	}
	src.running.Store(true)
	for range 10 {
		if _, err := src.next(); err != nil {
			t.Fatal(err)
		}
	}
	if src.madeDur.Load() < 6 {
		t.Fatalf("%d signed during the run, want at least 6", src.madeDur.Load())
	}
	src.close()
	if _, err := src.next(); !errors.Is(err, errClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// A document larger than streamAbove is signed as a stream into the spool:
// it verifies, has about its size, and making it allocates little.
func TestSourceLargeDocument(t *testing.T) {
	p := testPKI(t)
	const size = streamAbove + 4<<20
	mix := Mix{{"20MB", size, 1}}
	src, err := newSource(sourceConfig{agencies: p.Agencies, mix: mix, recipients: 1, seed: 7, tag: "TEST0002",
		limit: 1, ahead: 1, low: 0, workers: 1, dir: t.TempDir(), now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer src.release()
	defer src.close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := src.prefill(nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	d, err := src.next()
	if err != nil {
		t.Fatal(err)
	}
	if d.n > size || d.n < size-64<<10 {
		t.Fatalf("a document of %d bytes for %d", d.n, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Fatalf("making a %d MiB document allocated %d MiB", size>>20, alloc>>20)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.RootPEM)
	v := &signing.Verifier{Roots: roots}
	res, err := v.VerifyReaderAt(context.Background(), src.body(d), d.n)
	if err != nil {
		t.Fatal(err)
	}
	if res.Packet.From().OrganID != p.Agencies[d.from].Code {
		t.Fatalf("signed by %s, sent by %s", res.Packet.From().OrganID, p.Agencies[d.from].Code)
	}
}

// TestSectionBodyWriteTo: a request body written through the pooled buffer
// is its section of the spool exactly, whatever the writer.
func TestSectionBodyWriteTo(t *testing.T) {
	spool := strings.NewReader("before|" + strings.Repeat("x", 70<<10) + "|after")
	want := strings.Repeat("x", 70<<10)
	for _, w := range []interface {
		io.Writer
		String() string
	}{&bytes.Buffer{}, &strings.Builder{}} {
		b := sectionBody{io.NewSectionReader(spool, 7, int64(len(want)))}
		n, err := b.WriteTo(w)
		if err != nil || n != int64(len(want)) || w.String() != want {
			t.Fatalf("%T: wrote %d bytes, %v; want the %d bytes of the section", w, n, err, len(want))
		}
	}
}
