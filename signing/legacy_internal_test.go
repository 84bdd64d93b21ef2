package signing

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The national-axis SDK writes <Signature> without the XMLDSig namespace
// (it inherits edXML's default namespace) and names exclusive C14N with the
// invalid URI http://www.w3.org/TR/xml-exc-c14n#. Such a packet, signed
// the way that library does, verifies, with both deviations reported.
func TestVerifyLegacySDKSignature(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "VPCP", SerialNumber: "000.00.00.G22"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	unsigned, err := os.ReadFile(filepath.Join("..", "envelope", "testdata", "golden", "document.edxml"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := &Signer{Key: key, Certificates: []*x509.Certificate{cert}}
	if err := s.sign(&out, bytes.NewReader(unsigned), int64(len(unsigned)), "", ExcC14NVNPT); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("<Signature><SignedInfo>")) {
		t.Fatalf("not a legacy Signature:\n%s", out.Bytes())
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	v := &Verifier{Roots: roots}
	res, err := v.Verify(context.Background(), out.Bytes())
	if err != nil {
		t.Fatalf("legacy packet refused: %v", err)
	}
	legacy := strings.Join(res.Legacy, "; ")
	if !strings.Contains(legacy, "namespace") || !strings.Contains(legacy, ExcC14NVNPT) {
		t.Fatalf("deviations not reported: %q", legacy)
	}
	// Altered, it is refused like any other.
	forged := bytes.Replace(out.Bytes(), []byte("Văn phòng Chính phủ"), []byte("Văn phòng Chính phủ X"), 1)
	if _, err := v.Verify(context.Background(), forged); err == nil {
		t.Fatal("altered legacy packet verified")
	}
}
