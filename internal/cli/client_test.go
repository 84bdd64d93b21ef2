package cli_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/routing"
)

// clientCLI runs the command line with an empty stdin.
func clientCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(args, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Now: func() time.Time { return fixedNow }})
	return code, out.String(), errb.String()
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate for agency 000.00.00.G22, the PEM files in dir.
type testPKI struct {
	dir                                   string
	caFile, clientCert, clientKey, tokenF string
	server                                tls.Certificate
	pool                                  *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), pool: x509.NewCertPool()}
	now := time.Now()
	caKey := mustKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edocgw test hub CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.pool.AddCert(ca)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := mustKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "000.00.00.G22", x509.ExtKeyUsageClientAuth)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.caFile = p.write(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	p.clientCert = p.write(t, "client.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cliDER}))
	p.clientKey = p.write(t, "client-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	p.tokenF = p.write(t, "token", []byte("  s3cret-token\n"))
	return p
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *testPKI) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// fakeHub implements the client's side of the HTTP API. A posted body
// chooses the answer by a "case=NAME" marker.
type fakeHub struct {
	token  string // the bearer token required
	mtlsCN string // the client certificate's CN required, when set

	mu      sync.Mutex
	posted  [][]byte
	ctypes  []string
	cursors []string // after= of each inbox request
	limits  []string
	acked   []string
}

const (
	testToken  = "s3cret-token"
	payload    = "<?xml version=\"1.0\"?>\n<edXML>Công văn số 12 \x00\xff bytes</edXML>\n"
	deliveryID = "01JDELIV0001"
	documentID = "01JDOC0001"
)

var (
	problemType = regexp.MustCompile(`case=([a-z0-9-]+)`)
	inbox       = func() []routing.InboxEntry {
		var es []routing.InboxEntry
		for i := 1; i <= 7; i++ {
			es = append(es, routing.InboxEntry{DeliveryID: fmt.Sprintf("D%d", i), DocumentID: fmt.Sprintf("DOC%d", i),
				Kind: "document", From: "000.00.00.G22", Subject: fmt.Sprintf("V/v thử nghiệm %d", i), State: routing.StateQueued})
		}
		es[4] = routing.InboxEntry{DeliveryID: "D5", DocumentID: "DOC5", Kind: "status", From: "000.00.00.H53",
			StatusCode: "03", EdxmlID: "000.00.00.G22,2026/11/22,12/VPCP-KSTT", State: routing.StateQueued}
		return es
	}()
)

func problemJSON(w http.ResponseWriter, status int, name, title, detail string, ext map[string]any) {
	body := map[string]any{"type": "https://edocgw.invalid/problems/" + name, "title": title, "status": status}
	if detail != "" {
		body["detail"] = detail
	}
	for k, v := range ext {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func jsonAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *fakeHub) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/documents", h.postDocument)
	mux.HandleFunc("GET /v1/inbox", h.getInbox)
	mux.HandleFunc("GET /v1/deliveries/{id}", h.getDelivery)
	mux.HandleFunc("POST /v1/deliveries/{id}/ack", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.acked = append(h.acked, r.PathValue("id"))
		h.mu.Unlock()
		jsonAnswer(w, http.StatusOK, routing.DeliveryInfo{ID: r.PathValue("id"), Document: documentID,
			Recipient: "000.00.00.H53", Route: routing.RoutePull, State: routing.StateAcked})
	})
	mux.HandleFunc("GET /v1/documents/{id}/trace", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != documentID {
			problemJSON(w, http.StatusNotFound, "not-found", "not found", "no document "+r.PathValue("id"), nil)
			return
		}
		jsonAnswer(w, http.StatusOK, testTrace)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
			problemJSON(w, http.StatusUnauthorized, "unauthenticated", "not authenticated", "no valid credential", nil)
			return
		}
		if h.mtlsCN != "" && (r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != h.mtlsCN) {
			problemJSON(w, http.StatusUnauthorized, "unauthenticated", "not authenticated", "wrong client certificate", nil)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (h *fakeHub) postDocument(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || int64(len(body)) != r.ContentLength {
		problemJSON(w, http.StatusBadRequest, "bad-request", "bad body", fmt.Sprintf("%d bytes of %d: %v", len(body), r.ContentLength, err), nil)
		return
	}
	h.mu.Lock()
	h.posted = append(h.posted, body)
	h.ctypes = append(h.ctypes, r.Header.Get("Content-Type"))
	h.mu.Unlock()
	name := "accepted"
	if m := problemType.FindSubmatch(body); m != nil {
		name = string(m[1])
	}
	switch name {
	case "accepted":
		kind := "document"
		if bytes.Contains(body, []byte("StatusCode")) {
			kind = "status"
		}
		jsonAnswer(w, http.StatusAccepted, routing.Receipt{ID: documentID, Kind: kind, From: "000.00.00.G22", Size: int64(len(body)),
			Warnings:   []string{"lenient: Signature outside its namespace"},
			Recipients: []routing.RecipientReceipt{{Agency: "000.00.00.H53", DeliveryID: deliveryID, Route: routing.RoutePull, State: routing.StateQueued}}})
	case "duplicate":
		problemJSON(w, http.StatusConflict, "duplicate", "duplicate packet", "duplicate of 01JFIRST (same document-id)", map[string]any{"firstId": "01JFIRST", "key": "document-id"})
	case "invalid-envelope":
		problemJSON(w, http.StatusUnprocessableEntity, "invalid-envelope", "invalid edXML packet", "2 problems", map[string]any{"errors": []map[string]string{
			{"path": "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From", "error": "missing element", "message": "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From: From is missing"},
			{"path": "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To", "error": "missing element", "message": "To is missing"},
		}})
	case "signature-required":
		problemJSON(w, http.StatusUnprocessableEntity, "signature-required", "signature required", "000.00.00.G22 must sign its documents", nil)
	case "signature":
		problemJSON(w, http.StatusUnprocessableEntity, "signature", "signature refused", "signer certificate is not bound to the sending agency", nil)
	case "forbidden":
		problemJSON(w, http.StatusForbidden, "forbidden", "forbidden", "", nil) // no detail: the title stands in
	case "too-large":
		problemJSON(w, http.StatusRequestEntityTooLarge, "too-large", "packet too large", "limit 1024 bytes", nil)
	case "no-route":
		problemJSON(w, http.StatusUnprocessableEntity, "no-route", "no route to recipient", "000.00.00.X99 is\nnot reachable", nil)
	case "unavailable":
		problemJSON(w, http.StatusServiceUnavailable, "unavailable", "service unavailable", "the archive cannot be reached", nil)
	case "bad-gateway":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>proxy error</html>")
	case "teapot":
		w.WriteHeader(http.StatusTeapot)
	}
}

// getInbox pages through inbox; cursors are "pN", the next index.
func (h *fakeHub) getInbox(w http.ResponseWriter, r *http.Request) {
	after, lim := r.URL.Query().Get("after"), r.URL.Query().Get("limit")
	h.mu.Lock()
	h.cursors = append(h.cursors, after)
	h.limits = append(h.limits, lim)
	h.mu.Unlock()
	from := 0
	if after != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(after, "p"))
		if err != nil {
			problemJSON(w, http.StatusBadRequest, "bad-request", "bad cursor", after, nil)
			return
		}
		from = n
	}
	n := 50
	if lim != "" {
		n, _ = strconv.Atoi(lim)
	}
	to := min(from+n, len(inbox))
	page := routing.InboxPage{Items: inbox[from:to]}
	if to < len(inbox) {
		page.Next = "p" + strconv.Itoa(to)
	}
	jsonAnswer(w, http.StatusOK, page)
}

func (h *fakeHub) getDelivery(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("id") {
	case deliveryID, "altered":
		sum := sha256.Sum256([]byte(payload))
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Edocgw-Document-Id", documentID)
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.Header().Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		body := payload
		if r.PathValue("id") == "altered" { // bytes that are not those the digest names
			body = "X" + payload[1:]
		}
		io.WriteString(w, body)
	case "broken": // promises more than it sends, then breaks the stream
		w.Header().Set("Content-Length", "100000")
		w.Header().Set("Edocgw-Document-Id", documentID)
		io.WriteString(w, strings.Repeat("x", 1000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	case "stall": // sends a part, then nothing until the client gives up
		w.Header().Set("Content-Length", "100000")
		io.WriteString(w, strings.Repeat("x", 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		problemJSON(w, http.StatusNotFound, "not-found", "not found", "no delivery "+r.PathValue("id"), nil)
	}
}

// startHub serves h over TLS with the PKI's server certificate; mtls
// makes the server require a client certificate of the PKI's CA.
func startHub(t *testing.T, p *testPKI, h *fakeHub, mtls bool) *httptest.Server {
	t.Helper()
	return startHandler(t, p, h.handler(), mtls)
}

// startHandler serves handler like startHub.
func startHandler(t *testing.T, p *testPKI, handler http.Handler, mtls bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true // the client stays on HTTP/1.1 all the same
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if mtls {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = p.pool
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// hubArgs is the command cmd with the connection flags for srv and the
// token, then rest.
func hubArgs(p *testPKI, srv *httptest.Server, cmd string, rest ...string) []string {
	return append([]string{cmd, "--hub", srv.URL, "--ca", p.caFile, "--token-file", p.tokenF}, rest...)
}

func TestClientHelp(t *testing.T) {
	for _, c := range []string{"send", "status", "inbox", "fetch", "trace"} {
		code, _, stderr := clientCLI(t, c, "--help")
		if code != cli.ExitOK || !strings.Contains(stderr, "usage: edocgw "+c+" ") || !strings.Contains(stderr, "-token-file") {
			t.Errorf("%s --help: exit %d\n%s", c, code, stderr)
		}
	}
}

func TestClientUsage(t *testing.T) {
	p := newTestPKI(t)
	for _, args := range [][]string{
		{"send"},
		{"send", "a", "b"},
		{"status"},
		{"inbox", "extra"},
		{"inbox", "--limit", "-1"},
		{"fetch", "D1"},
		{"fetch", "-o", "x"},
		{"fetch", "-o", "x", "../x"},
		{"trace"},
		{"trace", "a/b"},
		{"inbox", "--hub", "http://127.0.0.1:8443"},
		{"inbox", "--hub", "not a url"},
		{"inbox", "--ca", p.caFile, "--insecure"},
		{"inbox", "--cert", p.clientCert},
		{"inbox", "--timeout", "0s"},
		{"send", "--no-such-flag", "x"},
	} {
		if code, _, stderr := clientCLI(t, args...); code != cli.ExitUsage {
			t.Errorf("edocgw %q: exit %d, want %d\n%s", args, code, cli.ExitUsage, stderr)
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	p := newTestPKI(t)
	h := &fakeHub{token: testToken}
	srv := startHub(t, p, h, false)
	for _, tc := range []struct {
		name       string
		code       int
		stdout     string
		stderrHas  []string
		stderrNone bool
	}{
		{"accepted", 0, "ACCEPTED " + documentID + "\n", []string{"warning: lenient: Signature outside its namespace\n"}, false},
		{"duplicate", 1, "DUPLICATE 01JFIRST\n", nil, true},
		{"invalid-envelope", 1, "REJECTED: invalid-envelope: 2 problems\n", []string{
			"/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From: From is missing\n",
			"/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To: To is missing\n"}, false},
		{"signature-required", 1, "REJECTED: signature-required: 000.00.00.G22 must sign its documents\n", nil, true},
		{"signature", 1, "REJECTED: signature: signer certificate is not bound to the sending agency\n", nil, true},
		{"forbidden", 1, "REJECTED: forbidden: forbidden\n", nil, true},
		{"too-large", 1, "REJECTED: too-large: limit 1024 bytes\n", nil, true},
		{"no-route", 1, "REJECTED: no-route: 000.00.00.X99 is not reachable\n", nil, true},
		{"teapot", 1, "REJECTED: http-418: I'm a teapot\n", nil, true},
		{"unavailable", 1, "", []string{"UNAVAILABLE: unavailable: the archive cannot be reached\n"}, false},
		{"bad-gateway", 1, "", []string{"UNAVAILABLE: http-502: <html>proxy error</html>\n"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Sprintf("<edXML><!-- case=%s --> Văn bản</edXML>\n", tc.name)
			file := p.write(t, tc.name+".edxml", []byte(body))
			code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "send", file)...)
			if code != tc.code || stdout != tc.stdout {
				t.Errorf("exit %d, stdout %q; want %d, %q\nstderr: %s", code, stdout, tc.code, tc.stdout, stderr)
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tc.stderrNone && stderr != "" {
				t.Errorf("stderr: %q", stderr)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			n := len(h.posted)
			if n == 0 || string(h.posted[n-1]) != body || h.ctypes[n-1] != "application/xml" {
				t.Errorf("hub got %d packets, the last not %q as application/xml", n, body)
			}
		})
	}
}

func TestSendJSON(t *testing.T) {
	p := newTestPKI(t)
	srv := startHub(t, p, &fakeHub{token: testToken}, false)
	for _, tc := range []struct {
		name string
		code int
		want map[string]any
	}{
		{"accepted", 0, map[string]any{"id": documentID, "kind": "document"}},
		{"duplicate", 1, map[string]any{"firstId": "01JFIRST", "status": float64(409), "type": "https://edocgw.invalid/problems/duplicate"}},
		{"signature-required", 1, map[string]any{"status": float64(422), "detail": "000.00.00.G22 must sign its documents"}},
		{"unavailable", 1, map[string]any{"status": float64(503)}},
	} {
		file := p.write(t, tc.name+".edxml", []byte("<edXML>case="+tc.name+"</edXML>"))
		code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "send", "--json", file)...)
		var got map[string]any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != tc.code || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%s: exit %d, %v: %q\n%s", tc.name, code, err, stdout, stderr)
			continue
		}
		for k, v := range tc.want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: %s = %v, want %v", tc.name, k, got[k], v)
			}
		}
	}
}

// TestSendLarge sends a packet large enough to wait for 100 Continue,
// accepted and, without a token, refused before its body is read.
func TestSendLarge(t *testing.T) {
	p := newTestPKI(t)
	h := &fakeHub{token: testToken}
	srv := startHub(t, p, h, false)
	body := []byte("<edXML><!-- case=accepted -->" + strings.Repeat("Văn bản ", 400_000) + "</edXML>")
	file := p.write(t, "big.edxml", body)
	if code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "send", file)...); code != 0 || stdout != "ACCEPTED "+documentID+"\n" {
		t.Fatalf("exit %d %q\n%s", code, stdout, stderr)
	}
	h.mu.Lock()
	if len(h.posted) != 1 || !bytes.Equal(h.posted[0], body) {
		t.Errorf("hub got %d packets, not the %d bytes sent", len(h.posted), len(body))
	}
	h.mu.Unlock()
	code, stdout, stderr := clientCLI(t, "send", "--hub", srv.URL, "--ca", p.caFile, file)
	if code != cli.ExitInput || stdout != "REJECTED: unauthenticated: no valid credential\n" {
		t.Errorf("no token: exit %d %q\n%s", code, stdout, stderr)
	}
}

// TestClientHubPath: a --hub URL with a path prefix keeps it.
func TestClientHubPath(t *testing.T) {
	p := newTestPKI(t)
	srv := startHandler(t, p, http.StripPrefix("/edocgw", (&fakeHub{}).handler()), false)
	for _, hub := range []string{srv.URL + "/edocgw", srv.URL + "/edocgw/"} {
		code, stdout, stderr := clientCLI(t, "fetch", "--hub", hub, "--ca", p.caFile, deliveryID, "-o", "-")
		if code != 0 || stdout != payload {
			t.Errorf("--hub %s: exit %d %q\n%s", hub, code, stdout, stderr)
		}
	}
}

func TestSendUnreachable(t *testing.T) {
	p := newTestPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	file := p.write(t, "doc.edxml", []byte("<edXML/>"))
	code, stdout, stderr := clientCLI(t, "send", "--hub", "https://"+addr, "--ca", p.caFile, file)
	if code != cli.ExitInput || stdout != "" || !strings.HasPrefix(stderr, "UNAVAILABLE: ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestStatusPacket(t *testing.T) {
	p := newTestPKI(t)
	h := &fakeHub{token: testToken}
	srv := startHub(t, p, h, false)
	status := filepath.Join(p.dir, "status.edxml")
	doc := filepath.Join(p.dir, "doc.edxml")
	for _, args := range [][]string{
		{"envelope", "build", "--from", "000.00.00.H53", "--status", "01", "--doc-id", "000.00.00.G22,2026/11/22,12/VPCP-KSTT",
			"--org", "000.00.00.G22", "--staff", "Trần Thị B", "-o", status},
		{"envelope", "build", "--from", "000.00.00.G22=Văn phòng Chính phủ", "--to", "000.00.00.H53=UBND tỉnh Tây Ninh",
			"--number", "12", "--notation", "VPCP-KSTT", "--subject", "V/v thử nghiệm", "--place", "Hà Nội",
			"--signer", "Nguyễn Văn A", "--position", "Chánh văn phòng", "--attach", status + "=application/xml", "-o", doc},
	} {
		if code, _, stderr := clientCLI(t, args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
	}
	want, _ := os.ReadFile(status)
	code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "status", status)...)
	if code != 0 || stdout != "ACCEPTED "+documentID+"\n" {
		t.Fatalf("status: exit %d %q\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = clientCLI(t, hubArgs(p, srv, "status", doc)...)
	if code != cli.ExitInput || stdout != "" || !strings.Contains(stderr, "not a status packet") {
		t.Errorf("status of a document: exit %d %q\n%s", code, stdout, stderr)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.posted) != 1 || !bytes.Equal(h.posted[0], want) {
		t.Errorf("hub got %d packets; want the status packet only", len(h.posted))
	}
}

func TestInboxPaging(t *testing.T) {
	p := newTestPKI(t)
	h := &fakeHub{token: testToken}
	srv := startHub(t, p, h, false)
	code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "inbox", "--limit", "3")...)
	want := "D1 DOC1 000.00.00.G22 V/v thử nghiệm 1\n" +
		"D2 DOC2 000.00.00.G22 V/v thử nghiệm 2\n" +
		"D3 DOC3 000.00.00.G22 V/v thử nghiệm 3\n" +
		"D4 DOC4 000.00.00.G22 V/v thử nghiệm 4\n" +
		"D5 DOC5 000.00.00.H53 status 03 about 000.00.00.G22,2026/11/22,12/VPCP-KSTT\n" +
		"D6 DOC6 000.00.00.G22 V/v thử nghiệm 6\n" +
		"D7 DOC7 000.00.00.G22 V/v thử nghiệm 7\n"
	if code != 0 || stdout != want {
		t.Errorf("exit %d\n%s\nwant\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	h.mu.Lock()
	if !reflect.DeepEqual(h.cursors, []string{"", "p3", "p6"}) || !reflect.DeepEqual(h.limits, []string{"3", "3", "3"}) {
		t.Errorf("requests: after=%q limit=%q", h.cursors, h.limits)
	}
	h.mu.Unlock()

	code, stdout, _ = clientCLI(t, hubArgs(p, srv, "inbox", "--json", "--limit", "3")...)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || len(lines) != len(inbox) {
		t.Fatalf("--json: exit %d, %d lines", code, len(lines))
	}
	for i, l := range lines {
		var e routing.InboxEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil || !reflect.DeepEqual(e, inbox[i]) {
			t.Errorf("line %d: %v: %s", i, err, l)
		}
	}
}

func TestFetch(t *testing.T) {
	p := newTestPKI(t)
	h := &fakeHub{token: testToken}
	srv := startHub(t, p, h, false)
	dir := t.TempDir()
	out := filepath.Join(dir, "in.edxml")

	code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "fetch", deliveryID, "-o", out)...)
	if want := fmt.Sprintf("FETCHED %s %s %d\n", deliveryID, documentID, len(payload)); code != 0 || stdout != want {
		t.Fatalf("exit %d %q, want %q\n%s", code, stdout, want, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != payload {
		t.Errorf("file holds %q", b)
	}
	h.mu.Lock()
	if len(h.acked) != 0 {
		t.Errorf("acked without --ack: %v", h.acked)
	}
	h.mu.Unlock()

	code, stdout, stderr = clientCLI(t, hubArgs(p, srv, "fetch", "--ack", deliveryID, "-o", out)...)
	if want := fmt.Sprintf("FETCHED %s %s %d\nACKED %s\n", deliveryID, documentID, len(payload), deliveryID); code != 0 || stdout != want {
		t.Errorf("--ack: exit %d %q, want %q\n%s", code, stdout, want, stderr)
	}
	h.mu.Lock()
	if !reflect.DeepEqual(h.acked, []string{deliveryID}) {
		t.Errorf("acked %v", h.acked)
	}
	h.mu.Unlock()

	code, stdout, stderr = clientCLI(t, hubArgs(p, srv, "fetch", deliveryID, "-o", "-")...)
	if code != 0 || stdout != payload || stderr != fmt.Sprintf("FETCHED %s %s %d\n", deliveryID, documentID, len(payload)) {
		t.Errorf("-o -: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, _ = clientCLI(t, hubArgs(p, srv, "fetch", "--json", "--ack", deliveryID, "-o", out)...)
	var rec struct {
		DeliveryID, DocumentID, File string
		Bytes                        int
		Ack                          routing.DeliveryInfo
	}
	if err := json.Unmarshal([]byte(stdout), &rec); err != nil || code != 0 || rec.Bytes != len(payload) ||
		rec.DocumentID != documentID || rec.Ack.State != routing.StateAcked {
		t.Errorf("--json: exit %d %v: %s", code, err, stdout)
	}
}

func TestFetchFailureLeavesNoFile(t *testing.T) {
	p := newTestPKI(t)
	srv := startHub(t, p, &fakeHub{token: testToken}, false)
	for _, tc := range []struct {
		id     string
		extra  []string
		stderr string
	}{
		{"broken", nil, "UNAVAILABLE: "},
		{"stall", []string{"--timeout", "300ms"}, "UNAVAILABLE: nothing moved for 300ms (--timeout)\n"},
		{"missing", nil, "edocgw: not-found: no delivery missing\n"},
		{"altered", nil, "edocgw: the bytes received do not match the hub's Repr-Digest (sha-256)\n"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			dir := t.TempDir()
			fresh, old := filepath.Join(dir, "new.edxml"), filepath.Join(dir, "old.edxml")
			if err := os.WriteFile(old, []byte("previous"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{fresh, old} {
				args := append(hubArgs(p, srv, "fetch", tc.extra...), "--ack", tc.id, "-o", out)
				code, stdout, stderr := clientCLI(t, args...)
				if code != cli.ExitInput || stdout != "" || !strings.HasPrefix(stderr, tc.stderr) {
					t.Errorf("exit %d, stdout %q, stderr %q; want prefix %q", code, stdout, stderr, tc.stderr)
				}
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 || ents[0].Name() != "old.edxml" {
				t.Errorf("folder holds %v, want old.edxml only", ents)
			}
			if b, _ := os.ReadFile(old); string(b) != "previous" {
				t.Errorf("old file now holds %q", b)
			}
		})
	}
}

func TestClientToken(t *testing.T) {
	p := newTestPKI(t)
	srv := startHub(t, p, &fakeHub{token: testToken}, false)
	if code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "inbox")...); code != 0 || stdout == "" {
		t.Errorf("with the token: exit %d %q\n%s", code, stdout, stderr)
	}
	wrong := p.write(t, "wrong-token", []byte("other\n"))
	code, _, stderr := clientCLI(t, "inbox", "--hub", srv.URL, "--ca", p.caFile, "--token-file", wrong)
	if code != cli.ExitInput || stderr != "edocgw: unauthenticated: no valid credential\n" {
		t.Errorf("wrong token: exit %d %q", code, stderr)
	}
	file := p.write(t, "doc.edxml", []byte("<edXML/>"))
	code, stdout, _ := clientCLI(t, "send", "--hub", srv.URL, "--ca", p.caFile, file)
	if code != cli.ExitInput || stdout != "REJECTED: unauthenticated: no valid credential\n" {
		t.Errorf("no token: exit %d %q", code, stdout)
	}
}

// TestClientCertificate: the hub requires a client certificate of its CA
// (mutual TLS), and refuses the connection when it is missing or foreign.
func TestClientCertificate(t *testing.T) {
	p, other := newTestPKI(t), newTestPKI(t)
	srv := startHub(t, p, &fakeHub{mtlsCN: "000.00.00.G22"}, true)
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdoutHas string
		stderrHas string
	}{
		{"cert", []string{"--cert", p.clientCert, "--key", p.clientKey}, 0, "D1 DOC1 ", ""},
		{"no cert", nil, 1, "", "edocgw: the hub asks for a client certificate (--cert C --key K): "},
		{"foreign cert", []string{"--cert", other.clientCert, "--key", other.clientKey}, 1, "", "edocgw: the hub refused the TLS connection (does it trust --cert?): "},
	} {
		code, stdout, stderr := clientCLI(t, append([]string{"inbox", "--hub", srv.URL, "--ca", p.caFile}, tc.args...)...)
		if code != tc.code || !strings.HasPrefix(stdout, tc.stdoutHas) || !strings.HasPrefix(stderr, tc.stderrHas) || (tc.stdoutHas == "") != (stdout == "") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, code, stdout, stderr)
		}
	}
}

func TestClientTLSTrust(t *testing.T) {
	p := newTestPKI(t)
	srv := startHub(t, p, &fakeHub{}, false)
	code, stdout, stderr := clientCLI(t, "inbox", "--hub", srv.URL)
	if code != cli.ExitInput || stdout != "" || !strings.Contains(stderr, "TLS certificate is not trusted") || strings.Contains(stderr, "UNAVAILABLE") {
		t.Errorf("without --ca: exit %d %q %q", code, stdout, stderr)
	}
	if code, stdout, stderr := clientCLI(t, "inbox", "--hub", srv.URL, "--insecure"); code != 0 || stdout == "" {
		t.Errorf("--insecure: exit %d %q\n%s", code, stdout, stderr)
	}
	// Another CA in --ca replaces the system roots and trusts nothing else.
	other := newTestPKI(t)
	if code, _, stderr := clientCLI(t, "inbox", "--hub", srv.URL, "--ca", other.caFile); code != cli.ExitInput || !strings.Contains(stderr, "not trusted") {
		t.Errorf("other CA: exit %d %q", code, stderr)
	}
	t.Setenv("EDOCGW_HUB", srv.URL)
	if code, stdout, stderr := clientCLI(t, "inbox", "--ca", p.caFile); code != 0 || stdout == "" {
		t.Errorf("$EDOCGW_HUB: exit %d %q\n%s", code, stdout, stderr)
	}
}

var (
	t0        = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) // 17:00:00 in Vietnam
	testTrace = routing.Trace{
		Document: routing.TraceDocument{ID: documentID, Kind: "document", From: "000.00.00.G22", EdxmlID: "000.00.00.G22,2026/11/22,12/VPCP-KSTT",
			Number: "12", Notation: "VPCP-KSTT", Subject: "V/v thử nghiệm", Size: 2048, ReceivedAt: t0},
		Steps: []routing.Step{
			{At: t0, Step: "accepted", Actor: "agency:000.00.00.G22"},
			{At: t0.Add(time.Second), Step: "archived", Detail: "sha256:ab12"},
		},
		Recipients: []routing.TraceRecipient{
			{Agency: "000.00.00.H53", DeliveryID: deliveryID, Route: routing.RoutePull, State: routing.StateAcked, Attempts: 1,
				Steps: []routing.Step{
					{At: t0.Add(time.Second), Step: "queued"},
					{At: t0.Add(5 * time.Minute), Step: "pulled", Actor: "agency:000.00.00.H53"},
					{At: t0.Add(6 * time.Minute), Step: "acked", Actor: "agency:000.00.00.H53"},
				},
				Statuses: []routing.StatusEntry{{Code: "01", Name: "arrived", NameVI: "Đã đến", From: "000.00.00.H53", DocumentID: "01JST1", At: t0.Add(5*time.Minute + 30*time.Second)}},
			},
			{Agency: "000.00.00.H14", Route: routing.RoutePeer, Peer: "national", State: routing.StateDelivered, Attempts: 2, Remote: "R-77",
				Steps: []routing.Step{
					{At: t0.Add(time.Second), Step: "queued"},
					{At: t0.Add(2 * time.Second), Step: "attempt-failed", Attempt: 1, Error: "connection refused"},
					{At: t0.Add(time.Minute), Step: "pushed", Attempt: 2, Actor: "hub:national"},
				},
				Statuses: []routing.StatusEntry{{Code: "03", From: "000.00.00.H14", Description: "Đã phân công\nxử lý", At: t0.Add(time.Hour)}},
			},
		},
	}
)

func TestTrace(t *testing.T) {
	p := newTestPKI(t)
	srv := startHub(t, p, &fakeHub{token: testToken}, false)
	code, stdout, stderr := clientCLI(t, hubArgs(p, srv, "trace", documentID)...)
	want := `2026-11-22 17:00:00 document 01JDOC0001 from=000.00.00.G22 edxml=000.00.00.G22,2026/11/22,12/VPCP-KSTT number=12/VPCP-KSTT size=2048 subject="V/v thử nghiệm"
2026-11-22 17:00:00 accepted by agency:000.00.00.G22
2026-11-22 17:00:01 archived sha256:ab12
000.00.00.H53 route=pull state=acked attempts=1 delivery=01JDELIV0001
  2026-11-22 17:00:01 queued
  2026-11-22 17:05:00 pulled by agency:000.00.00.H53
  2026-11-22 17:05:30 status 01 (Đã đến / arrived) from 000.00.00.H53
  2026-11-22 17:06:00 acked by agency:000.00.00.H53
000.00.00.H14 route=peer state=delivered attempts=2 peer=national remote=R-77
  2026-11-22 17:00:01 queued
  2026-11-22 17:00:02 attempt-failed attempt 1, error: connection refused
  2026-11-22 17:01:00 pushed by hub:national, attempt 2
  2026-11-22 18:00:00 status 03 (Đã tiếp nhận / accepted) from 000.00.00.H14: Đã phân công xử lý
`
	if code != 0 || stdout != want {
		t.Errorf("exit %d\n%s\nwant\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	code, stdout, _ = clientCLI(t, hubArgs(p, srv, "trace", "--json", documentID)...)
	var got routing.Trace
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 || !reflect.DeepEqual(got, testTrace) {
		t.Errorf("--json: exit %d %v\n%s", code, err, stdout)
	}
	if code, _, stderr := clientCLI(t, hubArgs(p, srv, "trace", "nope")...); code != cli.ExitInput || stderr != "edocgw: not-found: no document nope\n" {
		t.Errorf("unknown document: exit %d %q", code, stderr)
	}
}
