package vxp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestVXPParseSignedHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Params
		err  bool
	}{
		{"SDK", `{"XroadVnpt-systemid":"test.system.01","XroadVnpt-servicetype":"eDoc","XroadVnpt-Content-Type":"application/json"}`,
			Params{"systemid": "test.system.01", "servicetype": "eDoc", "Content-Type": "application/json"}, false},
		{"prefix in any case, keys keep theirs", `{"xroadvnpt-docId":"a","XROADVNPT-docid":"b"}`, Params{"docId": "a", "docid": "b"}, false},
		{"last of a repeated key wins", `{"XroadVnpt-from":"a","XroadVnpt-from":"b"}`, Params{"from": "b"}, false},
		{"unprefixed key", `{"systemid":"x"}`, Params{"systemid": "x"}, false},
		{"to as JSON text", `{"XroadVnpt-to":"[\"a\",\"b\"]"}`, Params{"to": `["a","b"]`}, false},
		{"non-string values", `{"a":1.50,"b":true,"c":null,"d":[1, {"e": "f"}]}`, Params{"a": "1.50", "b": "true", "c": "", "d": `[1,{"e":"f"}]`}, false},
		{"escapes", `{"XroadVnpt-x":"\u0110\u1ed3ng \"\\"}`, Params{"x": `Đồng "\`}, false},
		{"empty object", `{}`, Params{}, false},
		{"whitespace", " {\n \"a\" : \"b\" } \n", Params{"a": "b"}, false},
		{"array", `["a"]`, nil, true},
		{"trailing garbage", `{"a":"b"} x`, nil, true},
		{"second object", `{"a":"b"}{"c":"d"}`, nil, true},
		{"unterminated", `{"a":"b"`, nil, true},
		{"not JSON", `systemid=x`, nil, true},
		{"empty", ``, nil, true},
	}
	for _, tt := range tests {
		got, err := ParseSignedHeader([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrSignHeader) {
				t.Errorf("%s: %v does not wrap ErrSignHeader", tt.name, err)
			}
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got[k], v)
			}
		}
	}
}

func TestVXPParseSignedHeaderLimits(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", maxSignHeader) + `"}`
	if _, err := ParseSignedHeader([]byte(big)); err == nil {
		t.Error("a header over the limit was parsed")
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range maxParams + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + itoa(i) + `":"v"`)
	}
	b.WriteString("}")
	if _, err := ParseSignedHeader([]byte(b.String())); err == nil {
		t.Errorf("more than %d keys were parsed", maxParams)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestVXPParamsGet(t *testing.T) {
	p := Params{"docid": "stale", "docId": "fresh", "DOCID": "x", "from": "a"}
	for _, tc := range []struct{ key, want string }{
		{"docId", "fresh"}, {"docid", "stale"}, {"DocID", "x"}, {"FROM", "a"}, {"to", ""},
	} {
		if got := p.Get(tc.key); got != tc.want {
			t.Errorf("Get(%s) = %q, want %q", tc.key, got, tc.want)
		}
	}
	if vs := p.Variants("docid"); strings.Join(vs, ",") != "DOCID,docId,docid" || !p.Has("From") || p.Has("to") {
		t.Errorf("Variants = %v", vs)
	}
}

func TestVXPTimestamp(t *testing.T) {
	tm, err := ParseTimestamp("22112025T103015+0123", ICT)
	if err != nil || !tm.Equal(time.Date(2025, 11, 22, 10, 30, 15, 123e6, ICT)) {
		t.Fatalf("ParseTimestamp = %v, %v", tm, err)
	}
	if s := FormatTimestamp(tm); s != "22112025T103015+0123" {
		t.Errorf("FormatTimestamp = %s", s)
	}
	for _, bad := range []string{"", "22112025T103015", "22112025T103015+12345", "22112025T103015+1000", "22132025T103015+0000", "22112025T103015-0123", "22112025T103015+01a3"} {
		if _, err := ParseTimestamp(bad, ICT); err == nil {
			t.Errorf("ParseTimestamp(%q) accepted", bad)
		}
	}
}

// The signed header is client input: it must never panic, and what it
// yields must be what a plain JSON decoding of it says.
func FuzzVXPParseSignedHeader(f *testing.F) {
	for _, s := range []string{
		`{"XroadVnpt-systemid":"test.system.01","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-timestamp":"22112026T054331+0800","XroadVnpt-Content-Type":"application/json"}`,
		`{"XroadVnpt-docId":"a","XroadVnpt-docid":"b","XroadVnpt-to":"[\"x\"]"}`,
		`{"a":[1,{"b":null}],"c":true}`, `{`, `{"a":"\ud800"}`, `[]`, `{"a":"b"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseSignedHeader(b)
		if err != nil {
			if !errors.Is(err, ErrSignHeader) {
				t.Fatalf("error %v does not wrap ErrSignHeader", err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("parsed what encoding/json refuses: %v", err)
		}
		if len(p) > maxParams || len(b) > maxSignHeader {
			t.Fatalf("limits passed: %d keys, %d bytes", len(p), len(b))
		}
		for k, v := range p {
			if !utf8.ValidString(v) {
				t.Fatalf("value of %q is not UTF-8", k)
			}
			if p.Get(k) != v {
				t.Fatalf("Get(%q) = %q, want %q", k, p.Get(k), v)
			}
		}
		// Every key is there, without its prefix (with a repeated key, or
		// one also given unprefixed, the last value wins).
		for k := range m {
			name := k
			if len(k) >= len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) {
				name = k[len(prefix):]
			}
			if _, ok := p[name]; !ok {
				t.Fatalf("key %q (%q) lost: %v", k, name, p)
			}
		}
	})
}
