package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/routing"
)

// fetchedPart is one part of a POST /v1/inbox/fetch answer.
type fetchedPart struct {
	header map[string]string
	body   []byte
}

// readParts reads a multipart/mixed answer.
func readParts(t *testing.T, r response) []fetchedPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("answer %s: not multipart/mixed (%v)", r, err)
	}
	var out []fetchedPart
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("part %d: %v", len(out), err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("part %d: %v", len(out), err)
		}
		h := map[string]string{}
		for k := range p.Header {
			h[k] = p.Header.Get(k)
		}
		out = append(out, fetchedPart{h, b})
	}
}

// TestFetchMany: POST /v1/inbox/fetch answers one part per delivery in the
// order asked, each named by its id: the original with its length and
// digest, or the problem in its place; it refuses as a whole a body that
// is not a list of 1–100 ids.
func TestFetchMany(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, routing.RoleAgency, "POST", "/v1/inbox/fetch", strings.NewReader(`{"deliveryIds": ["dl1", "gone", "dl2"]}`))
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("got %s %v", r, r.Header)
	}
	parts := readParts(t, r)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	d := archive.Sum(original)
	for i, want := range []string{"dl1", "gone", "dl2"} {
		p := parts[i]
		if p.header["Edocgw-Delivery-Id"] != want {
			t.Errorf("part %d is %q, want %q", i, p.header["Edocgw-Delivery-Id"], want)
		}
		if want == "gone" {
			var pr map[string]any
			if p.header["Content-Type"] != "application/problem+json" || json.Unmarshal(p.body, &pr) != nil ||
				pr["type"] != server.ProblemTypeBase+"not-found" || pr["status"] != float64(404) {
				t.Errorf("part %d: %v %s, want a not-found problem", i, p.header, p.body)
			}
			continue
		}
		if p.header["Content-Type"] != "application/xml" || !bytes.Equal(p.body, original) ||
			p.header["Content-Length"] != fmt.Sprint(len(original)) || p.header["Edocgw-Document-Id"] != "doc-"+want ||
			p.header["Repr-Digest"] != "sha-256=:"+base64.StdEncoding.EncodeToString(d[:])+":" {
			t.Errorf("part %d: %v %q, want the original", i, p.header, p.body)
		}
	}

	refusesIDBodies(t, e, "/v1/inbox/fetch", routing.MaxFetchBatch)
}

// TestFetchManyAborted: an original that fails in mid-stream breaks the
// transfer rather than ending the multipart answer as if complete.
func TestFetchManyAborted(t *testing.T) {
	e := newEnv(t)
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	e.hub.set(func(h *fakeHub) {
		h.blob = func() archive.Blob {
			return &fakeBlob{Reader: bytes.NewReader(big), size: int64(len(big)), failAt: 500_000}
		}
	})
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/inbox/fetch", strings.NewReader(`{"deliveryIds": ["dl1"]}`))
	req.Header.Set("Authorization", "Bearer "+e.token[routing.RoleAgency])
	resp, err := e.ts.Client().Do(req)
	if err == nil {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatalf("read %d bytes with no error", len(b))
		}
	}
	if !strings.Contains(e.log.String(), "batch fetch not sent in full") {
		t.Errorf("log:\n%s", e.log.String())
	}
}

// TestFetchNext: POST /v1/inbox/fetch with a limit and no ids answers the
// next deliveries of the inbox as parts, like a fetch by ids; a limit out
// of range, a limit beside ids, or a limit to POST /v1/inbox/ack is
// refused.
func TestFetchNext(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, routing.RoleAgency, "POST", "/v1/inbox/fetch", strings.NewReader(`{"limit": 25}`))
	if r.StatusCode != 200 {
		t.Fatalf("got %s", r)
	}
	if got := e.hub.callList(); len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "FetchNext ") || !strings.HasSuffix(got[len(got)-1], " 25") {
		t.Errorf("hub calls %q, want FetchNext of 25", got)
	}
	parts := readParts(t, r)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	for i, p := range parts {
		if want := fmt.Sprint("next", i+1); p.header["Edocgw-Delivery-Id"] != want || !bytes.Equal(p.body, original) ||
			p.header["Edocgw-Document-Id"] != "doc-"+want {
			t.Errorf("part %d: %v %q, want delivery %s's original", i, p.header, p.body, want)
		}
	}
	for _, tc := range []struct{ path, body string }{
		{"/v1/inbox/fetch", `{}`},
		{"/v1/inbox/fetch", `{"limit": 0}`},
		{"/v1/inbox/fetch", `{"limit": -1}`},
		{"/v1/inbox/fetch", fmt.Sprintf(`{"limit": %d}`, routing.MaxFetchBatch+1)},
		{"/v1/inbox/fetch", `{"limit": 2, "deliveryIds": ["dl1"]}`},
		{"/v1/inbox/fetch", `{"limit": 2, "deliveryIds": []}`},
		{"/v1/inbox/ack", `{"limit": 2}`},
		{"/v1/inbox/ack", `{"limit": 2, "deliveryIds": ["dl1"]}`},
	} {
		if r := e.do(t, routing.RoleAgency, "POST", tc.path, strings.NewReader(tc.body)); r.StatusCode != 400 {
			t.Errorf("%s %s: got %s, want 400", tc.path, tc.body, r)
		}
	}
}
