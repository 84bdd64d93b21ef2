package bundle_test

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
)

// Write refuses, before writing a byte, what would not verify.
func TestWriteRefuses(t *testing.T) {
	h := theHub()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec hub"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	ecCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	edited := func(c *bundle.Contents, seq int64, f func(e *archive.Event)) {
		for i, s := range c.Segments {
			evs := make([]*archive.Event, len(s.Events))
			for j, e := range s.Events {
				cp := *e
				if e.Seq == seq {
					f(&cp)
				}
				evs[j] = &cp
			}
			c.Segments[i].Events = evs
		}
	}
	for _, tc := range []struct {
		name   string
		change func(c *bundle.Contents) crypto.Signer // the key to use; nil: the hub's
		want   []error
	}{
		{"ECDSA key", func(c *bundle.Contents) crypto.Signer { c.HubCert = ecCert; return ecKey }, []error{bundle.ErrUnsupportedKey}},
		{"RSA key, ECDSA certificate", func(c *bundle.Contents) crypto.Signer { c.HubCert = ecCert; return nil }, []error{bundle.ErrUnsupportedKey}},
		{"key of another certificate", func(c *bundle.Contents) crypto.Signer { c.HubCert = impostor().cert; return nil }, []error{bundle.ErrKeyMismatch}},
		{"no document id", func(c *bundle.Contents) crypto.Signer { c.DocumentID = ""; return nil }, []error{bundle.ErrContents}},
		{"control character in id", func(c *bundle.Contents) crypto.Signer { c.DocumentID = "a\nb"; return nil }, []error{bundle.ErrContents}},
		{"verification not an object", func(c *bundle.Contents) crypto.Signer { c.Verification = json.RawMessage(`[1]`); return nil }, []error{bundle.ErrContents}},
		{"trace not JSON", func(c *bundle.Contents) crypto.Signer { c.Trace = json.RawMessage(`{`); return nil }, []error{bundle.ErrContents}},
		{"no segments", func(c *bundle.Contents) crypto.Signer { c.Segments = nil; return nil }, []error{bundle.ErrContents}},
		{"original too large", func(c *bundle.Contents) crypto.Signer { c.Size = bundle.MaxOriginalSize + 1; return nil }, []error{bundle.ErrTooLarge}},
		{"event altered", func(c *bundle.Contents) crypto.Signer {
			edited(c, 17, func(e *archive.Event) { e.Actor = "someone" })
			return nil
		}, []error{bundle.ErrContents, bundle.ErrEventHash, bundle.ErrUnverifiedEvent}},
		{"details not compact", func(c *bundle.Contents) crypto.Signer {
			edited(c, 17, func(e *archive.Event) { e.Details = json.RawMessage(`{ "attempt": 17 }`); e.Hash = e.ComputeHash() })
			return nil
		}, []error{bundle.ErrContents}},
		{"event too large", func(c *bundle.Contents) crypto.Signer {
			edited(c, 17, func(e *archive.Event) {
				e.Details = json.RawMessage(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
				e.Hash = e.ComputeHash()
			})
			return nil
		}, []error{bundle.ErrTooLarge}},
		{"checkpoint of another key", func(c *bundle.Contents) crypto.Signer {
			cp := &c.Segments[1].Checkpoint
			if err := cp.Sign(impostor().key); err != nil {
				t.Fatal(err)
			}
			return nil
		}, []error{bundle.ErrContents, bundle.ErrCheckpointSignature}},
		{"segments out of order", func(c *bundle.Contents) crypto.Signer {
			c.Segments[0], c.Segments[1] = c.Segments[1], c.Segments[0]
			return nil
		}, []error{bundle.ErrContents, bundle.ErrSegment}},
		{"another document", func(c *bundle.Contents) crypto.Signer { c.DocumentID = "01KBA7W3ZZZZZZZZZZZZZZZZZZ"; return nil }, []error{bundle.ErrContents, bundle.ErrNoDocumentEvent}},
		{"another digest", func(c *bundle.Contents) crypto.Signer { c.Digest = archive.Sum([]byte("x")); return nil }, []error{bundle.ErrContents, bundle.ErrAcceptedDigest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := contents(h, testOriginal)
			key := crypto.Signer(h.key)
			if k := tc.change(&c); k != nil {
				key = k
			}
			var out bytes.Buffer
			err := bundle.Write(&out, c, key)
			if err == nil {
				t.Fatal("written")
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v is not %v", err, w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written before refusing", out.Len())
			}
		})
	}
}

// An original that does not hash to the document's digest fails Write,
// and what was written is not a ZIP.
func TestWriteOriginalMismatch(t *testing.T) {
	h := theHub()
	for name, got := range map[string][]byte{
		"changed": bytes.Replace(testOriginal, []byte("Văn"), []byte("Vân"), 1),
		"longer":  append(bytes.Clone(testOriginal), '\n'),
		"shorter": testOriginal[:len(testOriginal)-1],
	} {
		t.Run(name, func(t *testing.T) {
			c := contents(h, testOriginal)
			c.Original = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(got)), nil }
			var out bytes.Buffer
			err := bundle.Write(&out, c, h.key)
			var e *bundle.Error
			if !errors.As(err, &e) || e.Err != bundle.ErrDocumentDigest || e.File != "original.edxml" {
				t.Fatalf("error %v", err)
			}
			if _, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len())); err == nil {
				t.Fatal("a readable ZIP was left behind")
			}
		})
	}
	c := contents(h, testOriginal)
	c.Original = func() (io.ReadCloser, error) { return nil, errors.New("blob store down") }
	if err := bundle.Write(io.Discard, c, h.key); err == nil || !strings.Contains(err.Error(), "blob store down") {
		t.Fatalf("error %v", err)
	}
}

// A segment the hub makes for the document alone (the chain from its
// first event to one checkpoint) is as good as several.
func TestWriteOneSegment(t *testing.T) {
	h := theHub()
	c := contents(h, testOriginal)
	ch := newChain(h.key, c.Digest, c.Size)
	c.Segments = ch.segments([2]int64{1, 40})
	rep, err := verify(write(t, c, h.key), h.cert)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 40 || rep.Checkpoints != 1 || rep.FirstSeq != 1 || len(rep.DocumentEvents) != 12 {
		t.Fatalf("report %+v", rep)
	}
}

// The largest event Write accepts, Verify reads: their limits agree.
func TestLargestEventVerifies(t *testing.T) {
	h := theHub()
	withPad := func(pad int) bundle.Contents {
		c := contents(h, testOriginal)
		ch := newChain(h.key, c.Digest, c.Size)
		ch.events[36].Details = json.RawMessage(`{"pad":"` + strings.Repeat("x", pad) + `"}`)
		for _, e := range ch.events[36:] {
			if err := e.Seal(ch.events[e.Seq-2]); err != nil {
				t.Fatal(err)
			}
		}
		cp := ch.checkpoints[40]
		cp.Head = ch.events[39].Hash
		if err := cp.Sign(h.key); err != nil {
			t.Fatal(err)
		}
		ch.checkpoints[40] = cp
		c.Segments = ch.segments(runsA...)
		return c
	}
	// Event 37's line in events.json with no pad tells the rest of its size.
	var line string
	for l := range strings.Lines(string(file(t, write(t, withPad(0), h.key), "events.json"))) {
		if strings.HasPrefix(l, `{"seq":37,`) {
			line = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), ",")
		}
	}
	lo := 1<<20 - len(line) // the largest pad Write accepts
	hi := lo + 1
	var e *bundle.Error
	if err := bundle.Write(io.Discard, withPad(hi), h.key); !errors.As(err, &e) || e.Event != 37 || e.File != "events.json" {
		t.Fatalf("pad %d: %v", hi, err)
	}
	if _, err := verify(write(t, withPad(lo), h.key), h.cert); err != nil {
		t.Fatalf("pad %d, the largest Write accepts: %v", lo, err)
	}
}
