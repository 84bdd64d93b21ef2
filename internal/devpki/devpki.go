// Package devpki makes the development PKI that `edocgw serve` creates on
// first start when no TLS material is configured: a hub CA and a TLS server
// certificate for the loopback names, kept under DIR/pki. It is for trying
// the gateway out; production configures its own certificates.
package devpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files are the paths of the development PKI.
type Files struct {
	CACert     string // hub CA certificate: give it to clients (--ca)
	ServerCert string
	ServerKey  string
}

// Ensure returns the PKI under dir/pki, creating it if it is missing.
// created reports whether it was made now.
func Ensure(dir string, now time.Time) (f Files, created bool, err error) {
	pki := filepath.Join(dir, "pki")
	f = Files{
		CACert:     filepath.Join(pki, "hub-ca.pem"),
		ServerCert: filepath.Join(pki, "tls-cert.pem"),
		ServerKey:  filepath.Join(pki, "tls-key.pem"),
	}
	if _, err := os.Stat(f.ServerKey); err == nil {
		return f, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return f, false, err
	}
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return f, false, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, false, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "edocgw development hub CA", Organization: []string{"edocgw"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return f, false, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return f, false, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"edocgw"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return f, false, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return f, false, err
	}
	if err := writePEM(f.CACert, "CERTIFICATE", caDER, 0o644); err != nil {
		return f, false, err
	}
	if err := writePEM(f.ServerCert, "CERTIFICATE", der, 0o644); err != nil {
		return f, false, err
	}
	// The key last: its presence marks a complete PKI.
	if err := writePEM(f.ServerKey, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return f, false, err
	}
	return f, true, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(fmt.Sprintf("devpki: serial: %v", err))
	}
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// HubSigner is the hub's own signing identity: an RSA key and a
// self-signed certificate that sign pushed deliveries and audit
// checkpoints.
type HubSigner struct {
	Cert string
	Key  string
}

// EnsureHubSigner returns the hub signing key under dir/pki, creating it
// (RSA-2048, certificate valid 10 years) if it is missing.
func EnsureHubSigner(dir string, now time.Time) (HubSigner, error) {
	pki := filepath.Join(dir, "pki")
	h := HubSigner{Cert: filepath.Join(pki, "hub-sign-cert.pem"), Key: filepath.Join(pki, "hub-sign-key.pem")}
	if _, err := os.Stat(h.Key); err == nil {
		return h, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return h, err
	}
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return h, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return h, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "edocgw development hub signing key", Organization: []string{"edocgw"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return h, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return h, err
	}
	if err := writePEM(h.Cert, "CERTIFICATE", der, 0o644); err != nil {
		return h, err
	}
	if err := writePEM(h.Key, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return h, err
	}
	return h, nil
}
