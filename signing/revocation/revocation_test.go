package revocation

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/signing/testpki"
	"golang.org/x/crypto/ocsp"
)

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want string
	}{{Unknown, "unknown"}, {Good, "good"}, {Revoked, "revoked"}, {State(7), "State(7)"}} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("State(%d).String() = %q, want %q", int(tc.s), got, tc.want)
		}
	}
	if (Status{}).State != Unknown {
		t.Error("the zero Status is not Unknown")
	}
}

// TestAuthoritative covers the plain answers of each source kind.
func TestAuthoritative(t *testing.T) {
	e := setup(t)
	s := e.set
	crlDER := e.crl(t, t0, t0.Add(24*time.Hour))
	derFile := writeFile(t, "crl.der", crlDER)
	pemFile := writeFile(t, "crl.pem", testpki.CRLPEM(crlDER))
	otherCRL, err := s.OtherRoot.CRL(t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	otherFile := writeFile(t, "other.crl", otherCRL)

	for _, tc := range []struct {
		name       string
		cfg        Config
		leaf       *testpki.Leaf
		want       State
		wantSource string
		wantNext   time.Time
	}{
		{"good via OCSP", Config{OCSP: true}, s.Agency, Good, "ocsp " + e.ocspURL, t0.Add(testpki.OCSPValidity)},
		{"revoked via OCSP", Config{OCSP: true}, s.Revoked, Revoked, "ocsp " + e.ocspURL, t0.Add(testpki.OCSPValidity)},
		{"good via CRL file (DER)", Config{CRLFiles: []string{derFile}}, s.Agency, Good, "crl file " + derFile, t0.Add(24 * time.Hour)},
		{"revoked via CRL file (DER)", Config{CRLFiles: []string{derFile}}, s.Revoked, Revoked, "crl file " + derFile, t0.Add(24 * time.Hour)},
		{"revoked via CRL file (PEM)", Config{CRLFiles: []string{pemFile}}, s.Revoked, Revoked, "crl file " + pemFile, t0.Add(24 * time.Hour)},
		{"another issuer's CRL file is passed over", Config{CRLFiles: []string{otherFile, pemFile}}, s.Revoked, Revoked, "crl file " + pemFile, t0.Add(24 * time.Hour)},
		{"good via fetched CRL", Config{FetchCRLs: true}, s.Agency2, Good, "crl " + e.crlURL, t0.Add(crlValidity)},
		{"revoked via fetched CRL", Config{FetchCRLs: true}, s.Revoked, Revoked, "crl " + e.crlURL, t0.Add(crlValidity)},
		{"OCSP comes first", Config{OCSP: true, FetchCRLs: true, CRLFiles: []string{derFile}}, s.Revoked, Revoked, "ocsp " + e.ocspURL, t0.Add(testpki.OCSPValidity)},
		{"CRL files before fetched CRLs", Config{FetchCRLs: true, CRLFiles: []string{derFile}}, s.Agency, Good, "crl file " + derFile, t0.Add(24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			st, err := e.check(t, e.checker(t, tc.cfg), tc.leaf.Cert)
			checkErr(t, err, nil, nil)
			if st.State != tc.want || st.Source != tc.wantSource {
				t.Fatalf("got %v from %q, want %v from %q", st.State, st.Source, tc.want, tc.wantSource)
			}
			if !st.NextUpdate.Equal(tc.wantNext) || st.ThisUpdate.After(t0) {
				t.Errorf("ThisUpdate %v NextUpdate %v, want NextUpdate %v", st.ThisUpdate, st.NextUpdate, tc.wantNext)
			}
			if tc.want == Revoked && (!st.RevokedAt.Equal(t0.Add(-time.Hour)) || st.Reason != ocsp.KeyCompromise) {
				t.Errorf("revoked at %v reason %d, want %v keyCompromise", st.RevokedAt, st.Reason, t0.Add(-time.Hour))
			}
			if tc.want == Good && (!st.RevokedAt.IsZero() || st.Reason != 0) {
				t.Errorf("good with RevokedAt %v Reason %d", st.RevokedAt, st.Reason)
			}
		})
	}
}

func TestOCSPCache(t *testing.T) {
	e := setup(t)
	c := e.checker(t, Config{OCSP: true})
	requests := e.set.Intermediate.OCSPRequests
	base := requests()
	for _, step := range []struct {
		advance time.Duration
		leaf    *testpki.Leaf
		want    State
		asked   int // responder requests since the start
	}{
		{0, e.set.Agency, Good, 1},
		{0, e.set.Agency, Good, 1},
		{0, e.set.Revoked, Revoked, 2}, // another serial, another entry
		{30 * time.Minute, e.set.Agency, Good, 2},
		{29 * time.Minute, e.set.Revoked, Revoked, 2},
		{time.Minute, e.set.Agency, Good, 3}, // NextUpdate (t0+1h) reached
		{time.Minute, e.set.Agency, Good, 3}, // the new answer is cached
		{0, e.set.Revoked, Revoked, 4},
	} {
		e.clock.advance(step.advance)
		st, err := e.check(t, c, step.leaf.Cert)
		checkErr(t, err, nil, nil)
		if st.State != step.want {
			t.Fatalf("at %v: %v, want %v", e.clock.Now().Sub(t0), st.State, step.want)
		}
		if got := requests() - base; got != step.asked {
			t.Fatalf("at %v (%s): responder asked %d times, want %d", e.clock.Now().Sub(t0), step.leaf.Cert.Subject.CommonName, got, step.asked)
		}
	}
}

func TestCRLCache(t *testing.T) {
	e := setup(t)
	long := e.route("/crl-long", serve(e.crl(t, t0, t0.Add(72*time.Hour))))
	var longHits atomic.Int64
	e.route("/crl-long-count", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		longHits.Add(1)
		http.Redirect(w, r, long, http.StatusFound)
	}))
	longLeaf := e.leaf(t, nil, []string{e.srv.URL + "/crl-long-count"})

	c := e.checker(t, Config{FetchCRLs: true})
	base := e.crlHits.Load()
	for _, step := range []struct {
		advance  time.Duration
		cert     *x509.Certificate
		want     State
		hits     int64 // /crl downloads since the start
		longHits int64
	}{
		{0, e.set.Agency.Cert, Good, 1, 0},
		{0, e.set.Revoked.Cert, Revoked, 1, 0}, // same URL, same CRL
		{time.Hour, e.set.Agency2.Cert, Good, 1, 0},
		{59 * time.Minute, e.set.Revoked.Cert, Revoked, 1, 0},
		{time.Minute, e.set.Agency.Cert, Good, 2, 0}, // NextUpdate (t0+2h) reached
		{0, longLeaf, Good, 2, 1},
		{22 * time.Hour, longLeaf, Good, 2, 1},
		{2 * time.Hour, longLeaf, Good, 2, 2}, // 24 h after the fetch, although NextUpdate is t0+72h
	} {
		e.clock.advance(step.advance)
		st, err := e.check(t, c, step.cert)
		checkErr(t, err, nil, nil)
		if st.State != step.want {
			t.Fatalf("at %v: %v, want %v", e.clock.Now().Sub(t0), st.State, step.want)
		}
		if got := e.crlHits.Load() - base; got != step.hits || longHits.Load() != step.longHits {
			t.Fatalf("at %v: %d downloads of /crl and %d of /crl-long, want %d and %d", e.clock.Now().Sub(t0), got, longHits.Load(), step.hits, step.longHits)
		}
	}
}

// TestSharedFetch checks that concurrent checks needing the same CRL wait
// for one download.
func TestSharedFetch(t *testing.T) {
	e := setup(t)
	crl := e.crl(t, t0, t0.Add(time.Hour))
	release := make(chan struct{})
	var mu sync.Mutex
	hits := 0
	u := e.route("/slow-crl", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(crl)
	}))
	good := e.leaf(t, nil, []string{u})
	c := e.checker(t, Config{FetchCRLs: true})

	const n = 8
	var wg sync.WaitGroup
	results := make([]Status, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = e.check(t, c, good) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.crlFlight.mu.Lock()
		waiters := 0
		if call := c.crlFlight.calls[u]; call != nil {
			waiters = call.waiters
		}
		c.crlFlight.mu.Unlock()
		if waiters == n {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			wg.Wait()
			t.Fatalf("only %d of %d checks joined the download", waiters, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i].State != Good {
			t.Errorf("check %d: %v, %v", i, results[i].State, errs[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 1 {
		t.Errorf("%d downloads, want 1", hits)
	}
	if _, ok := c.crlCache.get(u, t0); !ok || c.crlCache.size() != 1 {
		t.Errorf("CRL not cached once (cache holds %d)", c.crlCache.size())
	}
}

// TestFallback: a failing OCSP responder gives way to CRLs.
func TestFallback(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		name string
		ocsp http.Handler // nil: nobody listens
		file bool         // a CRL file, else a fetched CRL
	}{
		{"responder down, CRL file", nil, true},
		{"responder down, fetched CRL", nil, false},
		{"HTTP 503, fetched CRL", statusCode(http.StatusServiceUnavailable), false},
		{"garbage, CRL file", serve([]byte("<html>proxy error</html>")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			ocspURL := deadURL(t, "/ocsp")
			if tc.ocsp != nil {
				ocspURL = e.route("/ocsp-broken", tc.ocsp)
			}
			cert := e.leaf(t, []string{ocspURL}, []string{e.crlURL})
			e.set.Intermediate.Revoke(cert.SerialNumber, t0.Add(-time.Minute), ocsp.Superseded)
			cfg, wantSource := Config{OCSP: true, FetchCRLs: true}, "crl "+e.crlURL
			if tc.file {
				path := writeFile(t, "crl.der", e.crl(t, t0, t0.Add(time.Hour)))
				cfg, wantSource = Config{OCSP: true, CRLFiles: []string{path}}, "crl file "+path
			}
			st, err := e.check(t, e.checker(t, cfg), cert)
			checkErr(t, err, nil, nil)
			if st.State != Revoked || st.Source != wantSource || st.Reason != ocsp.Superseded {
				t.Fatalf("got %v (reason %d) from %q, want revoked (superseded) from %q", st.State, st.Reason, st.Source, wantSource)
			}
		})
	}
}

// TestUnreachable: when every source fails to answer, the result is Unknown
// with ErrUnreachable and every source named.
func TestUnreachable(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		name    string
		ocsp    http.Handler
		crl     http.Handler
		timeout time.Duration
		mention []string
	}{
		{"nobody listens", nil, nil, 0, []string{"connection refused"}},
		{"HTTP errors", statusCode(http.StatusInternalServerError), statusCode(http.StatusNotFound), 0, []string{"500", "404"}},
		{"timeouts", hang(), hang(), 200 * time.Millisecond, []string{"deadline exceeded"}},
		{"OCSP tryLater, CRL 502", serve(ocsp.TryLaterErrorResponse), statusCode(http.StatusBadGateway), 0, []string{"try later", "502"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			ocspURL, crlURL := deadURL(t, "/ocsp"), deadURL(t, "/crl")
			if tc.ocsp != nil {
				ocspURL = e.route("/ocsp-x", tc.ocsp)
			}
			if tc.crl != nil {
				crlURL = e.route("/crl-x", tc.crl)
			}
			cert := e.leaf(t, []string{ocspURL}, []string{crlURL})
			start := time.Now()
			st, err := e.check(t, e.checker(t, Config{OCSP: true, FetchCRLs: true, Timeout: tc.timeout}), cert)
			if st.State != Unknown {
				t.Fatalf("state %v, want unknown", st.State)
			}
			checkErr(t, err, []error{ErrUnreachable}, []error{ErrNoSource, ErrBadResponse, ErrStale})
			contains(t, err, append(tc.mention, "ocsp "+ocspURL, "crl "+crlURL)...)
			if tc.timeout > 0 && time.Since(start) > 10*tc.timeout {
				t.Errorf("took %v with a %v timeout per request", time.Since(start), tc.timeout)
			}
		})
	}
}

func TestStale(t *testing.T) {
	e := setup(t)
	s := e.set
	behind := func() time.Time { return t0.Add(-2 * time.Hour) } // NextUpdate t0−1h
	ahead := func() time.Time { return t0.Add(10 * time.Minute) }
	slightlyAhead := func() time.Time { return t0.Add(4 * time.Minute) }
	for _, tc := range []struct {
		name    string
		cfg     func(t *testing.T) Config
		ocsp    http.Handler
		crl     []byte
		leaf    *testpki.Leaf
		want    State
		wantErr []error
	}{
		{"CRL file past NextUpdate", func(t *testing.T) Config {
			return Config{CRLFiles: []string{writeFile(t, "old.crl", e.crl(t, t0.Add(-48*time.Hour), t0.Add(-time.Second)))}}
		}, nil, nil, s.Agency, Unknown, []error{ErrStale}},
		{"fetched CRL past NextUpdate", func(*testing.T) Config { return Config{FetchCRLs: true} },
			nil, e.crl(t, t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)), s.Agency, Unknown, []error{ErrStale}},
		{"fetched CRL from the future", func(*testing.T) Config { return Config{FetchCRLs: true} },
			nil, e.crl(t, t0.Add(6*time.Minute), t0.Add(24*time.Hour)), s.Agency, Unknown, []error{ErrStale}},
		{"fetched CRL within the clock skew", func(*testing.T) Config { return Config{FetchCRLs: true} },
			nil, e.crl(t, t0.Add(4*time.Minute), t0.Add(24*time.Hour)), s.Agency, Good, nil},
		{"stale CRL still proves a revocation", func(*testing.T) Config { return Config{FetchCRLs: true} },
			nil, e.crl(t, t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)), s.Revoked, Revoked, nil},
		{"OCSP past NextUpdate", func(*testing.T) Config { return Config{OCSP: true} },
			s.Intermediate.OCSPResponder(behind), nil, s.Agency, Unknown, []error{ErrStale}},
		{"OCSP from the future", func(*testing.T) Config { return Config{OCSP: true} },
			s.Intermediate.OCSPResponder(ahead), nil, s.Agency, Unknown, []error{ErrStale}},
		{"OCSP within the clock skew", func(*testing.T) Config { return Config{OCSP: true} },
			s.Intermediate.OCSPResponder(slightlyAhead), nil, s.Agency, Good, nil},
		{"stale OCSP still proves a revocation", func(*testing.T) Config { return Config{OCSP: true} },
			s.Intermediate.OCSPResponder(behind), nil, s.Revoked, Revoked, nil},
		{"stale OCSP, then a good CRL", func(*testing.T) Config { return Config{OCSP: true, FetchCRLs: true} },
			s.Intermediate.OCSPResponder(behind), nil, s.Agency, Good, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			if tc.ocsp != nil {
				e.route("/ocsp", tc.ocsp)
			}
			if tc.crl != nil {
				e.route("/crl", serve(tc.crl))
			}
			c := e.checker(t, tc.cfg(t))
			st, err := e.check(t, c, tc.leaf.Cert)
			if st.State != tc.want {
				t.Fatalf("state %v (%v), want %v", st.State, err, tc.want)
			}
			checkErr(t, err, tc.wantErr, []error{ErrUnreachable, ErrBadResponse})
			if c.ocspCache.size() != 0 && tc.want != Good {
				t.Error("a stale OCSP answer was cached")
			}
		})
	}
}

// TestCertificateHold: a hold is reported as Revoked with reason 6, but
// unlike a revocation it is not taken from a stale source.
func TestCertificateHold(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		name    string
		stale   bool
		want    State
		wantErr []error
	}{
		{"fresh CRL", false, Revoked, nil},
		{"stale CRL", true, Unknown, []error{ErrStale}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			cert := e.leaf(t, nil, []string{e.crlURL})
			e.set.Intermediate.Revoke(cert.SerialNumber, t0.Add(-time.Hour), reasonCertificateHold)
			next := t0.Add(time.Hour)
			if tc.stale {
				next = t0.Add(-time.Minute)
			}
			e.route("/crl", serve(e.crl(t, t0.Add(-2*time.Hour), next)))
			st, err := e.check(t, e.checker(t, Config{FetchCRLs: true}), cert)
			checkErr(t, err, tc.wantErr, nil)
			if st.State != tc.want || (tc.want == Revoked && st.Reason != reasonCertificateHold) {
				t.Fatalf("state %v reason %d, want %v", st.State, st.Reason, tc.want)
			}
		})
	}
}

func TestBadCRL(t *testing.T) {
	e := setup(t)
	s := e.set
	otherCRL, err := s.OtherRoot.CRL(t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// forged carries Intermediate's name and key identifier but OtherRoot's signature.
	forged := e.crlWith(t, s.OtherRoot.Key)
	good := e.crl(t, t0, t0.Add(time.Hour))
	critical := e.crlWith(t, nil, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}})
	delta := e.crlWith(t, nil, pkix.Extension{Id: oidDeltaCRL, Critical: true, Value: []byte{2, 1, 1}})
	for _, tc := range []struct {
		name    string
		body    http.Handler
		file    []byte // instead of a download
		max     int64
		mention string
	}{
		{"fetched CRL signed by another CA", serve(otherCRL), nil, 0, "Foreign Test Root CA"},
		{"fetched forged CRL", serve(forged), nil, 0, "not signed by the issuer"},
		{"CRL file forged", nil, forged, 0, "not signed by the issuer"},
		{"fetched garbage", serve([]byte("<html>not found</html>")), nil, 0, "crl http"},
		{"fetched PEM of a certificate", serve(s.Agency.CertPEM), nil, 0, "CERTIFICATE"},
		{"oversized CRL", serve(good), nil, int64(len(good) - 1), fmt.Sprintf("body of %d bytes exceeds", len(good))},
		{"oversized CRL without Content-Length", serveChunked(good), nil, int64(len(good) - 1), "exceeds"},
		{"unsupported critical extension", serve(critical), nil, 0, "critical extension"},
		{"delta CRL", serve(delta), nil, 0, "delta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			cfg := Config{FetchCRLs: true, MaxCRLBytes: tc.max}
			if tc.file != nil {
				cfg = Config{CRLFiles: []string{writeFile(t, "x.crl", tc.file)}}
			} else {
				e.route("/crl", tc.body)
			}
			st, err := e.check(t, e.checker(t, cfg), s.Revoked.Cert)
			if st.State != Unknown {
				t.Fatalf("state %v, want unknown", st.State)
			}
			checkErr(t, err, []error{ErrBadResponse}, []error{ErrUnreachable, ErrNoSource})
			contains(t, err, tc.mention)
		})
	}
	t.Run("exact size limit is allowed", func(t *testing.T) {
		setup(t)
		e.route("/crl", serveChunked(good))
		st, err := e.check(t, e.checker(t, Config{FetchCRLs: true, MaxCRLBytes: int64(len(good))}), s.Revoked.Cert)
		checkErr(t, err, nil, nil)
		if st.State != Revoked {
			t.Fatalf("state %v", st.State)
		}
	})
}

func TestBadOCSP(t *testing.T) {
	e := setup(t)
	s := e.set
	inter := s.Intermediate
	// A delegated responder must be issued by the issuer, carry OCSPSigning
	// and be valid now.
	signer := func(ca *testpki.Authority, eku []x509.ExtKeyUsage, notAfter time.Time) *testpki.Leaf {
		l, err := ca.Issue(testpki.LeafOptions{
			CommonName: "OCSP Responder", Key: s.Agency2.Key, ExtKeyUsage: eku,
			NotBefore: t0.Add(-48 * time.Hour), NotAfter: notAfter,
		})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ocspEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	noEKU := signer(inter, nil, t0.Add(time.Hour))
	wrongEKU := signer(inter, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, t0.Add(time.Hour))
	expired := signer(inter, ocspEKU, t0.Add(-time.Hour))
	foreign := signer(s.OtherRoot, ocspEKU, t0.Add(time.Hour))
	now := e.clock.Now

	unknownCert := func() *x509.Certificate {
		// Signed by Intermediate but never recorded by it: its responder says unknown.
		tmpl := &x509.Certificate{SerialNumber: bigSerial(777), Subject: pkix.Name{CommonName: "unrecorded"},
			NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour), OCSPServer: []string{e.ocspURL}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, inter.Cert, &s.Agency.Key.PublicKey, inter.Key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}()

	for _, tc := range []struct {
		name    string
		handler http.Handler // replaces /ocsp; nil keeps the real responder
		cert    *x509.Certificate
		max     int64
		want    error
		mention string
	}{
		{"signed by another CA", ocspHandler(inter.Cert, s.OtherRoot.Cert, s.OtherRoot.Key, now, nil), s.Agency.Cert, 0, ErrBadResponse, "not signed by the issuer"},
		{"another CA's responder", s.OtherRoot.OCSPResponder(now), s.Agency.Cert, 0, ErrBadResponse, "unauthorized"},
		{"delegate without extended key usage", inter.OCSPResponderSignedBy(noEKU, now), s.Agency.Cert, 0, ErrBadResponse, "OCSPSigning"},
		{"delegate with another extended key usage", inter.OCSPResponderSignedBy(wrongEKU, now), s.Agency.Cert, 0, ErrBadResponse, "OCSPSigning"},
		{"expired delegate", inter.OCSPResponderSignedBy(expired, now), s.Agency.Cert, 0, ErrBadResponse, "not valid now"},
		{"delegate of another CA", inter.OCSPResponderSignedBy(foreign, now), s.Agency.Cert, 0, ErrBadResponse, "not issued by the issuer"},
		{"answer for another serial", ocspHandler(inter.Cert, inter.Cert, inter.Key, now, func(r *ocsp.Response) {
			r.SerialNumber = s.Agency2.Cert.SerialNumber
		}), s.Agency.Cert, 0, ErrBadResponse, "no response matching"},
		{"garbage", serve([]byte("\x30\x03\x02\x01\x00")), s.Agency.Cert, 0, ErrBadResponse, "ocsp http"},
		{"malformedRequest", serve(ocsp.MalformedRequestErrorResponse), s.Agency.Cert, 0, ErrBadResponse, "malformed"},
		{"oversized", nil, s.Agency.Cert, 100, ErrBadResponse, "exceeds 100"},
		{"responder says unknown", nil, unknownCert, 0, ErrUnknownCert, "ocsp " + e.ocspURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			if tc.handler != nil {
				e.route("/ocsp", tc.handler)
			}
			c := e.checker(t, Config{OCSP: true, MaxOCSPBytes: tc.max})
			st, err := e.check(t, c, tc.cert)
			if st.State != Unknown {
				t.Fatalf("state %v, want unknown", st.State)
			}
			checkErr(t, err, []error{tc.want}, []error{ErrUnreachable, ErrNoSource, ErrStale})
			contains(t, err, tc.mention)
			if c.ocspCache.size() != 0 {
				t.Error("a rejected answer was cached")
			}
		})
	}
}

func bigSerial(n int64) *big.Int { return new(big.Int).SetInt64(n) }

// TestDelegatedOCSP checks the responders that must be accepted.
func TestDelegatedOCSP(t *testing.T) {
	e := setup(t)
	s := e.set
	delegate, err := s.Intermediate.Issue(testpki.LeafOptions{
		CommonName: "edocgw Test OCSP Responder", Key: s.Agency2.Key,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Some CAs sign with their own key and embed their own certificate.
	self := &testpki.Leaf{Cert: s.Intermediate.Cert, Key: s.Intermediate.Key}
	for _, tc := range []struct {
		name   string
		signer *testpki.Leaf
		leaf   *testpki.Leaf
		want   State
	}{
		{"delegate, good", delegate, s.Agency, Good},
		{"delegate, revoked", delegate, s.Revoked, Revoked},
		{"issuer certificate embedded", self, s.Agency, Good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			e.route("/ocsp", s.Intermediate.OCSPResponderSignedBy(tc.signer, e.clock.Now))
			st, err := e.check(t, e.checker(t, Config{OCSP: true}), tc.leaf.Cert)
			checkErr(t, err, nil, nil)
			if st.State != tc.want {
				t.Fatalf("state %v, want %v", st.State, tc.want)
			}
		})
	}
}

// TestNoSource: nothing could be asked.
func TestNoSource(t *testing.T) {
	e := setup(t)
	otherCRL, err := e.set.OtherRoot.CRL(t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	otherFile := writeFile(t, "other.crl", otherCRL)
	bare := e.leaf(t, nil, nil)
	ldap := e.leaf(t, []string{"ldap://ldap.ca.gov.vn/ocsp"}, []string{"ldap://ldap.ca.gov.vn/cn=CA?certificateRevocationList", "file:///etc/crl.der", "http://"})
	for _, tc := range []struct {
		name    string
		cfg     Config
		cert    *x509.Certificate
		mention []string
	}{
		{"nothing configured", Config{}, e.set.Agency.Cert, nil},
		{"certificate names no source", Config{OCSP: true, FetchCRLs: true}, bare, []string{"names no responder", "names no distribution point"}},
		{"only unsupported schemes", Config{OCSP: true, FetchCRLs: true}, ldap, []string{`not "ldap"`, `not "file"`, "no host", "ldap://ldap.ca.gov.vn/ocsp"}},
		{"CRL file of another issuer", Config{CRLFiles: []string{otherFile}}, e.set.Agency.Cert, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			st, err := e.check(t, e.checker(t, tc.cfg), tc.cert)
			if st.State != Unknown {
				t.Fatalf("state %v, want unknown", st.State)
			}
			checkErr(t, err, []error{ErrNoSource}, []error{ErrUnreachable, ErrBadResponse, ErrStale})
			contains(t, err, tc.mention...)
		})
	}
}

// TestCRLScope checks the issuing distribution point extension.
func TestCRLScope(t *testing.T) {
	e := setup(t)
	idp := func(v issuingDistributionPoint) pkix.Extension {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return pkix.Extension{Id: oidIssuingDistPoint, Critical: true, Value: b}
	}
	uri := func(u string) distributionPointName {
		return distributionPointName{FullName: []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(u)}}}
	}
	for _, tc := range []struct {
		name    string
		ext     pkix.Extension
		want    State
		wantErr error
	}{
		{"partition of the certificate's distribution point", idp(issuingDistributionPoint{DistributionPoint: uri(e.crlURL)}), Revoked, nil},
		{"only user certificates", idp(issuingDistributionPoint{OnlyContainsUserCerts: true}), Revoked, nil},
		{"another partition", idp(issuingDistributionPoint{DistributionPoint: uri("http://127.0.0.1/part2.crl")}), Unknown, ErrNoSource},
		{"only CA certificates", idp(issuingDistributionPoint{OnlyContainsCACerts: true}), Unknown, ErrNoSource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			file := writeFile(t, "part.crl", e.crlWith(t, nil, tc.ext))
			st, err := e.check(t, e.checker(t, Config{CRLFiles: []string{file}}), e.set.Revoked.Cert)
			if st.State != tc.want {
				t.Fatalf("state %v (%v), want %v", st.State, err, tc.want)
			}
			if tc.wantErr != nil {
				checkErr(t, err, []error{tc.wantErr}, nil)
				contains(t, err, "the CRL covers", "skipped")
			} else {
				checkErr(t, err, nil, nil)
			}
		})
	}
	t.Run("fetched CRL of another partition", func(t *testing.T) {
		setup(t)
		e.route("/crl", serve(e.crlWith(t, nil, idp(issuingDistributionPoint{DistributionPoint: uri("http://127.0.0.1/part2.crl")}))))
		_, err := e.check(t, e.checker(t, Config{FetchCRLs: true}), e.set.Revoked.Cert)
		checkErr(t, err, []error{ErrBadResponse}, nil)
	})
}

func TestNew(t *testing.T) {
	e := setup(t)
	dir := t.TempDir()
	good := e.crl(t, t0, t0.Add(time.Hour))
	for _, tc := range []struct {
		name    string
		cfg     func(t *testing.T) Config
		mention string
	}{
		{"missing file", func(*testing.T) Config { return Config{CRLFiles: []string{dir + "/missing.crl"}} }, "missing.crl"},
		{"garbage file", func(t *testing.T) Config { return Config{CRLFiles: []string{writeFile(t, "g.crl", []byte("garbage"))}} }, "g.crl"},
		{"PEM of another type", func(t *testing.T) Config {
			return Config{CRLFiles: []string{writeFile(t, "c.pem", e.set.Agency.CertPEM)}}
		}, "CERTIFICATE"},
		{"broken PEM", func(t *testing.T) Config {
			return Config{CRLFiles: []string{writeFile(t, "b.pem", []byte("-----BEGIN X509 CRL-----\n!!!\n"))}}
		}, "malformed PEM"},
		{"delta CRL file", func(t *testing.T) Config {
			return Config{CRLFiles: []string{writeFile(t, "d.crl", e.crlWith(t, nil, pkix.Extension{Id: oidDeltaCRL, Critical: true, Value: []byte{2, 1, 1}}))}}
		}, "delta"},
		{"file over MaxCRLBytes", func(t *testing.T) Config {
			return Config{CRLFiles: []string{writeFile(t, "big.crl", good)}, MaxCRLBytes: int64(len(good) - 1)}
		}, "larger than"},
		{"negative timeout", func(*testing.T) Config { return Config{Timeout: -time.Second} }, "negative"},
		{"negative limit", func(*testing.T) Config { return Config{MaxOCSPBytes: -1} }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg(t))
			if err == nil || c != nil {
				t.Fatalf("New = %v, %v; want an error", c, err)
			}
			contains(t, err, tc.mention)
		})
	}
	t.Run("defaults", func(t *testing.T) {
		c, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if c.cfg.Timeout != DefaultTimeout || c.cfg.MaxCRLBytes != DefaultMaxCRLBytes || c.cfg.MaxOCSPBytes != DefaultMaxOCSPBytes ||
			c.cfg.HTTPClient == nil || c.cfg.Now == nil {
			t.Errorf("defaults not applied: %+v", c.cfg)
		}
	})
}

func TestCheckArguments(t *testing.T) {
	e := setup(t)
	c := e.checker(t, Config{OCSP: true})
	if _, err := c.Check(context.Background(), e.set.Agency.Cert, e.set.OtherRoot.Cert); !errors.Is(err, ErrNotIssuer) {
		t.Errorf("wrong issuer: err = %v, want ErrNotIssuer", err)
	}
	if _, err := c.Check(context.Background(), nil, e.set.Intermediate.Cert); err == nil {
		t.Error("nil certificate: no error")
	}
	if _, err := c.Check(context.Background(), e.set.Agency.Cert, nil); err == nil {
		t.Error("nil issuer: no error")
	}
}

// TestContextDone: once the caller's context ends, no request starts, but
// CRL files still answer.
func TestContextDone(t *testing.T) {
	e := setup(t)
	u := e.srv.URL + "/ocsp-hang"
	for _, tc := range []struct {
		name     string
		files    bool
		want     State
		wantErr  []error
		wantMore []string
	}{
		{"network only", false, Unknown, []error{ErrUnreachable, context.DeadlineExceeded}, []string{"ocsp " + u, "crl " + e.crlURL}},
		{"CRL file", true, Revoked, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			e.route("/ocsp-hang", hang())
			cert := e.leaf(t, []string{u}, []string{e.crlURL})
			e.set.Intermediate.Revoke(cert.SerialNumber, t0, ocsp.AffiliationChanged)
			cfg := Config{OCSP: true, FetchCRLs: true, Timeout: 3 * time.Second}
			if tc.files {
				cfg.CRLFiles = []string{writeFile(t, "crl.der", e.crl(t, t0, t0.Add(time.Hour)))}
			}
			c := e.checker(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			hits := e.crlHits.Load()
			start := time.Now()
			st, err := c.Check(ctx, cert, e.set.Intermediate.Cert)
			if st.State != tc.want || time.Since(start) > 2*time.Second {
				t.Fatalf("state %v after %v, want %v at once", st.State, time.Since(start), tc.want)
			}
			checkErr(t, err, tc.wantErr, nil)
			contains(t, err, tc.wantMore...)
			if e.crlHits.Load() != hits {
				t.Error("downloaded the CRL after the context ended")
			}
		})
	}
}

// TestConcurrentChecks runs many checks at once, with the clock moving and
// caches expiring, for the race detector.
func TestConcurrentChecks(t *testing.T) {
	e := setup(t)
	// The sources lag the clock, so an answer made while the clock moves on
	// is never from the future (ThisUpdate ≤ the checker's now), and expires
	// 15 minutes after it was made.
	lagging := func(d time.Duration) func() time.Time { return func() time.Time { return e.clock.Now().Add(-d) } }
	e.route("/ocsp", e.set.Intermediate.OCSPResponder(lagging(45*time.Minute)))
	e.route("/crl", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := e.clock.Now()
		der, err := e.set.Intermediate.CRL(now.Add(-105*time.Minute), now.Add(15*time.Minute))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(der)
	}))
	crlFile := writeFile(t, "crl.der", e.crl(t, t0, t0.Add(72*time.Hour)))
	checkers := []*Checker{
		e.checker(t, Config{OCSP: true}),
		e.checker(t, Config{FetchCRLs: true}),
		e.checker(t, Config{OCSP: true, FetchCRLs: true, CRLFiles: []string{crlFile}}),
	}
	cases := []struct {
		cert *x509.Certificate
		want State
	}{
		{e.set.Agency.Cert, Good}, {e.set.Agency2.Cert, Good}, {e.set.Revoked.Cert, Revoked},
	}
	const workers, rounds = 12, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				c := checkers[(w+r)%len(checkers)]
				tc := cases[(w*7+r)%len(cases)]
				st, err := c.Check(context.Background(), tc.cert, e.set.Intermediate.Cert)
				if err != nil || st.State != tc.want {
					errs <- fmt.Errorf("worker %d round %d: %v, %v; want %v", w, r, st.State, err, tc.want)
				}
				if w == 0 {
					e.clock.advance(90 * time.Second) // 30 minutes in all: answers expire along the way
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTTLCache(t *testing.T) {
	c := newTTLCache[int](3)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	c.put("a", 1, at(10), t0)
	c.put("b", 2, at(5), t0)
	c.put("c", 3, at(20), t0)
	c.put("d", 4, at(30), t0) // full: "b" expires first and goes
	for _, tc := range []struct {
		key  string
		now  time.Time
		want int
		ok   bool
	}{
		{"a", t0, 1, true}, {"b", t0, 0, false}, {"c", t0, 3, true}, {"d", t0, 4, true},
		{"a", at(10), 0, false}, // expiry is exclusive
		{"c", at(19), 3, true},
	} {
		if got, ok := c.get(tc.key, tc.now); got != tc.want || ok != tc.ok {
			t.Errorf("get(%q, +%v) = %d, %v; want %d, %v", tc.key, tc.now.Sub(t0), got, ok, tc.want, tc.ok)
		}
	}
	// Left: c (+20m), d (+30m); the get of "a" at +10m dropped it.
	c.put("f", 6, at(50), t0)
	c.put("e", 5, at(40), at(25)) // full, and "c" has expired: it goes, "d" stays
	for _, key := range []string{"d", "e", "f"} {
		if _, ok := c.get(key, at(26)); !ok {
			t.Errorf("%q dropped", key)
		}
	}
	if c.size() != 3 {
		t.Errorf("size %d, want 3", c.size())
	}
}
