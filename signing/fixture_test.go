package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/signing"
	"github.com/edocgw/edocgw/signing/testpki"
)

// The fixture: a test PKI valid now, agency G22 bound to set.Agency's
// certificate by fingerprint and H53 to set.Agency2's.
var (
	fixtureOnce sync.Once
	fixtureSet  *testpki.Set
	fixtureErr  error
	fixtureNow  = time.Now().Truncate(time.Second)
)

func pki(t testing.TB) *testpki.Set {
	t.Helper()
	fixtureOnce.Do(func() { fixtureSet, fixtureErr = testpki.NewSet(fixtureNow, "", "") })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureSet
}

func directory(t testing.TB, set *testpki.Set) *agencyids.Directory {
	t.Helper()
	d := agencyids.NewDirectory()
	err := d.Load([]agencyids.Agency{
		{Code: "000.00.00.G22", Name: "Văn phòng Chính phủ", CertFingerprints: []agencyids.Fingerprint{
			agencyids.FingerprintOf(set.Agency.Cert.Raw), agencyids.FingerprintOf(set.Revoked.Cert.Raw),
			agencyids.FingerprintOf(set.Expired.Cert.Raw), agencyids.FingerprintOf(set.NotYetValid.Cert.Raw),
			agencyids.FingerprintOf(set.WrongUsage.Cert.Raw), agencyids.FingerprintOf(set.Foreign.Cert.Raw)}},
		{Code: "000.00.00.H53", Name: "UBND tỉnh Tây Ninh", CertFingerprints: []agencyids.Fingerprint{agencyids.FingerprintOf(set.Agency2.Cert.Raw)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func verifier(t testing.TB) *signing.Verifier {
	set := pki(t)
	return &signing.Verifier{Roots: set.RootPool(), Directory: directory(t, set), Now: func() time.Time { return fixtureNow }}
}

// packet is an unsigned document from G22 to H53 with one attachment of
// payload bytes.
func packet(t testing.TB, payload int) []byte {
	t.Helper()
	data := bytes.Repeat([]byte("%PDF-1.4 edocgw "), payload/16+1)[:payload]
	b := envelope.Builder{Now: func() time.Time { return fixtureNow }}
	p, err := b.Document(envelope.DocumentHeader{
		From:         envelope.Organization{OrganID: "000.00.00.G22", OrganName: "Văn phòng Chính phủ"},
		To:           []envelope.Organization{{OrganID: "000.00.00.H53", OrganName: "UBND tỉnh Tây Ninh"}},
		Code:         envelope.Code{Number: "7816", Notation: "VPCP-TTĐT"},
		Promulgation: envelope.PromulgationInfo{Place: "Hà Nội"},
		DocumentType: envelope.DocumentType{TypeName: "Công văn"},
		Subject:      "V/v kết nối, liên thông phần mềm quản lý văn bản",
		Signer:       envelope.SignerInfo{Position: "Chánh văn phòng", FullName: "Nguyễn Văn A"},
	}, nil, envelope.NewAttachment("cv.pdf", "application/pdf", data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := envelope.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func signWith(t testing.TB, leaf *testpki.Leaf, data []byte, inclusive bool) []byte {
	t.Helper()
	s := &signing.Signer{Key: leaf.Key, Certificates: append([]*x509.Certificate{leaf.Cert}, leaf.Chain...), Inclusive: inclusive}
	out, err := s.SignBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refused asserts that verification fails with want.
func refused(t *testing.T, v *signing.Verifier, data []byte, want error) *signing.Result {
	t.Helper()
	res, err := v.Verify(context.Background(), data)
	if err == nil {
		t.Fatalf("verified, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if res.Err != err {
		t.Fatalf("Result.Err %v differs from the error returned", res.Err)
	}
	return res
}

func accepted(t *testing.T, v *signing.Verifier, data []byte) *signing.Result {
	t.Helper()
	res, err := v.Verify(context.Background(), data)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

// replace swaps the one occurrence of old in data.
func replace(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if n := bytes.Count(data, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times", old, n)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

// between returns the text from the first from up to and including to.
func between(t *testing.T, data []byte, from, to string) string {
	t.Helper()
	s := string(data)
	i := strings.Index(s, from)
	j := strings.Index(s[i:], to)
	if i < 0 || j < 0 {
		t.Fatalf("%q…%q not found", from, to)
	}
	return s[i : i+j+len(to)]
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
