package vxpclient

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// The capture of §13: the real SDKVXP 2.0.1 against a logging server.
const (
	capSystem = "test.system.01"
	capSecret = "dummy-secret-for-wire-capture"
	capStamp  = "22112026T054331+0800"

	capListKeys = "systemid;servicetype;messagetype;timestamp;Content-Type"
	capList     = `{"XroadVnpt-systemid":"test.system.01","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-timestamp":"22112026T054331+0800","XroadVnpt-Content-Type":"application/json"}`
	capListHash = "9d110874e39465382633da99e2af0955630c133efcd37660a2c29771a61ab1bd"

	capUpdateKeys = "systemid;servicetype;messagetype;hash-file;docId;from;timestamp;Content-Type;status"
	capUpdate     = `{"XroadVnpt-systemid":"test.system.01","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"4faad3cb472a44ddbfe73e3d6674bab6693c84ce5b49b4cbebb8c68efc682","XroadVnpt-docId":"abc-123","XroadVnpt-from":"000.00.00.G12","XroadVnpt-timestamp":"22112026T054331+0800","XroadVnpt-Content-Type":"application/json","XroadVnpt-status":"done"}`
	capUpdateHash = "3a250621b5209b801768c365f20729cda382c7172c11aa977b537e63f5aa1306"
)

// capNow is the instant whose SDK timestamp is capStamp (800 ms).
var capNow = time.Date(2026, 11, 22, 5, 43, 31, 800_000_000, time.Local)

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// The captured headers are what the vectors say: the HMAC of each
// sign-header with the dummy secret.
func TestVXPVectorsHMAC(t *testing.T) {
	for _, v := range []struct{ sign, hash string }{{capList, capListHash}, {capUpdate, capUpdateHash}} {
		if got := hmacHex(capSecret, v.sign); got != v.hash {
			t.Errorf("HMAC = %s, want %s", got, v.hash)
		}
	}
}

// The client signs what the SDK signed, byte for byte: the first call of a
// fresh service object, then updateStatus after a sendEdoc and a getEdoc
// whose keys leaked into the map.
func TestVXPVectorsSign(t *testing.T) {
	c := New("http://127.0.0.1:18080/XrdAdapter/adapter", capSystem, capSecret, nil, capNow)
	if v, _ := c.Header("timestamp"); v != capStamp {
		t.Fatalf("timestamp = %q, want %q", v, capStamp)
	}
	s, err := c.Sign("getReceivedEdocList", `{"servicetype":"eDoc","messagetype":"edoc"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyList != capListKeys || s.SignHeader != capList || s.HashHeader != capListHash {
		t.Errorf("getReceivedEdocList signs\n%s\n%s\n%s", s.KeyList, s.SignHeader, s.HashHeader)
	}
	wantHeaders := [][2]string{
		{"XroadVnpt-systemid", capSystem}, {"XroadVnpt-servicetype", "eDoc"}, {"XroadVnpt-messagetype", "edoc"},
		{"XroadVnpt-timestamp", capStamp}, {"Content-Type", "application/json"}, {"XroadVnpt-Content-Type", "application/json"},
		{"XroadVnpt-sign-header-key", capListKeys}, {"XroadVnpt-sign-header", capList}, {"XroadVnpt-hash-header", capListHash},
		{"User-Agent", UserAgent}, {"XroadVnpt-version", Version},
	}
	if len(s.Headers) != len(wantHeaders) {
		t.Fatalf("headers %v", s.Headers)
	}
	for i, h := range wantHeaders {
		if s.Headers[i] != h {
			t.Errorf("header %d = %v, want %v", i, s.Headers[i], h)
		}
	}

	// The capture's earlier calls left hash-file and from (sendEdoc) and
	// docId (the caller JSON of updateStatus puts it again).
	c.Put("hash-file", "4faad3cb472a44ddbfe73e3d6674bab6693c84ce5b49b4cbebb8c68efc682")
	c.Put("from", "000.00.00.G12")
	c.Put("Content-Type", "application/octet-stream")
	s, err = c.Sign("updateStatus", `{"docId":"abc-123","status":"done"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyList != capUpdateKeys || s.SignHeader != capUpdate || s.HashHeader != capUpdateHash {
		t.Errorf("updateStatus signs\n%s\n%s\n%s", s.KeyList, s.SignHeader, s.HashHeader)
	}
}

// The orders of §3.2's table, and a table that grew past 12 keys.
func TestVXPHashMapOrder(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want string
	}{
		{"getReceivedEdocList", []string{"timestamp", "systemid", "Content-Type", "servicetype", "messagetype"}, capListKeys},
		{"sendEdoc", []string{"timestamp", "systemid", "Content-Type", "from", "servicetype", "messagetype", "hash-file"},
			"systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type"},
		{"updateStatus", []string{"timestamp", "systemid", "Content-Type", "docId", "status"}, "systemid;docId;timestamp;Content-Type;status"},
		// 13 keys: 32 buckets (checked against a simulation of Java 8's
		// resize, which splits each bucket keeping its order).
		{"resized", []string{"timestamp", "systemid", "Content-Type", "servicetype", "messagetype", "hash-file", "from", "docId",
			"status", "filePath", "to", "fromDate", "toDate"},
			"systemid;messagetype;docId;filePath;toDate;fromDate;servicetype;hash-file;from;to;timestamp;Content-Type;status"},
	}
	for _, tt := range tests {
		m := newHashMap()
		for _, k := range tt.keys {
			m.put(k, "v")
		}
		if got := strings.Join(m.order(), ";"); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestVXPJavaHash(t *testing.T) {
	// Values of String.hashCode.
	for s, want := range map[string]int32{"": 0, "a": 97, "hello": 99162322, "Content-Type": 949037134, "Trục liên thông": javaHashSlow("Trục liên thông")} {
		if got := javaHash(s); got != want {
			t.Errorf("hash(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestVXPGsonText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"000.00.00.H41"`, `"000.00.00.H41"`},
		{`[ "a", "b" ]`, `["a","b"]`},
		{`{"k": [1, 2.50, true, null], "x": {"y": "\u00e1\n"}}`, "{\"k\":[1,2.50,true,null],\"x\":{\"y\":\"á\\n\"}}"},
		{`"\u2028<>&"`, `"\u2028<>&"`},
	}
	for _, tt := range tests {
		got, err := gsonText([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("gsonText(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// sendEdoc's wire form: raw file and CRLF, octet-stream, the unpadded
// hash-file, to as JSON text; the "{}" methods with Expect: 100-continue;
// the list methods with an empty body.
func TestVXPWire(t *testing.T) {
	type seen struct {
		method, path string
		header       http.Header
		body         []byte
	}
	got := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Clone(), b}
		io.WriteString(w, `{"status":"OK","ErrorCode":0,"ErrorDesc":"Thanh cong","DocId":"x","data":[]}`)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Second}}
	c := New(srv.URL+"/XrdAdapter/adapter", capSystem, capSecret, hc, capNow)
	ctx := context.Background()

	// SHA-256 of "<edXML/>" has bytes below 0x10: its unpadded hex is shorter.
	file := []byte("<edXML/>")
	r, err := c.SendEdoc(ctx, `{"from":"000.00.00.G12","servicetype":"eDoc","messagetype":"edoc","to":"000.00.00.H41"}`, file)
	if err != nil || !r.OK() || r.DocID != "x" {
		t.Fatalf("SendEdoc = %+v, %v", r, err)
	}
	s := <-got
	sum := sha256.Sum256(file)
	if s.method != "POST" || s.path != "/XrdAdapter/adapter/sendEdoc" || string(s.body) != "<edXML/>\r\n" ||
		s.header.Get("Content-Type") != "application/octet-stream" || s.header.Get("Expect") != "" {
		t.Errorf("sendEdoc sent %s %s %q %v", s.method, s.path, s.body, s.header)
	}
	hf := s.header.Get("XroadVnpt-hash-file")
	if hf == hex.EncodeToString(sum[:]) || len(hf) >= 64 || hf != "8d55"+hf[4:] {
		t.Errorf("hash-file %s is not the unpadded form of %x", hf, sum)
	}
	if to := s.header.Get("XroadVnpt-to"); to != `"000.00.00.H41"` {
		t.Errorf("to = %s, want the JSON text", to)
	}

	if _, err := c.UpdateStatus(ctx, `{"docid":"abc","status":"done"}`); err != nil {
		t.Fatal(err)
	}
	s = <-got
	if string(s.body) != "{}" || s.header.Get("Expect") != "100-continue" {
		t.Errorf("updateStatus body %q", s.body)
	}
	// The keys of sendEdoc leaked into updateStatus, signed.
	if !strings.Contains(s.header.Get("XroadVnpt-sign-header"), `"XroadVnpt-hash-file":"`+hf+`"`) ||
		!strings.Contains(s.header.Get("XroadVnpt-sign-header-key"), "to;") {
		t.Errorf("no leaked keys in %s", s.header.Get("XroadVnpt-sign-header"))
	}
	if ts := s.header.Get("XroadVnpt-timestamp"); ts != capStamp {
		t.Errorf("timestamp moved: %s", ts)
	}

	if _, err := c.GetReceivedEdocList(ctx, `{"servicetype":"eDoc","messagetype":"status"}`); err != nil {
		t.Fatal(err)
	}
	s = <-got
	if len(s.body) != 0 || s.header.Get("Content-Type") != "application/json" {
		t.Errorf("list sent %q %v", s.body, s.header)
	}
}

// javaHashSlow is String.hashCode by its definition, with big numbers.
func javaHashSlow(s string) int32 {
	var h int64
	for _, u := range utf16.Encode([]rune(s)) {
		h = (h*31 + int64(u)) % (1 << 32)
	}
	return int32(uint32(h))
}
