package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
)

func TestVerifyClean(t *testing.T) {
	h := theHub()
	rep, err := verify(cleanBundle(), h.cert)
	if err != nil {
		t.Fatalf("clean bundle: %v", err)
	}
	c := newChain(h.key, archive.Sum(testOriginal), int64(len(testOriginal)))
	want := bundle.Report{
		DocumentID: docA, Digest: archive.Sum(testOriginal), Size: int64(len(testOriginal)),
		CreatedAt: time.Date(2026, 12, 1, 9, 30, 0, 987654000, time.UTC),
		HubCert:   h.cert, HubCertSHA256: archive.Sum(h.cert.Raw), SelfAsserted: false,
		Events: 34, Checkpoints: 4, FirstSeq: 3, LastSeq: 40, From: c.events[2].At, To: c.events[39].At,
	}
	got := *rep
	got.DocumentEvents, got.Files = nil, nil
	if !got.HubCert.Equal(want.HubCert) {
		t.Fatalf("hub certificate %v", got.HubCert.Subject)
	}
	got.HubCert, want.HubCert = nil, nil
	if !sameReport(t, got, want) {
		t.Fatalf("report\n %+v\nwant\n %+v", got, want)
	}
	var seqs []int64
	for _, e := range rep.DocumentEvents {
		seqs = append(seqs, e.Seq)
		if e.At != c.events[e.Seq-1].At || e.Kind != c.events[e.Seq-1].Kind || e.Actor != c.events[e.Seq-1].Actor {
			t.Fatalf("document event %+v, want %+v", e, c.events[e.Seq-1])
		}
	}
	if !slices.Equal(seqs, []int64{3, 4, 5, 9, 13, 17, 21, 25, 29, 33, 37, 40}) {
		t.Fatalf("document events %v", seqs)
	}
	if rep.DocumentEvents[0].Kind != "document.accepted" || rep.DocumentEvents[0].Actor != "000.00.00.G22" {
		t.Fatalf("first document event %+v", rep.DocumentEvents[0])
	}
	if len(rep.Files) != 7 || rep.Files[6].Name != "original.edxml" || rep.Files[6].SHA256 != archive.Sum(testOriginal) {
		t.Fatalf("files %+v", rep.Files)
	}
}

func sameReport(t *testing.T, a, b bundle.Report) bool {
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// A bundle verified without a certificate says so; so does a forgery made
// with another key, which only the caller's certificate tells apart.
func TestSelfAsserted(t *testing.T) {
	rep, err := verify(cleanBundle(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.SelfAsserted || rep.HubCertSHA256 != archive.Sum(theHub().cert.Raw) {
		t.Fatalf("self-asserted %v, fingerprint %s", rep.SelfAsserted, rep.HubCertSHA256)
	}
	forged := write(t, contents(impostor(), testOriginal), impostor().key)
	rep, err = verify(forged, nil)
	if err != nil || !rep.SelfAsserted || rep.HubCertSHA256 == archive.Sum(theHub().cert.Raw) {
		t.Fatalf("forgery self-asserted: %v %+v", err, rep)
	}
	_, err = verify(forged, theHub().cert)
	wantProblems(t, err, problem{bundle.ErrHubCertMismatch, "hub-cert.pem", 0, 0})
}

func TestLayout(t *testing.T) {
	es := unzip(t, cleanBundle())
	var names []string
	for _, e := range es {
		names = append(names, e.name)
	}
	want := []string{"manifest.json", "manifest.sig", "README.txt", "hub-cert.pem", "checkpoints.json", "events.json",
		"verification.json", "trace.json", "original.edxml"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %v", names)
	}
	if es[8].method != 0 || !bytes.Equal(es[8].data, testOriginal) {
		t.Fatalf("original.edxml: method %d, %d bytes", es[8].method, len(es[8].data))
	}
	var m struct {
		Format, Document, Digest, CreatedAt, HubCertSha256 string
		Size                                               int64
		Files                                              []struct {
			Name, Sha256 string
			Size         int64
		}
	}
	if err := json.Unmarshal(es[0].data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != "edocgw-archive-bundle/1" || m.Document != docA || m.Digest != archive.Sum(testOriginal).String() ||
		m.CreatedAt != "2026-12-01T09:30:00.987654Z" || m.HubCertSha256 != archive.Sum(theHub().cert.Raw).String() || len(m.Files) != 7 {
		t.Fatalf("manifest %s", es[0].data)
	}
	for _, f := range m.Files {
		d := file(t, cleanBundle(), f.Name)
		if f.Sha256 != archive.Sum(d).String() || f.Size != int64(len(d)) {
			t.Errorf("manifest lists %s as %s %d", f.Name, f.Sha256, f.Size)
		}
	}
	readme := string(file(t, cleanBundle(), "README.txt"))
	for _, s := range []string{docA, archive.Sum(testOriginal).String(), archive.Sum(theHub().cert.Raw).String(),
		"edocgw audit verify-bundle", "openssl dgst -sha256 -verify", "Cách kiểm tra", "How to verify"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.txt lacks %q", s)
		}
	}
	// One event a line; details byte for byte, not HTML-escaped.
	events := string(file(t, cleanBundle(), "events.json"))
	if n := strings.Count(events, "\n{\"seq\":"); n != 34 {
		t.Errorf("events.json: %d event lines", n)
	}
	if !strings.Contains(events, `"subject":"V/v <thử> & kiểm tra"`) || !strings.Contains(events, `"at":"2026-11-22T01:01:51.123456Z"`) {
		t.Errorf("events.json:\n%s", events[:600])
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	c := contents(theHub(), testOriginal)
	if !bytes.Equal(write(t, c, theHub().key), write(t, c, theHub().key)) {
		t.Fatal("same contents, different bundles")
	}
}

// A bundle rewritten by an ordinary zip tool (every entry deflated,
// headers its own) verifies the same: what is proven is the content.
func TestRezippedVerifies(t *testing.T) {
	es := unzip(t, cleanBundle())
	for i := range es {
		es[i].method = 8
	}
	if _, err := verify(rezip(t, es), theHub().cert); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadsParts(t *testing.T) {
	z := cleanBundle()
	b, err := bundle.Open(bytes.NewReader(z), int64(len(z)), theHub().cert)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Original()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, testOriginal) {
		t.Fatalf("original: %v, %d bytes", err, len(got))
	}
	c := contents(theHub(), testOriginal)
	if !bytes.Equal(b.Verification(), c.Verification) || !bytes.Equal(b.Trace(), c.Trace) {
		t.Fatal("verification or trace differ")
	}
	for _, name := range []string{"manifest.json", "manifest.sig", "README.txt", "hub-cert.pem", "checkpoints.json", "events.json"} {
		rc, err := b.File(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, file(t, z, name)) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := b.File("../etc/passwd"); err == nil {
		t.Fatal("File opened an entry that is not one")
	}
	if b.Report().DocumentID != docA {
		t.Fatal(b.Report())
	}
}

// What is read after verification is checked again: the file may change
// underneath.
func TestOpenDetectsLaterChange(t *testing.T) {
	z := bytes.Clone(cleanBundle())
	b, err := bundle.Open(bytes.NewReader(z), int64(len(z)), theHub().cert)
	if err != nil {
		t.Fatal(err)
	}
	z[bytes.Index(z, testOriginal)+100] ^= 1
	rc, err := b.Original()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, archive.ErrCorrupt) {
		t.Fatalf("changed original read with %v", err)
	}
}

// The README's manual check works: OpenSSL verifies manifest.sig.
func TestOpenSSLVerifiesManifest(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	for _, name := range []string{"manifest.json", "manifest.sig"} {
		if err := os.WriteFile(filepath.Join(dir, name), file(t, cleanBundle(), name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "hub.pem"), certPEM(theHub().cert), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	pub := run("x509", "-in", "hub.pem", "-noout", "-pubkey")
	if err := os.WriteFile(filepath.Join(dir, "hub-pub.pem"), []byte(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run("dgst", "-sha256", "-verify", "hub-pub.pem", "-signature", "manifest.sig", "manifest.json"); !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl: %s", out)
	}
}
