package pkcs11key_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/softhsm"
	"github.com/edocgw/edocgw/signing/pkcs11key"
)

// softHSM makes a token holding an RSA key and its certificate labelled "hub".
func softHSM(t *testing.T) (string, *rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	tok := softhsm.New(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "edocgw hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tok.Import(t, "hub", key, cert)
	return tok.Module, key, cert
}

func TestSignOnSoftHSM(t *testing.T) {
	module, key, cert := softHSM(t)
	k, err := pkcs11key.Open(pkcs11key.Config{Module: module, TokenLabel: "edocgw-test", PIN: "1234", KeyLabel: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if !k.Public().(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Fatal("public key from the token differs")
	}
	if k.Certificate == nil || !k.Certificate.Equal(cert) {
		t.Fatal("certificate from the token missing or different")
	}
	digest := sha256.Sum256([]byte("edXML"))
	sig, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("token signature does not verify: %v", err)
	}
	if _, err := k.Sign(rand.Reader, digest[:5], crypto.SHA256); err == nil {
		t.Fatal("a short digest was signed")
	}
}

func TestOpenErrors(t *testing.T) {
	module, _, _ := softHSM(t)
	for _, tc := range []struct {
		name string
		cfg  pkcs11key.Config
		want error
	}{
		{"unknown token", pkcs11key.Config{Module: module, TokenLabel: "nope", PIN: "1234", KeyLabel: "hub"}, pkcs11key.ErrToken},
		{"unknown key", pkcs11key.Config{Module: module, TokenLabel: "edocgw-test", PIN: "1234", KeyLabel: "nope"}, pkcs11key.ErrKey},
		{"wrong PIN", pkcs11key.Config{Module: module, TokenLabel: "edocgw-test", PIN: "0000", KeyLabel: "hub"}, nil},
		{"no module", pkcs11key.Config{Module: "/nonexistent.so", PIN: "1234"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := pkcs11key.Open(tc.cfg)
			if err == nil {
				k.Close()
				t.Fatal("opened")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}
