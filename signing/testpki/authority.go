package testpki

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBits is the RSA key size used when LeafOptions.Bits is zero and for
// authorities.
const DefaultBits = 2048

// ErrOptions reports LeafOptions that cannot make a certificate.
var ErrOptions = errors.New("testpki: invalid leaf options")

// Authority is a certificate authority that records what it issued and
// revoked. Its methods are safe for concurrent use.
type Authority struct {
	Cert    *x509.Certificate
	Key     *rsa.PrivateKey
	CertPEM []byte
	// Parent is the issuing authority; nil for a root.
	Parent *Authority

	mu        sync.Mutex
	issued    map[string]*x509.Certificate // serial (decimal) → certificate
	revoked   map[string]revocation        // serial (decimal) → revocation
	crlNumber int64

	ocspRequests atomic.Int64
}

type revocation struct {
	serial *big.Int
	at     time.Time
	reason int
}

// LeafOptions describe an end-entity certificate. Zero fields take the
// documented defaults.
type LeafOptions struct {
	CommonName   string
	Organization string
	// Subject, when it has any attribute, is used instead of
	// CommonName/Organization.
	Subject pkix.Name
	// NotBefore and NotAfter default to the issuing authority's own validity.
	NotBefore, NotAfter time.Time
	// KeyUsage defaults to DigitalSignature|ContentCommitment.
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// OCSPServer and CRLDistributionPoints are written into the certificate
	// (authorityInfoAccess and cRLDistributionPoints).
	OCSPServer, CRLDistributionPoints []string
	DNSNames                          []string
	IPAddresses                       []net.IP
	// Bits is the RSA key size; default DefaultBits. Ignored when Key is set.
	Bits int
	// Key, when set, is used instead of generating a key.
	Key *rsa.PrivateKey
}

// Leaf is an issued end-entity certificate with its key.
type Leaf struct {
	Cert        *x509.Certificate
	Key         *rsa.PrivateKey
	CertPEM     []byte
	KeyPEM      []byte // PKCS#8 ("PRIVATE KEY")
	KeyPKCS1PEM []byte // PKCS#1 ("RSA PRIVATE KEY")
	// Chain holds the intermediates from the issuer up to, but excluding,
	// the root. It is empty for a leaf issued by a root.
	Chain []*x509.Certificate
	// ChainPEM is the leaf followed by Chain.
	ChainPEM []byte
}

// NewRoot makes a self-signed root authority valid from two years before now
// for twenty years.
func NewRoot(name string, now time.Time) (*Authority, error) {
	key, err := rsa.GenerateKey(rand.Reader, DefaultBits)
	if err != nil {
		return nil, fmt.Errorf("testpki: root key: %w", err)
	}
	return newAuthority(nil, name, now, key)
}

// NewIntermediate makes an authority issued by a, valid from two years before
// now for ten years.
func (a *Authority) NewIntermediate(name string, now time.Time) (*Authority, error) {
	key, err := rsa.GenerateKey(rand.Reader, DefaultBits)
	if err != nil {
		return nil, fmt.Errorf("testpki: intermediate key: %w", err)
	}
	return newAuthority(a, name, now, key)
}

func newAuthority(parent *Authority, name string, now time.Time, key *rsa.PrivateKey) (*Authority, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	years := 20
	if parent != nil {
		years = 10
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Country: []string{"VN"}, Organization: []string{"edocgw test PKI"}, CommonName: name},
		NotBefore:             now.AddDate(-2, 0, 0),
		NotAfter:              now.AddDate(years-2, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	issuerCert, issuerKey := tmpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerCert, &key.PublicKey, issuerKey)
	if err != nil {
		return nil, fmt.Errorf("testpki: authority %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: authority %q: %w", name, err)
	}
	a := &Authority{
		Cert:    cert,
		Key:     key,
		CertPEM: pemBlock("CERTIFICATE", der),
		Parent:  parent,
		issued:  map[string]*x509.Certificate{},
		revoked: map[string]revocation{},
	}
	if parent != nil {
		parent.record(cert)
	}
	return a, nil
}

// Issue makes an end-entity certificate signed by a.
func (a *Authority) Issue(o LeafOptions) (*Leaf, error) {
	key := o.Key
	if key == nil {
		bits := o.Bits
		if bits == 0 {
			bits = DefaultBits
		}
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, bits); err != nil {
			return nil, fmt.Errorf("testpki: leaf key: %w", err)
		}
	}
	subject := o.Subject
	if len(subject.ToRDNSequence()) == 0 {
		subject = pkix.Name{Country: []string{"VN"}, CommonName: o.CommonName}
		if o.Organization != "" {
			subject.Organization = []string{o.Organization}
		}
	}
	notBefore, notAfter := o.NotBefore, o.NotAfter
	if notBefore.IsZero() {
		notBefore = a.Cert.NotBefore
	}
	if notAfter.IsZero() {
		notAfter = a.Cert.NotAfter
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("%w: NotAfter %s is not after NotBefore %s", ErrOptions, notAfter, notBefore)
	}
	usage := o.KeyUsage
	if usage == 0 {
		usage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           o.ExtKeyUsage,
		BasicConstraintsValid: true,
		SubjectKeyId:          keyID(&key.PublicKey),
		OCSPServer:            o.OCSPServer,
		CRLDistributionPoints: o.CRLDistributionPoints,
		DNSNames:              o.DNSNames,
		IPAddresses:           o.IPAddresses,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &key.PublicKey, a.Key)
	if err != nil {
		return nil, fmt.Errorf("testpki: leaf %q: %w", subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: leaf %q: %w", subject.CommonName, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("testpki: leaf key: %w", err)
	}
	l := &Leaf{
		Cert:        cert,
		Key:         key,
		CertPEM:     pemBlock("CERTIFICATE", der),
		KeyPEM:      pemBlock("PRIVATE KEY", pkcs8),
		KeyPKCS1PEM: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
		Chain:       a.chain(),
	}
	var chain bytes.Buffer
	chain.Write(l.CertPEM)
	for _, c := range l.Chain {
		chain.Write(pemBlock("CERTIFICATE", c.Raw))
	}
	l.ChainPEM = chain.Bytes()
	a.record(cert)
	return l, nil
}

// chain returns a's certificate and its ancestors', excluding the root.
func (a *Authority) chain() []*x509.Certificate {
	var out []*x509.Certificate
	for x := a; x.Parent != nil; x = x.Parent {
		out = append(out, x.Cert)
	}
	return out
}

func (a *Authority) record(cert *x509.Certificate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.issued[cert.SerialNumber.String()] = cert
}

// Revoke records serial as revoked at the given time for an RFC 5280 reason
// code (0 unspecified, 1 keyCompromise, …; golang.org/x/crypto/ocsp has
// constants). Later CRLs list it and the OCSP responder answers revoked,
// whether or not a issued it. Revoking again replaces the record.
func (a *Authority) Revoke(serial *big.Int, at time.Time, reason int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revoked[serial.String()] = revocation{serial: new(big.Int).Set(serial), at: at, reason: reason}
}

// Issued reports whether a issued the certificate with this serial.
func (a *Authority) Issued(serial *big.Int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.issued[serial.String()]
	return ok
}

// CRL returns a DER CRL signed by a listing every revoked serial, sorted by
// serial. Each call takes the next CRL number, starting at 1. nextUpdate
// must not be before thisUpdate.
func (a *Authority) CRL(thisUpdate, nextUpdate time.Time) (der []byte, err error) {
	a.mu.Lock()
	a.crlNumber++
	number := a.crlNumber
	entries := make([]x509.RevocationListEntry, 0, len(a.revoked))
	for _, r := range a.revoked {
		entries = append(entries, x509.RevocationListEntry{
			SerialNumber:   r.serial,
			RevocationTime: r.at,
			ReasonCode:     r.reason,
		})
	}
	a.mu.Unlock()
	slices.SortFunc(entries, func(x, y x509.RevocationListEntry) int { return x.SerialNumber.Cmp(y.SerialNumber) })
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                thisUpdate,
		NextUpdate:                nextUpdate,
		RevokedCertificateEntries: entries,
	}
	der, err = x509.CreateRevocationList(rand.Reader, tmpl, a.Cert, a.Key)
	if err != nil {
		return nil, fmt.Errorf("testpki: CRL of %q: %w", a.Cert.Subject.CommonName, err)
	}
	return der, nil
}

// CRLPEM encodes a DER CRL as PEM ("X509 CRL").
func CRLPEM(der []byte) []byte { return pemBlock("X509 CRL", der) }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// randomSerial returns a positive 127-bit serial (RFC 5280 allows 20 octets).
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("testpki: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// keyID is the RFC 5280 method 1 key identifier: SHA-1 of the public key
// bits, which for RSA are the PKCS#1 encoding.
func keyID(pub *rsa.PublicKey) []byte {
	sum := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return sum[:]
}
