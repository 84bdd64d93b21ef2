package server_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

// TestOriginals fetches a delivery and a document: the original bytes,
// streamed with their headers.
func TestOriginals(t *testing.T) {
	e := newEnv(t)
	sum := archive.Sum(original)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	tests := []struct {
		path, call string
		header     map[string]string
	}{
		{"/v1/deliveries/dl1", "FetchDelivery agency:000.00.00.G22 dl1", map[string]string{"Edocgw-Delivery-Id": "dl1", "Edocgw-Document-Id": "doc1"}},
		{"/v1/documents/doc1", "OpenDocument agency:000.00.00.G22 doc1", map[string]string{"Edocgw-Document-Id": "doc1"}},
	}
	for _, tt := range tests {
		r := e.do(t, routing.RoleAgency, "GET", tt.path, nil)
		if r.StatusCode != 200 || !bytes.Equal(r.body, original) {
			t.Fatalf("%s: %s", tt.path, r)
		}
		tt.header["Content-Type"] = "application/xml"
		tt.header["Content-Length"] = fmt.Sprint(len(original))
		tt.header["Repr-Digest"] = digest
		for k, v := range tt.header {
			if got := r.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.path, k, got, v)
			}
		}
		if !contains(e.hub.callList(), tt.call) {
			t.Errorf("%s: calls %v", tt.path, e.hub.callList())
		}
	}
	// A blob that does not know its digest: no Repr-Digest.
	e.hub.set(func(h *fakeHub) {
		h.blob = func() archive.Blob {
			return struct{ archive.Blob }{&fakeBlob{Reader: bytes.NewReader(original), size: int64(len(original))}}
		}
	})
	if r := e.do(t, routing.RoleAgency, "GET", "/v1/deliveries/dl1", nil); r.StatusCode != 200 || r.Header.Get("Repr-Digest") != "" {
		t.Fatalf("without digest: %s %v", r, r.Header)
	}
}

// TestOriginalAborted shows that an archive failure in mid-stream breaks
// the transfer instead of ending a short 200 as if complete.
func TestOriginalAborted(t *testing.T) {
	e := newEnv(t)
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	for name, blob := range map[string]func() archive.Blob{
		"corrupt": func() archive.Blob {
			return &fakeBlob{Reader: bytes.NewReader(big), size: int64(len(big)), failAt: 500_000}
		},
		"short": func() archive.Blob { return &fakeBlob{Reader: bytes.NewReader(big[:10]), size: int64(len(big))} },
	} {
		t.Run(name, func(t *testing.T) {
			e.hub.set(func(h *fakeHub) { h.blob = blob })
			for _, path := range []string{"/v1/deliveries/dl1", "/v1/documents/doc1"} {
				req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+e.token[routing.RoleAgency])
				resp, err := e.ts.Client().Do(req)
				if err != nil {
					continue // cut before the headers left the buffer
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					t.Fatalf("%s: read %d of %d bytes with no error", path, len(b), len(big))
				}
			}
		})
	}
	if !strings.Contains(e.log.String(), "original not sent in full") {
		t.Errorf("log:\n%s", e.log.String())
	}
	if !strings.Contains(scrape(t, e), `edocgw_http_requests_total{code="aborted",method="GET",route="/v1/deliveries/{id}"} 2`) {
		t.Fatal("aborted answers not counted")
	}
}

func TestInboxQuery(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, routing.RoleAgency, "GET", "/v1/inbox", nil)
	if r.StatusCode != 200 || string(r.body) != `{"items":[]}`+"\n" {
		t.Fatalf("empty inbox: %s", r)
	}
	last := func() (string, int) {
		e.hub.mu.Lock()
		defer e.hub.mu.Unlock()
		return e.hub.after, e.hub.limit
	}
	if after, limit := last(); after != "" || limit != 100 {
		t.Fatalf("defaults: after %q limit %d", after, limit)
	}
	e.do(t, routing.RoleAgency, "GET", "/v1/inbox?after=01JX&limit=500", nil)
	if after, limit := last(); after != "01JX" || limit != 500 {
		t.Fatalf("after %q limit %d", after, limit)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=-1", "limit=ten", "after=" + strings.Repeat("x", 257)} {
		problemOf(t, e.do(t, routing.RoleAgency, "GET", "/v1/inbox?"+q, nil), 400, "bad-request")
	}
	e.hub.setErr(fmt.Errorf("%w: cursor", routing.ErrBadRequest))
	problemOf(t, e.do(t, routing.RoleAgency, "GET", "/v1/inbox?after=zz", nil), 400, "bad-request")
}

// TestHubErrors sends the hub's errors through every kind of endpoint.
func TestHubErrors(t *testing.T) {
	e := newEnv(t)
	invalid := fmt.Errorf("%w: %w", routing.ErrInvalidPacket, envelope.Problems{{Path: "/edXML/edXMLEnvelope", Err: envelope.ErrMissing, Msg: "edXMLHeader missing"}})
	tests := []struct {
		err    error
		status int
		typ    string
	}{
		{fmt.Errorf("%w: not yours", routing.ErrForbidden), 403, "forbidden"},
		{fmt.Errorf("delivery dl1: %w", routing.ErrNotFound), 404, "not-found"},
		{fmt.Errorf("%w: acked", routing.ErrStateConflict), 409, "conflict"},
		{invalid, 422, "invalid-envelope"},
		{fmt.Errorf("%w: database: dial tcp 10.0.0.5:5432: connection refused", routing.ErrUnavailable), 503, "unavailable"},
		{errors.New("secret: postgres://edocgw:hunter2@db"), 500, "internal"},
		{fmt.Errorf("%w: session expired", routing.ErrUnauthenticated), 401, "unauthenticated"},
	}
	endpoints := []struct{ method, path string }{
		{"POST", "/v1/documents"}, {"GET", "/v1/inbox"}, {"GET", "/v1/deliveries/dl1"}, {"POST", "/v1/deliveries/dl1/ack"},
		{"GET", "/v1/documents/doc1"}, {"GET", "/v1/documents/doc1/trace"},
	}
	for _, tt := range tests {
		e.hub.setErr(tt.err)
		for _, ep := range endpoints {
			r := e.do(t, routing.RoleAgency, ep.method, ep.path, strings.NewReader("<edXML/>"))
			p := problemOf(t, r, tt.status, tt.typ)
			switch tt.status {
			case 500, 503:
				if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "10.0.0.5") {
					t.Errorf("%s %s leaks the error: %s", ep.method, ep.path, r)
				}
			default:
				if p["detail"] != tt.err.Error() {
					t.Errorf("%s %s: detail %q", ep.method, ep.path, p["detail"])
				}
			}
			if tt.typ == "invalid-envelope" {
				errs, _ := p["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["path"] != "/edXML/edXMLEnvelope" {
					t.Errorf("errors %v", p["errors"])
				}
			}
		}
	}
	// What the answers hide, the log tells the operator.
	if log := e.log.String(); strings.Count(log, "hunter2") != len(endpoints) || strings.Count(log, "status=503") != len(endpoints) {
		t.Errorf("log:\n%s", log)
	}
}

func TestPanicIsInternal(t *testing.T) {
	e := newEnv(t)
	p := problemOf(t, e.do(t, routing.RoleAgency, "GET", "/v1/documents/panic/trace", nil), 500, "internal")
	if strings.Contains(fmt.Sprint(p), "a bug") || !strings.Contains(e.log.String(), "fake: a bug") {
		t.Fatalf("problem %v, log %s", p, e.log.String())
	}
}

func TestReadyz(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "", "GET", "/readyz", nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" || string(r.body) != `{"checks":{"archive":"ok","database":"ok"},"status":"ready"}`+"\n" {
		t.Fatalf("ready: %s", r)
	}
	e.hub.set(func(h *fakeHub) { h.ready["database"] = errors.New("connection refused") })
	p := problemOf(t, e.do(t, "", "GET", "/readyz", nil), 503, "unavailable")
	checks, _ := p["checks"].(map[string]any)
	if checks["database"] != "connection refused" || checks["archive"] != "ok" || p["detail"] != "not ready: database" {
		t.Fatalf("not ready: %v", p)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.do(t, routing.RoleAgency, "GET", "/v1/inbox", nil)
	e.do(t, routing.RoleAgency, "GET", "/v1/deliveries/dl1", nil)
	e.do(t, "", "GET", "/v1/inbox", nil)
	e.do(t, "", "GET", "/nowhere/42", nil)
	m := scrape(t, e)
	for _, want := range []string{
		`edocgw_http_requests_total{code="200",method="GET",route="/v1/inbox"} 1`,
		`edocgw_http_requests_total{code="401",method="GET",route="/v1/inbox"} 1`,
		`edocgw_http_requests_total{code="200",method="GET",route="/v1/deliveries/{id}"} 1`,
		`edocgw_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`edocgw_http_request_duration_seconds_count{method="GET",route="/v1/inbox"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func scrape(t *testing.T, e *env) string {
	t.Helper()
	r := e.do(t, "", "GET", "/metrics", nil)
	if r.StatusCode != 200 {
		t.Fatalf("metrics: %s", r)
	}
	return string(r.body)
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/v1", "/v1/nothing", "/v1/documents/a/b/c"} {
		problemOf(t, e.do(t, routing.RoleAgency, "GET", path, nil), 404, "not-found")
	}
	tests := []struct{ method, path, allow string }{
		{"DELETE", "/v1/inbox", "GET"},
		{"PUT", "/v1/documents", "POST"},
		{"GET", "/v1/deliveries/x/ack", "POST"},
		{"POST", "/healthz", "GET"},
	}
	for _, tt := range tests {
		r := e.do(t, "", tt.method, tt.path, nil)
		problemOf(t, r, 405, "method-not-allowed")
		if r.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, r.Header.Get("Allow"), tt.allow)
		}
	}
}

func TestAuditQuery(t *testing.T) {
	e := newEnv(t)
	get := func(query string) response {
		return e.do(t, routing.RoleAuditor, "GET", "/v1/audit/events"+query, nil)
	}
	last := func() routing.AuditFilter {
		e.hub.mu.Lock()
		defer e.hub.mu.Unlock()
		return e.hub.audit
	}
	r := get("")
	want := `{"events":[{"seq":7,"at":"2026-11-22T00:00:00Z","kind":"document.accepted","actor":"agency:000.00.00.G22",` +
		`"agency":"000.00.00.G22","document":"doc1","delivery":"","details":{"size":12},"prev":"` + archive.Sum([]byte("6")).String() +
		`","hash":"` + archive.Sum([]byte("7")).String() + `"}],"next":"7"}` + "\n"
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" || string(r.body) != want {
		t.Fatalf("got %s\nwant %s", r, want)
	}
	if f := last(); f != (routing.AuditFilter{Limit: 100}) {
		t.Fatalf("defaults: %+v", f)
	}
	if r := get("?document=none"); r.StatusCode != 200 || string(r.body) != `{"events":[]}`+"\n" {
		t.Fatalf("empty page: %s", r)
	}

	get("?document=doc1&delivery=dl1&agency=000.00.00.H53&actor=agency%3A000.00.00.G22&kind=delivery." +
		"&from=2026-11-22T08:00:00.5%2B07:00&to=2026-11-23T00:00:00Z&after=42&limit=1000")
	f := last()
	from, to := time.Date(2026, 11, 22, 1, 0, 0, 5e8, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	if f.Document != "doc1" || f.Delivery != "dl1" || f.Agency != "000.00.00.H53" || f.Actor != "agency:000.00.00.G22" ||
		f.Kind != "delivery." || !f.From.Equal(from) || !f.To.Equal(to) || f.AfterSeq != 42 || f.Limit != 1000 {
		t.Fatalf("filter %+v", f)
	}

	calls := len(e.hub.callList())
	for _, q := range []string{
		"limit=0", "limit=1001", "limit=-1", "limit=ten", "after=-1", "after=x", "after=1.5", "after=99999999999999999999",
		"from=yesterday", "from=2026-11-22", "to=2026-11-22T08:00:00", "from=2026-11-22T08:00:00Z&to=2026-11-22T08:00:00Z",
		"from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z", "kind=" + strings.Repeat("k", 257), "actor=%FF",
	} {
		problemOf(t, get("?"+q), 400, "bad-request")
	}
	if n := len(e.hub.callList()); n != calls {
		t.Fatalf("bad queries reached the hub: %v", e.hub.callList()[calls:])
	}

	for _, tt := range []struct {
		err    error
		status int
		typ    string
	}{
		{fmt.Errorf("%w: cursor", routing.ErrBadRequest), 400, "bad-request"},
		{fmt.Errorf("%w: only an auditor reads the audit log", routing.ErrForbidden), 403, "forbidden"},
		{fmt.Errorf("%w: database: connection refused", routing.ErrUnavailable), 503, "unavailable"},
	} {
		e.hub.setErr(tt.err)
		problemOf(t, get("?kind=audit.read"), tt.status, tt.typ)
	}
}

func TestExportBundle(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, routing.RoleAuditor, "GET", "/v1/archive/doc1/export", nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/zip" ||
		r.Header.Get("Content-Disposition") != `attachment; filename="edocgw-doc1.zip"` || string(r.body) != "PK bundle of doc1" {
		t.Fatalf("export: %s %v", r, r.Header)
	}
	// A bundle that fails midway is cut off, not ended as a short 200.
	req, _ := http.NewRequest("GET", e.ts.URL+"/v1/archive/broken/export", nil)
	req.Header.Set("Authorization", "Bearer "+e.token[routing.RoleAuditor])
	resp, err := e.ts.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("a broken export read as complete")
	}
}
