package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

// The principals of the tests, one per role.
var (
	agencyP  = routing.Principal{Role: routing.RoleAgency, Agency: "000.00.00.G22"}
	hubP     = routing.Principal{Role: routing.RoleHub, Peer: "national-axis"}
	auditorP = routing.Principal{Role: routing.RoleAuditor, Name: "kiemtoan"}
	adminP   = routing.Principal{Role: routing.RoleAdmin, Name: "root"}
)

// original is the packet the fake hub serves; its digest is what
// Repr-Digest must carry.
var original = []byte(`<?xml version="1.0" encoding="UTF-8"?><edXML>…the original bytes…</edXML>`)

var testNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

type refusal struct{ actor, what, why string }

// fakeHub answers every call with canned values, or with err when set.
type fakeHub struct {
	mu      sync.Mutex
	dir     *agencyids.Directory
	certs   map[agencyids.Fingerprint]routing.Principal
	err     error                                            // every call's error when set
	accept  func(io.Reader, int64) (*routing.Receipt, error) // Accept, when set
	blob    func() archive.Blob                              // the blob FetchDelivery and OpenDocument return
	ready   map[string]error                                 // Ready's answer
	refused []refusal                                        // Refused's calls
	calls   []string                                         // "Method actor id"
	after   string                                           // the last Inbox call's cursor
	limit   int                                              // and limit
	audit   routing.AuditFilter                              // the last AuditEvents call's filter
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	d := agencyids.NewDirectory()
	if err := d.Load([]agencyids.Agency{
		{Code: "000.00.00.H53", Name: "Ủy ban nhân dân tỉnh Tây Ninh"},
		{Code: "000.00.13.H53", Name: "Sở Thông tin và Truyền thông", Parent: "000.00.00.H53"},
	}); err != nil {
		t.Fatal(err)
	}
	return &fakeHub{dir: d, certs: map[agencyids.Fingerprint]routing.Principal{}, ready: map[string]error{"database": nil, "archive": nil}}
}

func (h *fakeHub) record(call string, p routing.Principal, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call+" "+p.Actor()+" "+id)
	return h.err
}

func (h *fakeHub) newBlob() archive.Blob {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.blob != nil {
		return h.blob()
	}
	return &fakeBlob{Reader: bytes.NewReader(original), size: int64(len(original)), digest: archive.Sum(original)}
}

func (h *fakeHub) Accept(ctx context.Context, p routing.Principal, body io.Reader, size int64) (*routing.Receipt, error) {
	if err := h.record("Accept", p, ""); err != nil {
		return nil, err
	}
	h.mu.Lock()
	accept := h.accept
	h.mu.Unlock()
	if accept != nil {
		return accept(body, size)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	return &routing.Receipt{ID: "doc/1", Kind: "document", From: p.Agency, Digest: archive.Sum(b), Size: int64(len(b)), ReceivedAt: testNow,
		Recipients: []routing.RecipientReceipt{{Agency: "000.00.00.H53", DeliveryID: "dl1", Route: routing.RoutePull, State: routing.StateQueued}}}, nil
}

func (h *fakeHub) Inbox(ctx context.Context, p routing.Principal, after string, limit int) (*routing.InboxPage, error) {
	if err := h.record("Inbox", p, after); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.after, h.limit = after, limit
	h.mu.Unlock()
	return &routing.InboxPage{}, nil
}

func (h *fakeHub) FetchDelivery(ctx context.Context, p routing.Principal, id string) (*routing.DeliveryInfo, archive.Blob, error) {
	if err := h.record("FetchDelivery", p, id); err != nil {
		return nil, nil, err
	}
	return &routing.DeliveryInfo{ID: id, Document: "doc1", Recipient: p.Agency, Route: routing.RoutePull, State: routing.StatePulled}, h.newBlob(), nil
}

func (h *fakeHub) OpenDocument(ctx context.Context, p routing.Principal, id string) (*routing.TraceDocument, archive.Blob, error) {
	if err := h.record("OpenDocument", p, id); err != nil {
		return nil, nil, err
	}
	return &routing.TraceDocument{ID: id, Kind: "document", Digest: archive.Sum(original), Size: int64(len(original))}, h.newBlob(), nil
}

func (h *fakeHub) Ack(ctx context.Context, p routing.Principal, id string) (*routing.DeliveryInfo, error) {
	if err := h.record("Ack", p, id); err != nil {
		return nil, err
	}
	return &routing.DeliveryInfo{ID: id, Document: "doc1", Recipient: p.Agency, Route: routing.RoutePull, State: routing.StateAcked}, nil
}

// AckMany acks each id as Ack does; an id "gone" is not found.
func (h *fakeHub) AckMany(ctx context.Context, p routing.Principal, ids []string) ([]routing.AckResult, error) {
	if err := h.record("AckMany", p, strings.Join(ids, ",")); err != nil {
		return nil, err
	}
	out := make([]routing.AckResult, len(ids))
	for i, id := range ids {
		out[i].ID = id
		if id == "gone" {
			out[i].Err = fmt.Errorf("delivery %s: %w", id, routing.ErrNotFound)
			continue
		}
		out[i].Info = &routing.DeliveryInfo{ID: id, Document: "doc1", Recipient: p.Agency, Route: routing.RoutePull, State: routing.StateAcked}
	}
	return out, nil
}

// FetchNext fetches "next1" … up to limit, at most two: the fake inbox
// holds two deliveries.
func (h *fakeHub) FetchNext(ctx context.Context, p routing.Principal, limit int) ([]routing.FetchResult, error) {
	if err := h.record("FetchNext", p, strconv.Itoa(limit)); err != nil {
		return nil, err
	}
	var ids []string
	for i := 1; i <= min(limit, 2); i++ {
		ids = append(ids, "next"+strconv.Itoa(i))
	}
	out := make([]routing.FetchResult, len(ids))
	for i, id := range ids {
		out[i].ID = id
		out[i].Info = &routing.DeliveryInfo{ID: id, Document: "doc-" + id, Recipient: p.Agency, Route: routing.RoutePull, State: routing.StatePulled}
		out[i].Blob = h.newBlob()
	}
	return out, nil
}

// FetchMany fetches each id as FetchDelivery does; an id "gone" is not
// found.
func (h *fakeHub) FetchMany(ctx context.Context, p routing.Principal, ids []string) ([]routing.FetchResult, error) {
	if err := h.record("FetchMany", p, strings.Join(ids, ",")); err != nil {
		return nil, err
	}
	out := make([]routing.FetchResult, len(ids))
	for i, id := range ids {
		out[i].ID = id
		if id == "gone" {
			out[i].Err = fmt.Errorf("delivery %s: %w", id, routing.ErrNotFound)
			continue
		}
		out[i].Info = &routing.DeliveryInfo{ID: id, Document: "doc-" + id, Recipient: p.Agency, Route: routing.RoutePull, State: routing.StatePulled}
		out[i].Blob = h.newBlob()
	}
	return out, nil
}

func (h *fakeHub) Trace(ctx context.Context, p routing.Principal, id string) (*routing.Trace, error) {
	if err := h.record("Trace", p, id); err != nil {
		return nil, err
	}
	if id == "panic" {
		panic("fake: a bug")
	}
	return &routing.Trace{Document: routing.TraceDocument{ID: id, Kind: "document"}, Steps: []routing.Step{{At: testNow, Step: "accepted"}}, Recipients: []routing.TraceRecipient{}}, nil
}

func (h *fakeHub) AuditEvents(ctx context.Context, p routing.Principal, f routing.AuditFilter) (*routing.AuditPage, error) {
	if err := h.record("AuditEvents", p, f.Kind); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.audit = f
	h.mu.Unlock()
	if f.Document == "none" {
		return &routing.AuditPage{}, nil
	}
	return &routing.AuditPage{Events: []routing.AuditEvent{{Seq: 7, At: testNow, Kind: "document.accepted", Actor: "agency:000.00.00.G22",
		Agency: "000.00.00.G22", Document: "doc1", Details: json.RawMessage(`{"size":12}`), Prev: archive.Sum([]byte("6")),
		Hash: archive.Sum([]byte("7"))}}, Next: "7"}, nil
}

func (h *fakeHub) ExportBundle(ctx context.Context, p routing.Principal, id string) (*routing.Export, error) {
	if err := h.record("ExportBundle", p, id); err != nil {
		return nil, err
	}
	return routing.NewExport(id, func(w io.Writer) error {
		if id == "broken" {
			_, _ = io.WriteString(w, "PK")
			return errors.New("archive: blob corrupt")
		}
		_, err := io.WriteString(w, "PK bundle of "+id)
		return err
	}), nil
}

func (h *fakeHub) Directory() *agencyids.Directory {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dir
}

func (h *fakeHub) PrincipalForCert(ctx context.Context, cert *x509.Certificate) (routing.Principal, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.certs[agencyids.FingerprintOf(cert.Raw)]; ok {
		return p, nil
	}
	return routing.Principal{}, fmt.Errorf("%w: certificate not bound", routing.ErrUnauthenticated)
}

func (h *fakeHub) Ready(ctx context.Context) map[string]error {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]error{}
	for k, v := range h.ready {
		out[k] = v
	}
	return out
}

func (h *fakeHub) Refused(ctx context.Context, actor, what, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused = append(h.refused, refusal{actor, what, why})
}

func (h *fakeHub) refusals() []refusal {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]refusal(nil), h.refused...)
}

func (h *fakeHub) setErr(err error) { h.set(func(h *fakeHub) { h.err = err }) }

// set changes the fake under its lock.
func (h *fakeHub) set(f func(*fakeHub)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func (h *fakeHub) callList() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// fakeBlob is an original; a non-negative failAt makes reads fail there
// with archive.ErrCorrupt, as a corrupt blob does. (The server must not use
// the WriteTo of the embedded reader: only Read verifies.)
type fakeBlob struct {
	*bytes.Reader
	size   int64
	digest archive.Digest
	failAt int64
	read   int64
}

func (b *fakeBlob) Read(p []byte) (int, error) {
	if b.failAt > 0 && b.read+int64(len(p)) > b.failAt {
		p = p[:b.failAt-b.read]
		n, _ := b.Reader.Read(p)
		b.read += int64(n)
		return n, fmt.Errorf("fake: %w", archive.ErrCorrupt)
	}
	n, err := b.Reader.Read(p)
	b.read += int64(n)
	return n, err
}
func (b *fakeBlob) Close() error           { return nil }
func (b *fakeBlob) Size() int64            { return b.size }
func (b *fakeBlob) Digest() archive.Digest { return b.digest }

// fakeTokens knows the tokens of the test principals; err, when set, is
// every lookup's answer.
type fakeTokens struct {
	byHash map[authtoken.Hash]routing.Principal // set before serving
	mu     sync.Mutex
	err    error
}

func (f *fakeTokens) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeTokens) LookupToken(ctx context.Context, h authtoken.Hash) (routing.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return routing.Principal{}, f.err
	}
	p, ok := f.byHash[h]
	if !ok {
		return routing.Principal{}, fmt.Errorf("token: %w", routing.ErrNotFound)
	}
	return p, nil
}

// env is a server over a fake hub with one token per role.
type env struct {
	hub    *fakeHub
	tokens *fakeTokens
	reg    *prometheus.Registry
	srv    *server.Server
	ts     *httptest.Server
	token  map[routing.Role]string
	log    testenv.SyncBuffer // the server's log
}

func newEnv(t *testing.T, mod ...func(*server.Config)) *env {
	t.Helper()
	e := &env{hub: newFakeHub(t), tokens: &fakeTokens{byHash: map[authtoken.Hash]routing.Principal{}}, reg: prometheus.NewRegistry(), token: map[routing.Role]string{}}
	for _, p := range []routing.Principal{agencyP, hubP, auditorP, adminP} {
		tok, h, err := authtoken.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens.byHash[h], e.token[p.Role] = p, tok
	}
	cfg := server.Config{Hub: e.hub, Tokens: e.tokens, Registry: e.reg, Now: func() time.Time { return testNow },
		Logger: slog.New(slog.NewTextHandler(&e.log, nil))}
	for _, m := range mod {
		m(&cfg)
	}
	var err error
	if e.srv, err = server.New(cfg); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e
}

// response is an answer read in full.
type response struct {
	*http.Response
	body []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s %s", r.StatusCode, r.Header.Get("Content-Type"), r.body)
}

// do sends a request with the token of role ("" for none).
func (e *env) do(t *testing.T, role routing.Role, method, path string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.token[role])
	}
	return send(t, e.ts.Client(), req)
}

func send(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return response{resp, b}
}

// problemOf checks that r is a problem+json of the given status and type
// and returns its members.
func problemOf(t *testing.T, r response, status int, typ string) map[string]any {
	t.Helper()
	if r.StatusCode != status || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %s, want a %d problem", r, status)
	}
	m := decode[map[string]any](t, r)
	if m["type"] != server.ProblemTypeBase+typ || m["status"] != float64(status) || m["title"] == "" {
		t.Fatalf("problem %v, want type %s status %d", m, typ, status)
	}
	return m
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r, err)
	}
	return v
}

func contains(s []string, sub string) bool {
	for _, x := range s {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}
