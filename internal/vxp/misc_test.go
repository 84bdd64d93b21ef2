package vxp

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
)

func TestVXPIDs(t *testing.T) {
	tests := []struct{ hub, wire string }{
		{"01KBA7W3Z9Q4T6V8X0Y2A4C6E8", "019ad47e-0fe9-b934-6da3-a0f0944619c8"},
		{"00000000000000000000000001", "00000000-0000-0000-0000-000000000001"},
		{"7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
	}
	for _, tt := range tests {
		if got := WireID(tt.hub); got != tt.wire {
			t.Errorf("WireID(%s) = %s, want %s", tt.hub, got, tt.wire)
		}
		for _, in := range []string{tt.wire, strings.ToUpper(tt.wire), strings.ReplaceAll(tt.wire, "-", ""), "{" + tt.wire + "}", tt.hub, strings.ToLower(tt.hub)} {
			if got, ok := HubID(in); !ok || got != tt.hub {
				t.Errorf("HubID(%s) = %s, %v; want %s", in, got, ok, tt.hub)
			}
		}
	}
	if WireID("not-an-id") != "not-an-id" {
		t.Error("WireID changed a foreign id")
	}
	for _, bad := range []string{"", "5bebcfeff858e3e0cc154762", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01KBA7W3Z9Q4T6V8X0Y2A4C6EU",
		"019ad47e0fe9-b934-6da3-a0f0944619c8x", "019ad47e-0fe9-b934-6da3a-0f0944619c8", "g19ad47e-0fe9-b934-6da3-a0f0944619c8"} {
		if got, ok := HubID(bad); ok {
			t.Errorf("HubID(%q) = %s", bad, got)
		}
	}
}

func TestVXPSecretKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pki", "vxp-secrets.key")
	k, created, err := EnsureSecretKey(path)
	if err != nil || !created {
		t.Fatalf("EnsureSecretKey = %v, %v", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	again, created, err := EnsureSecretKey(path)
	if err != nil || created || again.ID() != k.ID() {
		t.Fatalf("second EnsureSecretKey = %v, %v, %v", again.ID(), created, err)
	}
	secret, err := GenerateSecret()
	if err != nil || len(secret) != 44 {
		t.Fatalf("GenerateSecret = %q, %v", secret, err)
	}
	sealed, err := k.Seal("vxp.saas.02", secret)
	if err != nil || bytes.Contains(sealed, []byte(secret)) {
		t.Fatalf("Seal: %v", err)
	}
	if got, err := again.Open("vxp.saas.02", sealed); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := NewSecretKey(bytes.Repeat([]byte{1}, 32))
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, open := range map[string]func() (string, error){
		"another system": func() (string, error) { return k.Open("vxp.saas.03", sealed) },
		"another key":    func() (string, error) { return other.Open("vxp.saas.02", sealed) },
		"altered":        func() (string, error) { return k.Open("vxp.saas.02", flipped) },
		"short":          func() (string, error) { return k.Open("vxp.saas.02", sealed[:10]) },
	} {
		if _, err := open(); !errors.Is(err, ErrWrongKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.key"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecretKey(filepath.Join(dir, "bad.key")); err == nil {
		t.Error("a bad key file loaded")
	}
}

// Processes racing to make the key file agree on one key.
func TestVXPEnsureSecretKeyRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			k, _, err := EnsureSecretKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.ID()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("keys differ: %v", ids)
		}
	}
}

func TestVXPASCII(t *testing.T) {
	b, err := marshalASCII(map[string]string{"name": "Ủy ban nhân dân <tỉnh> & 𝔸"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b {
		if c >= 0x80 {
			t.Fatalf("non-ASCII in %s", b)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil || back["name"] != "Ủy ban nhân dân <tỉnh> & 𝔸" {
		t.Fatalf("%s does not decode back: %v", b, err)
	}
	if !strings.Contains(string(b), `\u1ee6y`) || !strings.Contains(string(b), `\ud835\udd38`) || !strings.Contains(string(b), "<t") {
		t.Errorf("escapes: %s", b)
	}
	for c, d := range descriptions {
		if string(ASCII([]byte(d))) != d || d == "" {
			t.Errorf("ErrorDesc of %s is not plain ASCII: %q", c, d)
		}
	}
}

// The DMS that writes docid in one call and docId in another: the value
// this call changed wins; without a memory of the object, docId.
func TestVXPVariantMemory(t *testing.T) {
	var m variantMemory
	steps := []struct {
		object string
		p      Params
		want   string
	}{
		{"a", Params{"docid": "X1"}, "X1"},
		{"a", Params{"docid": "X1", "docId": "X1"}, "X1"},
		{"a", Params{"docid": "X2", "docId": "X1"}, "X2"}, // getEdoc(docid)
		{"a", Params{"docid": "X2", "docId": "X2"}, "X2"}, // updateStatus(docId)
		{"a", Params{"docid": "X2", "docId": "S"}, "S"},   // getSentEdocList(docId)
		{"a", Params{"docid": "X3", "docId": "S"}, "X3"},
		{"b", Params{"docid": "Y", "docId": "Z"}, "Z"},  // unknown object: docId
		{"a", Params{"docid": "X4", "docId": "T"}, "T"}, // both changed: docId
		{"a", Params{}, ""},
	}
	for i, s := range steps {
		if got := m.resolve(s.object, s.p, "docId"); got != s.want {
			t.Errorf("step %d: %s, want %s", i, got, s.want)
		}
	}
}

func TestToHeaderExtra(t *testing.T) {
	to := []agencyids.Code{"000.00.00.G22", "000.00.01.H53"}
	for _, c := range []struct {
		header string
		want   string
	}{
		{"", ""},
		{`["000.00.00.G22"]`, ""},
		{`["000.00.00.G22","000.00.00.H41"]`, "000.00.00.H41"},
		{`"000.00.00.H41"`, "000.00.00.H41"},
		{`000.00.01.H53`, ""},
		{`[" ", "x"]`, "x"},
	} {
		if got := strings.Join(toHeaderExtra(c.header, to), ","); got != c.want {
			t.Errorf("toHeaderExtra(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}
