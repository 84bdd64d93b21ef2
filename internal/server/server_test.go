package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/internal/sharedspec"
	"github.com/edocgw/edocgw/routing"
)

func TestNewNeedsHubAndTokens(t *testing.T) {
	if _, err := server.New(server.Config{Tokens: &fakeTokens{}}); err == nil {
		t.Fatal("New without a Hub")
	}
	if _, err := server.New(server.Config{Hub: newFakeHub(t)}); err == nil {
		t.Fatal("New without Tokens")
	}
	// Two servers may share a registry (the collectors are reused).
	reg := prometheus.NewRegistry()
	for range 2 {
		if _, err := server.New(server.Config{Hub: newFakeHub(t), Tokens: &fakeTokens{}, Registry: reg}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHealthAndAgencies(t *testing.T) {
	e := newEnv(t)
	if r := e.do(t, "", "GET", "/healthz", nil); r.StatusCode != 200 || decode[map[string]any](t, r)["status"] != "ok" {
		t.Fatalf("healthz %s", r)
	}
	r := e.do(t, routing.RoleAgency, "GET", "/v1/agencies?q=so+thong", nil)
	found := decode[struct{ Agencies []agencyids.Agency }](t, r)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" || len(found.Agencies) != 1 || found.Agencies[0].Code != "000.00.13.H53" {
		t.Fatalf("search: %s", r)
	}
	if r := e.do(t, routing.RoleAgency, "GET", "/v1/agencies?q=zzz", nil); string(r.body) != `{"agencies":[]}`+"\n" {
		t.Fatalf("search with no match: %s", r)
	}
	r = e.do(t, routing.RoleAuditor, "GET", "/v1/agencies/000.00.00.H53", nil)
	if a := decode[agencyids.Agency](t, r); r.StatusCode != 200 || a.Name != "Ủy ban nhân dân tỉnh Tây Ninh" {
		t.Fatalf("agency: %s", r)
	}
	p := problemOf(t, e.do(t, routing.RoleAdmin, "GET", "/v1/agencies/000.00.99.H53", nil), 404, "agency-not-found")
	if p["detail"] != "000.00.99.H53" {
		t.Fatalf("detail %v", p)
	}
	problemOf(t, e.do(t, routing.RoleAdmin, "GET", "/v1/agencies/%3Cscript%3E", nil), 400, "invalid-agency-code")
	for _, q := range []string{"", "?q=", "?q=so&limit=0", "?q=so&limit=201", "?q=so&limit=x"} {
		problemOf(t, e.do(t, routing.RoleAgency, "GET", "/v1/agencies"+q, nil), 400, "bad-request")
	}
	// The directory is the hub's: a hub without one is unavailable.
	e.hub.set(func(h *fakeHub) { h.dir = nil })
	problemOf(t, e.do(t, routing.RoleAgency, "GET", "/v1/agencies/000.00.00.H53", nil), 503, "unavailable")
}

func TestValidateEndpoint(t *testing.T) {
	e := newEnv(t)
	post := func(mode, body string, status int) map[string]any {
		t.Helper()
		r := e.do(t, routing.RoleAgency, "POST", "/v1/envelopes/validate?mode="+mode, strings.NewReader(body))
		if r.StatusCode != status {
			t.Fatalf("mode %s: %s, want %d", mode, r, status)
		}
		return decode[map[string]any](t, r)
	}
	prob := post("strict", `<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`, 422)
	errs := prob["errors"].([]any)
	if prob["type"] != server.ProblemTypeBase+"invalid-envelope" || !strings.Contains(errs[0].(map[string]any)["error"].(string), "external entities") {
		t.Fatalf("XXE problem %v", prob)
	}
	if p := post("bogus", "<x/>", 400); p["type"] != server.ProblemTypeBase+"bad-request" {
		t.Fatalf("bad mode: %v", p)
	}
	big := e.do(t, routing.RoleAgency, "POST", "/v1/envelopes/validate", bytes.NewReader(make([]byte, 32<<20+1)))
	problemOf(t, big, 413, "too-large")

	sample, err := os.ReadFile(filepath.Join(sharedspec.Dir(t), "spec", "samples", "sample-envelope-received-vxp-2019.xml"))
	if err != nil {
		t.Fatal(err)
	}
	rep := post("lenient", string(sample), 200)
	if rep["valid"] != true || rep["kind"] != "document" || len(rep["warnings"].([]any)) == 0 {
		t.Fatalf("lenient report %v", rep)
	}
	if rep := post("strict", string(sample), 200); rep["valid"] != false || len(rep["errors"].([]any)) == 0 {
		t.Fatalf("strict report %v", rep)
	}
}

func TestTokenAuthentication(t *testing.T) {
	e := newEnv(t)
	unknown := "edt_" + strings.Repeat("A", 43)
	tests := []struct {
		name    string
		auth    string // the Authorization header
		tokens  error  // the token store's error
		status  int
		typ     string
		refused string // the reason given to Hub.Refused, "" for no call
	}{
		{"valid", "Bearer " + e.token[routing.RoleAgency], nil, 200, "", ""},
		{"scheme is case-insensitive", "bearer " + e.token[routing.RoleAgency], nil, 200, "", ""},
		{"no credentials", "", nil, 401, "unauthenticated", ""},
		{"unknown or revoked", "Bearer " + unknown, nil, 401, "unauthenticated", "unknown or revoked bearer token"},
		{"malformed", "Bearer abc", nil, 401, "unauthenticated", "malformed Authorization header"},
		{"not bearer", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), nil, 401, "unauthenticated", "malformed Authorization header"},
		{"store unauthenticated", "Bearer " + unknown, fmt.Errorf("x: %w", routing.ErrUnauthenticated), 401, "unauthenticated", "unknown or revoked"},
		{"store down", "Bearer " + unknown, errors.New("database is locked"), 503, "unavailable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.hub.set(func(h *fakeHub) { h.refused = nil })
			e.tokens.setErr(tt.tokens)
			req, _ := http.NewRequest("GET", e.ts.URL+"/v1/agencies/000.00.00.H53", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			r := send(t, e.ts.Client(), req)
			if tt.status == 200 {
				if r.StatusCode != 200 {
					t.Fatalf("got %s", r)
				}
			} else {
				p := problemOf(t, r, tt.status, tt.typ)
				if strings.Contains(string(r.body), "database is locked") {
					t.Errorf("problem leaks the store's error: %v", p)
				}
			}
			if tt.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
			if tt.status == 503 && r.Header.Get("Retry-After") != "5" {
				t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
			}
			rs := e.hub.refusals()
			if tt.refused == "" {
				if len(rs) != 0 {
					t.Fatalf("refusals %v", rs)
				}
				return
			}
			if len(rs) != 1 {
				t.Fatalf("refusals %v, want one", rs)
			}
			got := rs[0]
			if got.actor != "anonymous" || got.what != "GET /v1/agencies/000.00.00.H53" || !strings.Contains(got.why, tt.refused) || !strings.Contains(got.why, "127.0.0.1") {
				t.Errorf("refusal %+v", got)
			}
			if strings.Contains(got.why+got.what, strings.TrimPrefix(tt.auth, "Bearer ")) {
				t.Errorf("refusal carries the credential: %+v", got)
			}
		})
	}
}

// TestClientCertificate authenticates over real TLS: the server verifies
// client certificates against a CA the test makes and the hub maps the
// verified leaf to a principal.
func TestClientCertificate(t *testing.T) {
	e := newEnv(t)
	ca := newCA(t, "Test Hub CA")
	member := ca.issue(t, "Văn phòng Chính phủ", false)
	stranger := ca.issue(t, "Unbound", false)
	other := newCA(t, "Another CA").issue(t, "Outsider", false)
	e.hub.set(func(h *fakeHub) { h.certs[agencyids.FingerprintOf(member.Certificate[0])] = agencyP })

	ts := httptest.NewUnstartedServer(e.srv)
	ts.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.pool,
		Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1", true)},
	}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	client := func(cert *tls.Certificate) *http.Client {
		c := &tls.Config{RootCAs: ca.pool}
		if cert != nil {
			// Sent even when the server asks for another CA's.
			c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
	}
	get := func(c *http.Client) (response, error) {
		resp, err := c.Get(ts.URL + "/v1/inbox")
		if err != nil {
			return response{}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return response{resp, b}, err
	}

	r, err := get(client(&member))
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("member certificate: %v %v", r, err)
	}
	if !contains(e.hub.callList(), "Inbox agency:000.00.00.G22") {
		t.Fatalf("calls %v", e.hub.callList())
	}
	r, err = get(client(&stranger))
	if err != nil {
		t.Fatal(err)
	}
	problemOf(t, r, 401, "unauthenticated")
	if rs := e.hub.refusals(); len(rs) != 1 || rs[0].actor != "anonymous" || !strings.Contains(rs[0].why, "CN=Unbound") {
		t.Fatalf("refusals %v", rs)
	}
	r, err = get(client(nil))
	if err != nil {
		t.Fatal(err)
	}
	problemOf(t, r, 401, "unauthenticated")
	// A certificate of an unknown CA never reaches the server's handler.
	if _, err := get(client(&other)); err == nil {
		t.Fatal("certificate of another CA accepted")
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

// issue makes a TLS server certificate for 127.0.0.1 or a client one.
func (ca *testCA) issue(t *testing.T, name string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestRoleMatrix calls every endpoint as every role (design §6).
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	const (
		anon    = routing.Role("")
		agency  = routing.RoleAgency
		hub     = routing.RoleHub
		auditor = routing.RoleAuditor
		admin   = routing.RoleAdmin
	)
	roles := []routing.Role{anon, agency, hub, auditor, admin}
	endpoints := []struct {
		method, path, body string
		ok                 int // the status of an allowed call
		allowed            []routing.Role
	}{
		{"GET", "/healthz", "", 200, roles},
		{"GET", "/readyz", "", 200, roles},
		{"GET", "/metrics", "", 200, roles},
		{"POST", "/v1/documents", "<edXML/>", 202, []routing.Role{agency, hub}},
		{"GET", "/v1/inbox", "", 200, []routing.Role{agency}},
		{"GET", "/v1/deliveries/dl1", "", 200, []routing.Role{agency}},
		{"POST", "/v1/deliveries/dl1/ack", "", 200, []routing.Role{agency}},
		{"POST", "/v1/inbox/ack", `{"deliveryIds": ["dl1"]}`, 200, []routing.Role{agency}},
		{"POST", "/v1/inbox/fetch", `{"deliveryIds": ["dl1"]}`, 200, []routing.Role{agency}},
		{"GET", "/v1/documents/doc1", "", 200, []routing.Role{agency, hub, auditor}},
		{"GET", "/v1/documents/doc1/trace", "", 200, []routing.Role{agency, hub, auditor}},
		{"GET", "/v1/audit/events?kind=delivery.", "", 200, []routing.Role{auditor}},
		{"GET", "/v1/archive/doc1/export", "", 200, []routing.Role{auditor}},
		{"GET", "/v1/agencies?q=uy+ban", "", 200, []routing.Role{agency, hub, auditor, admin}},
		{"GET", "/v1/agencies/000.00.00.H53", "", 200, []routing.Role{agency, hub, auditor, admin}},
		{"POST", "/v1/envelopes/validate", "not xml", 422, []routing.Role{agency, hub, auditor, admin}},
	}
	for _, ep := range endpoints {
		for _, role := range roles {
			name := string(role)
			if role == anon {
				name = "anonymous"
			}
			t.Run(ep.method+" "+ep.path+" as "+name, func(t *testing.T) {
				e.hub.set(func(h *fakeHub) { h.refused = nil })
				r := e.do(t, role, ep.method, ep.path, strings.NewReader(ep.body))
				allowed := false
				for _, a := range ep.allowed {
					allowed = allowed || a == role
				}
				switch {
				case allowed:
					if r.StatusCode != ep.ok {
						t.Fatalf("got %s, want %d", r, ep.ok)
					}
				case role == anon:
					problemOf(t, r, 401, "unauthenticated")
				default:
					problemOf(t, r, 403, "forbidden")
					rs := e.hub.refusals()
					if len(rs) != 1 || !strings.HasPrefix(rs[0].actor, string(role)+":") || rs[0].what != ep.method+" "+strings.Split(ep.path, "?")[0] {
						t.Fatalf("refusals %+v", rs)
					}
				}
			})
		}
	}
}

func TestAcceptDocument(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, routing.RoleAgency, "POST", "/v1/documents", bytes.NewReader(original))
	rc := decode[routing.Receipt](t, r)
	if r.StatusCode != 202 || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Location") != "/v1/documents/doc%2F1" ||
		rc.ID != "doc/1" || rc.From != agencyP.Agency || rc.Digest != archive.Sum(original) || rc.Size != int64(len(original)) {
		t.Fatalf("got %s (%+v)", r, rc)
	}
	if !contains(e.hub.callList(), "Accept agency:000.00.00.G22") {
		t.Fatalf("calls %v", e.hub.callList())
	}
	dup := &routing.DuplicateError{FirstID: "first", Key: "document-id"}
	e.hub.setErr(fmt.Errorf("accept: %w", dup))
	p := problemOf(t, e.do(t, routing.RoleHub, "POST", "/v1/documents", bytes.NewReader(original)), 409, "duplicate")
	if p["firstId"] != "first" || p["key"] != "document-id" {
		t.Fatalf("duplicate problem %v", p)
	}
}

// TestAcceptStreams shows that the hub reads the body while the client
// still sends it: the server does not buffer packets.
func TestAcceptStreams(t *testing.T) {
	e := newEnv(t)
	gotFirst := make(chan []byte)
	sizes := make(chan int64, 1)
	accept := func(body io.Reader, size int64) (*routing.Receipt, error) {
		sizes <- size
		buf := make([]byte, 5)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		gotFirst <- buf
		rest, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		return &routing.Receipt{ID: "d1", From: agencyP.Agency, Size: int64(len(buf) + len(rest))}, nil
	}
	e.hub.set(func(h *fakeHub) { h.accept = accept })
	pr, pw := io.Pipe()
	done := make(chan response)
	go func() {
		req, _ := http.NewRequest("POST", e.ts.URL+"/v1/documents", pr)
		req.Header.Set("Authorization", "Bearer "+e.token[routing.RoleAgency])
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- response{resp, b}
	}()
	if _, err := pw.Write([]byte("<edXML")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-gotFirst:
		if string(b) != "<edXM" {
			t.Fatalf("first bytes %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub saw nothing before the body ended: the server buffers it")
	}
	if _, err := pw.Write([]byte(">…</edXML>")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-done
	if r.Response == nil || r.StatusCode != 202 || decode[routing.Receipt](t, r).Size != int64(len("<edXML>…</edXML>")) {
		t.Fatalf("got %v", r)
	}
	if s := <-sizes; s != -1 {
		t.Fatalf("size of a chunked body %d, want -1", s)
	}
}

func TestAcceptTooLarge(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxBody = 10 })
	// Refused on its Content-Length before the hub sees it.
	problemOf(t, e.do(t, routing.RoleAgency, "POST", "/v1/documents", strings.NewReader("01234567890")), 413, "too-large")
	if len(e.hub.callList()) != 0 {
		t.Fatalf("calls %v", e.hub.callList())
	}
	// Cut while streaming when the length is unknown.
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/documents", io.MultiReader(strings.NewReader("01234567"), strings.NewReader("890")))
	req.Header.Set("Authorization", "Bearer "+e.token[routing.RoleAgency])
	p := problemOf(t, send(t, e.ts.Client(), req), 413, "too-large")
	if p["detail"] != "the limit is 10 bytes" {
		t.Fatalf("problem %v", p)
	}
	if r := e.do(t, routing.RoleAgency, "POST", "/v1/documents", strings.NewReader("0123456789")); r.StatusCode != 202 {
		t.Fatalf("a body at the limit: %s", r)
	}
}

// TestRefusalBounded: the audit log gets a bounded name of the request.
func TestRefusalBounded(t *testing.T) {
	e := newEnv(t)
	e.do(t, routing.RoleAuditor, "GET", "/v1/deliveries/"+strings.Repeat("x", 5000), nil)
	rs := e.hub.refusals()
	if len(rs) != 1 || len(rs[0].what) > 260 || len(rs[0].why) > 400 || !strings.HasPrefix(rs[0].what, "GET /v1/deliveries/xxx") {
		t.Fatalf("refusals %+v", rs)
	}
}
