package vxp_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/vxpclient"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// forge builds a request signed over params (in order) with secret, its
// XroadVnpt-systemid header headerID (none if empty), body as it is.
func (e *env) forge(path, headerID, secret string, params [][2]string, body []byte) *http.Request {
	e.t.Helper()
	var sign bytes.Buffer
	sign.WriteByte('{')
	for i, p := range params {
		if i > 0 {
			sign.WriteByte(',')
		}
		k, _ := json.Marshal("XroadVnpt-" + p[0])
		v, _ := json.Marshal(p[1])
		sign.Write(k)
		sign.WriteByte(':')
		sign.Write(v)
	}
	sign.WriteByte('}')
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if headerID != "" {
		req.Header.Set("XroadVnpt-systemid", headerID)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("XroadVnpt-sign-header", sign.String())
	req.Header.Set("XroadVnpt-hash-header", hmacHex(secret, sign.String()))
	return req
}

// request builds what c would send for a method, for a case to alter.
func request(t *testing.T, c *vxpclient.Client, method, jsonHeaders string, data []byte) *http.Request {
	t.Helper()
	req, _, err := c.Request(context.Background(), method, jsonHeaders, data)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Each error of the protocol: status FAIL, its ErrorCode, an ASCII
// ErrorDesc, nothing stored, and the refusal audited.
func TestVXPErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(vxp.DefaultPrefix, system)
	doc := e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "1"})
	const sendAs = `{"from":"000.00.00.H53","servicetype":"eDoc","messagetype":"edoc"}`

	// Prepared before the cases: a document already sent (for the
	// duplicate) and a delivery of another system's agency.
	first := ok(t, "first send")(c.SendEdoc(ctx, sendAs, e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "2"})))
	dupOf := e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "2"})
	e.accept(g22, e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "3"}))
	othersDelivery := vxp.WireID(e.inbox(h41)[0].DeliveryID)

	tests := []struct {
		name string
		do   func() (*vxpclient.Response, error)
		code vxp.Code
		desc string // a part of ErrorDesc
		kind string // the audit event kind recorded
	}{
		{"bad HMAC", func() (*vxpclient.Response, error) {
			req := request(t, c, "sendEdoc", sendAs, doc)
			req.Header["XroadVnpt-hash-header"] = []string{hmacHex("not-the-secret", req.Header["XroadVnpt-sign-header"][0])}
			return c.Do(req)
		}, vxp.CodeBadHMAC, "hash-header", "auth.refused"},
		{"signed JSON altered", func() (*vxpclient.Response, error) {
			req := request(t, c, "sendEdoc", sendAs, doc)
			req.Header["XroadVnpt-sign-header"] = []string{strings.Replace(req.Header["XroadVnpt-sign-header"][0], "H53", "H41", 1)}
			return c.Do(req)
		}, vxp.CodeBadHMAC, "", "auth.refused"},
		{"hash-header not hex", func() (*vxpclient.Response, error) {
			req := request(t, c, "getReceivedEdocList", `{}`, nil)
			req.Header["XroadVnpt-hash-header"] = []string{"zz"}
			return c.Do(req)
		}, vxp.CodeBadHMAC, "", "auth.refused"},
		{"unknown systemId", func() (*vxpclient.Response, error) {
			u := vxpclient.New(e.srv.URL, "vxp.nobody.01", "secret", nil, time.Now())
			return u.SendEdoc(ctx, sendAs, doc)
		}, vxp.CodeUnknownSys, "chua duoc dang ky", "auth.refused"},
		{"no sign-header", func() (*vxpclient.Response, error) {
			req := request(t, c, "sendEdoc", sendAs, doc)
			delete(req.Header, "XroadVnpt-sign-header")
			return c.Do(req)
		}, vxp.CodeAuthHeaders, "", "auth.refused"},
		{"sign-header not JSON", func() (*vxpclient.Response, error) {
			req := request(t, c, "getEdoc", `{"docId":"x"}`, nil)
			req.Header["XroadVnpt-sign-header"] = []string{"systemid=" + system}
			return c.Do(req)
		}, vxp.CodeAuthHeaders, "", "auth.refused"},
		{"systemid header differs from the signed one", func() (*vxpclient.Response, error) {
			req := request(t, c, "sendEdoc", sendAs, doc)
			req.Header["XroadVnpt-systemid"] = []string{other}
			return c.Do(req)
		}, vxp.CodeAuthHeaders, "", "auth.refused"},
		{"from of another system", func() (*vxpclient.Response, error) {
			return c.SendEdoc(ctx, `{"from":"000.00.00.H41","servicetype":"eDoc","messagetype":"edoc"}`, doc)
		}, vxp.CodeFromNotRegistered, "Don vi gui 000.00.00.H41 khong dung voi ma da dang ky: vxp.saas.02", "auth.refused"},
		{"the packet's From of no system", func() (*vxpclient.Response, error) {
			return c.SendEdoc(ctx, sendAs, e.signed(h14, hubtest.Doc{To: []agencyids.Code{g22}, Number: "4"}))
		}, vxp.CodeFromNotRegistered, "Don vi gui 000.00.00.H14", "auth.refused"},
		{"hash-file mismatch", func() (*vxpclient.Response, error) {
			req := request(t, c, "sendEdoc", sendAs, doc)
			other := e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "5"})
			req.Body, req.ContentLength = bodyOf(append(other, '\r', '\n')), int64(len(other)+2)
			return c.Do(req)
		}, vxp.CodeHashFile, "hash-file", "document.rejected"},
		{"hash-file missing", func() (*vxpclient.Response, error) {
			return c.Do(e.forge("/sendEdoc", system, e.secrets[system], [][2]string{{"systemid", system}, {"from", string(h53)}}, doc))
		}, vxp.CodeHashFile, "", "document.rejected"},
		{"multipart without file_doc", func() (*vxpclient.Response, error) {
			body := "--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XYZ--\r\n"
			req := e.forge("/sendEdoc", system, e.secrets[system],
				[][2]string{{"systemid", system}, {"from", string(h53)}, {"hash-file", sha256Hex([]byte(body))}}, []byte(body))
			req.Header.Set("Content-Type", "multipart/form-data; boundary=XYZ")
			return c.Do(req)
		}, vxp.CodeBody, "file_doc", "document.rejected"},
		{"invalid edXML", func() (*vxpclient.Response, error) {
			return c.SendEdoc(ctx, sendAs, []byte("<edXMLEnvelope><edXMLHeader/></edXMLEnvelope>"))
		}, vxp.CodeInvalidEdxml, "Goi tin edXML khong hop le", "document.rejected"},
		{"refused signature", func() (*vxpclient.Response, error) {
			unsigned, err := ags[h53].Document(hubtest.Doc{To: []agencyids.Code{g22}, Number: "6"})
			if err != nil {
				t.Fatal(err)
			}
			forged, err := ags[h41].Sign(unsigned) // H41's key on H53's document
			if err != nil {
				t.Fatal(err)
			}
			return c.SendEdoc(ctx, sendAs, forged)
		}, vxp.CodeSignature, "Chu ky so", "document.rejected"},
		{"signature required", func() (*vxpclient.Response, error) {
			unsigned, err := ags[h53].Document(hubtest.Doc{To: []agencyids.Code{g22}, Number: "7"})
			if err != nil {
				t.Fatal(err)
			}
			return c.SendEdoc(ctx, sendAs, unsigned)
		}, vxp.CodeSignatureRequired, "", "document.rejected"},
		{"no route", func() (*vxpclient.Response, error) {
			return c.SendEdoc(ctx, sendAs, e.signed(h53, hubtest.Doc{To: []agencyids.Code{"000.00.00.H99"}, Number: "8"}))
		}, vxp.CodeNoRoute, "", "document.rejected"},
		{"duplicate", func() (*vxpclient.Response, error) {
			return c.SendEdoc(ctx, sendAs, dupOf)
		}, vxp.CodeDuplicate, first.DocID, ""},
		{"another system's delivery", func() (*vxpclient.Response, error) {
			return c.GetEdoc(ctx, `{"docId":"`+othersDelivery+`"}`)
		}, vxp.CodeNotFound, othersDelivery, "auth.refused"},
		{"no such docId", func() (*vxpclient.Response, error) {
			return c.UpdateStatus(ctx, `{"docId":"7f1c2d3e-0000-4000-8000-000000000000","status":"done"}`)
		}, vxp.CodeNotFound, "", ""},
		{"bad status", func() (*vxpclient.Response, error) {
			return c.UpdateStatus(ctx, `{"docId":"`+othersDelivery+`","status":"read"}`)
		}, vxp.CodeBadParam, "", ""},
		{"bad messagetype", func() (*vxpclient.Response, error) {
			return c.GetReceivedEdocList(ctx, `{"messagetype":"letters"}`)
		}, vxp.CodeBadParam, "", ""},
		{"bad fromDate", func() (*vxpclient.Response, error) {
			return c.GetReceivedEdocList(ctx, `{"messagetype":"edoc","fromDate":"2026-11-22"}`)
		}, vxp.CodeBadParam, "", ""},
		{"deleteAgency", func() (*vxpclient.Response, error) {
			return c.DeleteAgency(ctx, `{"AgencyCode":"000.00.00.H53"}`)
		}, vxp.CodeAgencyAdmin, "quan tri vien", "auth.refused"},
		{"registerAgency of an agency not the system's", func() (*vxpclient.Response, error) {
			return c.RegisterAgency(ctx, `{}`, `{"code":"000.00.00.G22","name":"x"}`)
		}, vxp.CodeAgencyAdmin, "", "auth.refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, seq := e.counts(), e.head()
			r, err := tt.do()
			if err != nil {
				t.Fatal(err)
			}
			if r.HTTPStatus != http.StatusOK || r.Status != "FAIL" || r.ErrorCode != string(tt.code) || r.ErrorDesc == "" ||
				!strings.Contains(r.ErrorDesc, tt.desc) {
				t.Fatalf("HTTP %d %s %s %q; want FAIL %s with %q", r.HTTPStatus, r.Status, r.ErrorCode, r.ErrorDesc, tt.code, tt.desc)
			}
			asciiOnly(t, tt.name, r.Raw)
			after := e.counts()
			if tt.code == vxp.CodeDuplicate {
				// The pipeline archives an original before its transaction
				// finds the duplicate (routing.Hub.accept): the blob stays.
				after.blobs = before.blobs
			}
			if after != before {
				t.Errorf("stored: %+v, before %+v", after, before)
			}
			if tt.kind != "" {
				found := false
				for _, ev := range e.eventsSince(seq) {
					found = found || ev.Kind == tt.kind
				}
				if !found {
					t.Errorf("no %s event among %d", tt.kind, len(e.eventsSince(seq)))
				}
			}
		})
	}
}

// The sendEdoc answer carries DocId on failure too, empty but for a
// duplicate; list answers carry data: [], count answers count.
func TestVXPFailureShapes(t *testing.T) {
	e := newEnv(t)
	u := vxpclient.New(e.srv.URL, "vxp.nobody.01", "secret", nil, time.Now())
	ctx := context.Background()
	for _, tc := range []struct {
		do   func() (*vxpclient.Response, error)
		want string
	}{
		{func() (*vxpclient.Response, error) { return u.SendEdoc(ctx, `{}`, []byte("x")) }, `,"DocId":""}`},
		{func() (*vxpclient.Response, error) { return u.GetReceivedEdocList(ctx, `{}`) }, `,"data":[]}`},
		{func() (*vxpclient.Response, error) { return u.CountReceiveEdoc(ctx, `{}`) }, `,"count":0}`},
		{func() (*vxpclient.Response, error) { return u.GetEdoc(ctx, `{"docId":"x"}`) }, `,"data":""}`},
	} {
		r, err := tc.do()
		if err != nil || !strings.HasPrefix(string(r.Raw), `{"status":"FAIL","ErrorCode":"1002","ErrorDesc":"`) || !strings.HasSuffix(string(r.Raw), tc.want) {
			t.Errorf("%s, %v; want a suffix %s", r.Raw, err, tc.want)
		}
	}
	// downloadEdoc has no JSON: an empty body and the error in headers.
	r, err := u.DownloadEdoc(ctx, `{"docId":"x"}`)
	if err != nil || r.HTTPStatus != http.StatusUnauthorized || len(r.Raw) != 0 || r.Header.Get("Vxp-Error-Code") != "1002" {
		t.Errorf("downloadEdoc: %+v %v", r, err)
	}
}

// With a window configured, a timestamp too old is refused; without one
// (the default) the same sticky timestamp is fine.
func TestVXPTimestampWindow(t *testing.T) {
	for _, tc := range []struct {
		skew time.Duration
		code vxp.Code
	}{{0, vxp.CodeOK}, {time.Hour, vxp.CodeStaleRequest}} {
		e := newEnv(t, func(c *vxp.Config) { c.MaxSkew = tc.skew })
		hc := &http.Client{Timeout: 30 * time.Second}
		c := vxpclient.New(e.srv.URL, system, e.secrets[system], hc, time.Now().Add(-3*time.Hour).In(vxp.ICT))
		r, err := c.GetReceivedEdocList(context.Background(), `{"messagetype":"edoc"}`)
		if err != nil || r.ErrorCode != string(tc.code) {
			t.Errorf("skew %v: %+v %v", tc.skew, r, err)
		}
		fresh := vxpclient.New(e.srv.URL, system, e.secrets[system], hc, time.Now().In(vxp.ICT))
		if r, err := fresh.GetReceivedEdocList(context.Background(), `{}`); err != nil || !r.OK() {
			t.Errorf("skew %v, fresh: %+v %v", tc.skew, r, err)
		}
	}
}

// A secret sealed by another key is an internal error, logged, not a
// wrong-HMAC answer: the operator has the wrong key file.
func TestVXPWrongKeyFile(t *testing.T) {
	e := newEnv(t)
	raw := bytes.Repeat([]byte{7}, 32)
	k, err := vxp.NewSecretKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	e2 := *e
	h, err := vxp.New(vxp.Config{Hub: e.hub, Store: e.store, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	mux, _ := h.Mount(nativeAPI, "/")
	e2.srv = newServer(t, mux)
	r, err := e2.client("", system).GetAgenciesList(context.Background(), `{}`)
	if err != nil || r.ErrorCode != string(vxp.CodeInternal) {
		t.Fatalf("%+v %v", r, err)
	}
}

// Past 10 failed authentications a minute from one address, the answer is
// ErrorCode 1005 and no event each; the rest of the protocol works for a
// system that signs correctly from the same address.
func TestVXPFailedAuthenticationsRateLimited(t *testing.T) {
	e := newEnv(t)
	c := e.client(vxp.DefaultPrefix, system)
	bad := vxpclient.New(e.srv.URL+vxp.DefaultPrefix, system, "not-the-secret", nil, time.Now())
	start := e.head()
	for i := range 13 {
		r, err := bad.GetReceivedEdocList(context.Background(), `{"servicetype":"eDoc","messagetype":"edoc"}`)
		if err != nil {
			t.Fatal(err)
		}
		want := vxp.CodeBadHMAC
		if i >= 10 {
			want = vxp.CodeTooManyFailures
		}
		if r.Status != "FAIL" || r.ErrorCode != string(want) {
			t.Fatalf("attempt %d: %s %s %s, want %s", i+1, r.Status, r.ErrorCode, r.ErrorDesc, want)
		}
	}
	refused := 0
	for _, ev := range e.eventsSince(start) {
		if ev.Kind == "auth.refused" {
			refused++
		}
	}
	if refused != 10 {
		t.Fatalf("%d refusals audited, want 10", refused)
	}
	if r, err := c.GetReceivedEdocList(context.Background(), `{"servicetype":"eDoc","messagetype":"edoc"}`); err != nil || !r.OK() {
		t.Fatalf("a correct signature from the same address: %+v, %v", r, err)
	}
}
