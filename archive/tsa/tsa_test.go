package tsa_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive/tsa"
	"github.com/edocgw/edocgw/archive/tsa/tsatest"
	"github.com/edocgw/edocgw/signing/testpki"
)

// newTSA starts a test authority whose certificate chains to a root.
func newTSA(t *testing.T) (*tsatest.TSA, *httptest.Server, *x509.CertPool) {
	t.Helper()
	now := time.Now()
	root, err := testpki.NewRoot("TSA test root", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := root.Issue(testpki.LeafOptions{CommonName: "edocgw test TSA", KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
	if err != nil {
		t.Fatal(err)
	}
	a := &tsatest.TSA{Cert: leaf.Cert, Key: leaf.Key}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)
	return a, srv, pool
}

func TestTimestampAndVerify(t *testing.T) {
	a, srv, roots := newTSA(t)
	c := &tsa.Client{URL: srv.URL}
	d := tsa.Digest([]byte("checkpoint signature"))
	tok, err := c.Timestamp(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	info, err := tsa.Verify(tok, d, roots)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(info.Time) > time.Minute || info.TSA == "" || info.Serial.Sign() <= 0 {
		t.Fatalf("info %+v", info)
	}
	// Over another digest, or from an untrusted authority, it fails.
	if _, err := tsa.Verify(tok, tsa.Digest([]byte("other")), roots); !errors.Is(err, tsa.ErrToken) {
		t.Fatalf("other digest: %v", err)
	}
	_, _, otherRoots := newTSA(t)
	if _, err := tsa.Verify(tok, d, otherRoots); !errors.Is(err, tsa.ErrToken) {
		t.Fatalf("untrusted TSA: %v", err)
	}
	bad := append([]byte{}, tok...)
	bad[len(bad)/2] ^= 0xff
	if _, err := tsa.Verify(bad, d, roots); !errors.Is(err, tsa.ErrToken) {
		t.Fatalf("altered token: %v", err)
	}
	// An authority that fails is an error, never an empty token.
	a.Fail.Store(true)
	if _, err := c.Timestamp(context.Background(), d); !errors.Is(err, tsa.ErrTSA) {
		t.Fatalf("failing TSA: %v", err)
	}
	if _, err := c.Timestamp(context.Background(), []byte("short")); !errors.Is(err, tsa.ErrTSA) {
		t.Fatalf("bad digest: %v", err)
	}
}
