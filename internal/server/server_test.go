package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/devpki"
	"github.com/edocgw/edocgw/internal/dirstore"
	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/internal/sharedspec"
)

// newServer serves a fresh data folder over real TLS with the development
// PKI, and returns a client that trusts only its CA.
func newServer(t *testing.T) (*httptest.Server, *http.Client, string) {
	t.Helper()
	data := t.TempDir()
	files, created, err := devpki.Ensure(data, time.Now())
	if err != nil || !created {
		t.Fatalf("devpki: %v created=%v", err, created)
	}
	if _, again, err := devpki.Ensure(data, time.Now()); err != nil || again {
		t.Fatalf("second Ensure recreated the PKI: %v %v", again, err)
	}
	srv, err := server.New(server.Config{DataDir: data, Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(files.ServerCert, files.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(files.CACert)
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("CA: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return ts, client, data
}

func getJSON(t *testing.T, c *http.Client, url string, status int, v any) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestHealthAndAgencies(t *testing.T) {
	ts, c, data := newServer(t)
	var h map[string]any
	getJSON(t, c, ts.URL+"/healthz", 200, &h)
	if h["status"] != "ok" {
		t.Fatalf("healthz %v", h)
	}
	// An import made while the server runs is seen on the next request.
	d := agencyids.NewDirectory()
	if err := d.Load([]agencyids.Agency{{Code: "000.00.00.H53", Name: "Ủy ban nhân dân tỉnh Tây Ninh"}, {Code: "000.00.13.H53", Name: "Sở Thông tin và Truyền thông", Parent: "000.00.00.H53"}}); err != nil {
		t.Fatal(err)
	}
	if err := dirstore.Save(data, d); err != nil {
		t.Fatal(err)
	}
	var ready map[string]any
	getJSON(t, c, ts.URL+"/readyz", 200, &ready)
	if ready["agencies"] != float64(2) {
		t.Fatalf("readyz %v", ready)
	}
	var found struct{ Agencies []agencyids.Agency }
	getJSON(t, c, ts.URL+"/v1/agencies?q=so+thong", 200, &found)
	if len(found.Agencies) != 1 || found.Agencies[0].Code != "000.00.13.H53" {
		t.Fatalf("search: %+v", found)
	}
	var a agencyids.Agency
	getJSON(t, c, ts.URL+"/v1/agencies/000.00.00.H53", 200, &a)
	if a.Name != "Ủy ban nhân dân tỉnh Tây Ninh" {
		t.Fatalf("agency %+v", a)
	}
	var p map[string]any
	resp := getJSON(t, c, ts.URL+"/v1/agencies/000.00.99.H53", 404, &p)
	if resp.Header.Get("Content-Type") != "application/problem+json" || p["type"] != server.ProblemTypeBase+"agency-not-found" {
		t.Fatalf("404 problem: %v %v", resp.Header, p)
	}
	getJSON(t, c, ts.URL+"/v1/agencies/%3Cscript%3E", 400, &p)
	if p["type"] != server.ProblemTypeBase+"invalid-agency-code" {
		t.Fatalf("400 problem: %v", p)
	}
}

func TestValidateEndpoint(t *testing.T) {
	ts, c, _ := newServer(t)
	sample, err := os.ReadFile(filepath.Join(sharedspec.Dir(t), "spec", "samples", "sample-envelope-received-vxp-2019.xml"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(mode, body string, status int) map[string]any {
		t.Helper()
		resp, err := c.Post(ts.URL+"/v1/envelopes/validate?mode="+mode, "application/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("mode %s: status %d, want %d", mode, resp.StatusCode, status)
		}
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	rep := post("lenient", string(sample), 200)
	if rep["valid"] != true || rep["kind"] != "document" || len(rep["warnings"].([]any)) == 0 {
		t.Fatalf("lenient report %v", rep)
	}
	if rep := post("strict", string(sample), 200); rep["valid"] != false || len(rep["errors"].([]any)) == 0 {
		t.Fatalf("strict report %v", rep)
	}
	prob := post("strict", `<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`, 422)
	errs := prob["errors"].([]any)
	if prob["type"] != server.ProblemTypeBase+"invalid-envelope" || !strings.Contains(errs[0].(map[string]any)["error"].(string), "external entities") {
		t.Fatalf("XXE problem %v", prob)
	}
}
