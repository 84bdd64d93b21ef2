package revocation

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/signing/testpki"
	"golang.org/x/crypto/ocsp"
)

// t0 is the fixture's "now"; the Set's Revoked leaf was revoked at t0−1h.
var t0 = time.Date(2026, 3, 16, 9, 30, 0, 0, time.UTC)

// crlValidity is NextUpdate − ThisUpdate of the CRLs the default /crl route
// serves.
const crlValidity = 2 * time.Hour

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one testpki.Set whose leaves point at one 127.0.0.1 server:
// /ocsp is Intermediate's responder and /crl serves Intermediate's current
// CRL (ThisUpdate now, NextUpdate now+crlValidity), both on the env clock.
// Tests replace or add paths with route. Tests using it must not run in
// parallel: setup resets the clock and the routes.
type env struct {
	set     *testpki.Set
	srv     *httptest.Server
	clock   fakeClock
	ocspURL string
	crlURL  string
	crlHits atomic.Int64

	mu     sync.Mutex
	routes map[string]http.Handler
}

var shared struct {
	once sync.Once
	env  *env
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		shared.env.srv.CloseClientConnections()
		shared.env.srv.Close()
	}
	os.Exit(code)
}

func setup(t *testing.T) *env {
	t.Helper()
	shared.once.Do(func() {
		e := &env{routes: map[string]http.Handler{}}
		e.clock.set(t0)
		e.srv = httptest.NewServer(e)
		e.ocspURL, e.crlURL = e.srv.URL+"/ocsp", e.srv.URL+"/crl"
		e.set, shared.err = testpki.NewSet(t0, e.ocspURL, e.crlURL)
		shared.env = e
	})
	if shared.err != nil {
		t.Fatalf("testpki.NewSet: %v", shared.err)
	}
	e := shared.env
	e.clock.set(t0)
	e.mu.Lock()
	e.routes = map[string]http.Handler{}
	e.mu.Unlock()
	return e
}

func (e *env) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	h := e.routes[r.URL.Path]
	e.mu.Unlock()
	switch {
	case h != nil:
		h.ServeHTTP(w, r)
	case r.URL.Path == "/ocsp":
		e.set.Intermediate.OCSPResponder(e.clock.Now).ServeHTTP(w, r)
	case r.URL.Path == "/crl":
		e.crlHits.Add(1)
		now := e.clock.Now()
		der, err := e.set.Intermediate.CRL(now, now.Add(crlValidity))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(der)
	default:
		http.NotFound(w, r)
	}
}

// route serves path with h until the next setup.
func (e *env) route(path string, h http.Handler) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.routes[path] = h
	return e.srv.URL + path
}

// leaf issues a leaf of Intermediate (reusing Agency's key, for speed) with
// the given URLs.
func (e *env) leaf(t *testing.T, ocspURLs, crlURLs []string) *x509.Certificate {
	t.Helper()
	l, err := e.set.Intermediate.Issue(testpki.LeafOptions{
		CommonName: "Sở Y tế tỉnh Hà Giang", Key: e.set.Agency.Key,
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0),
		OCSPServer: ocspURLs, CRLDistributionPoints: crlURLs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l.Cert
}

// checker makes a Checker on the env clock with a 2 s timeout unless cfg
// says otherwise.
func (e *env) checker(t *testing.T, cfg Config) *Checker {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func (e *env) check(t *testing.T, c *Checker, cert *x509.Certificate) (Status, error) {
	t.Helper()
	return c.Check(context.Background(), cert, e.set.Intermediate.Cert)
}

// crl returns Intermediate's current CRL with the given times.
func (e *env) crl(t *testing.T, thisUpdate, nextUpdate time.Time) []byte {
	t.Helper()
	der, err := e.set.Intermediate.CRL(thisUpdate, nextUpdate)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// crlWith makes a CRL of Intermediate listing Revoked, with extra
// extensions, signed by key (Intermediate's when nil).
func (e *env) crlWith(t *testing.T, key crypto.Signer, exts ...pkix.Extension) []byte {
	t.Helper()
	if key == nil {
		key = e.set.Intermediate.Key
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(1000),
		ThisUpdate: t0,
		NextUpdate: t0.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{
			SerialNumber: e.set.Revoked.Cert.SerialNumber, RevocationTime: t0.Add(-time.Hour), ReasonCode: ocsp.KeyCompromise,
		}},
		ExtraExtensions: exts,
	}, e.set.Intermediate.Cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serve answers every request with body, its Content-Length and a 200.
func serve(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// serveChunked answers with body and no Content-Length.
func serveChunked(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		_, _ = w.Write(body)
	})
}

func statusCode(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "unavailable", code) })
}

// hang blocks until the client gives up (or 20 s pass). The body is read
// first: only then does the server notice a client that closes.
func hang() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
}

// ocspHandler answers each POSTed request with a response made by mutate
// from a good answer for the requested serial, signed by key as signer for
// issuer.
func ocspHandler(issuer, signer *x509.Certificate, key crypto.Signer, now func() time.Time, mutate func(*ocsp.Response)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			_, _ = w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now(), NextUpdate: now().Add(time.Hour)}
		if mutate != nil {
			mutate(&tmpl)
		}
		resp, err := ocsp.CreateResponse(issuer, signer, tmpl, key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(resp)
	})
}

// deadURL returns a loopback URL nobody listens on.
func deadURL(t *testing.T, path string) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + path
	srv.Close()
	return u
}

// checkErr asserts that err wraps every one of want and none of notWant;
// want nil means err must be nil.
func checkErr(t *testing.T, err error, want, notWant []error) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("err = nil, want %v", want)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("err = %v\nwant it to wrap %q", err, w)
		}
	}
	for _, n := range notWant {
		if errors.Is(err, n) {
			t.Errorf("err = %v\nwant it not to wrap %q", err, n)
		}
	}
}

func contains(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v, want it to mention %q", err, p)
		}
	}
}
