package testpki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Set is the usual fixture: Root → Intermediate → the agency leaves, and an
// unrelated OtherRoot with its own leaf.
type Set struct {
	Root, Intermediate *Authority
	// Agency and Agency2 are valid signing certificates of two agencies.
	Agency, Agency2 *Leaf
	// Revoked was revoked by Intermediate at now−1h (keyCompromise).
	Revoked *Leaf
	// Expired has NotAfter = now−24h; NotYetValid has NotBefore = now+24h.
	Expired, NotYetValid *Leaf
	// WrongUsage has only KeyUsageKeyEncipherment (no DigitalSignature).
	WrongUsage *Leaf
	OtherRoot  *Authority
	// Foreign is issued by OtherRoot, carries no OCSP or CRL URL, and does
	// not chain to Root.
	Foreign *Leaf

	now time.Time
}

// NewSet builds a Set valid at now. When ocspURL or crlURL is non-empty,
// every leaf of Intermediate carries it as its OCSP server or CRL
// distribution point. The nine RSA keys are generated concurrently.
func NewSet(now time.Time, ocspURL, crlURL string) (*Set, error) {
	const (
		kRoot = iota
		kIntermediate
		kOtherRoot
		kAgency
		kAgency2
		kRevoked
		kExpired
		kNotYetValid
		kWrongUsage
		kForeign
		nKeys
	)
	keys := make([]*rsa.PrivateKey, nKeys)
	errs := make([]error, nKeys)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, DefaultBits) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("testpki: key: %w", err)
		}
	}

	s := &Set{now: now}
	var err error
	if s.Root, err = newAuthority(nil, "edocgw Test Root CA", now, keys[kRoot]); err != nil {
		return nil, err
	}
	if s.Intermediate, err = newAuthority(s.Root, "edocgw Test Agency CA", now, keys[kIntermediate]); err != nil {
		return nil, err
	}
	if s.OtherRoot, err = newAuthority(nil, "Foreign Test Root CA", now, keys[kOtherRoot]); err != nil {
		return nil, err
	}
	var ocspServer, crlDP []string
	if ocspURL != "" {
		ocspServer = []string{ocspURL}
	}
	if crlURL != "" {
		crlDP = []string{crlURL}
	}
	leaf := func(ca *Authority, key int, cn string, o LeafOptions) (*Leaf, error) {
		o.CommonName, o.Organization, o.Key = cn, cn, keys[key]
		if o.NotBefore.IsZero() {
			o.NotBefore = now.Add(-time.Hour)
		}
		if o.NotAfter.IsZero() {
			o.NotAfter = now.AddDate(1, 0, 0)
		}
		if ca == s.Intermediate {
			o.OCSPServer, o.CRLDistributionPoints = ocspServer, crlDP
		}
		return ca.Issue(o)
	}
	for _, l := range []struct {
		dst  **Leaf
		ca   *Authority
		key  int
		name string
		opts LeafOptions
	}{
		{&s.Agency, s.Intermediate, kAgency, "Văn phòng Chính phủ", LeafOptions{}},
		{&s.Agency2, s.Intermediate, kAgency2, "Bộ Tài chính", LeafOptions{}},
		{&s.Revoked, s.Intermediate, kRevoked, "UBND tỉnh Hà Giang", LeafOptions{}},
		{&s.Expired, s.Intermediate, kExpired, "Sở Nội vụ tỉnh Lào Cai", LeafOptions{
			NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(-24 * time.Hour)}},
		{&s.NotYetValid, s.Intermediate, kNotYetValid, "Sở Tư pháp tỉnh Yên Bái", LeafOptions{
			NotBefore: now.Add(24 * time.Hour)}},
		{&s.WrongUsage, s.Intermediate, kWrongUsage, "Bộ Xây dựng", LeafOptions{
			KeyUsage: x509.KeyUsageKeyEncipherment}},
		{&s.Foreign, s.OtherRoot, kForeign, "Cơ quan ngoài hệ thống", LeafOptions{}},
	} {
		if *l.dst, err = leaf(l.ca, l.key, l.name, l.opts); err != nil {
			return nil, err
		}
	}
	s.Intermediate.Revoke(s.Revoked.Cert.SerialNumber, now.Add(-time.Hour), ocsp.KeyCompromise)
	return s, nil
}

// RootPool returns a pool holding Root only.
func (s *Set) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Root.Cert)
	return p
}

// IntermediatePool returns a pool holding Intermediate only.
func (s *Set) IntermediatePool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Intermediate.Cert)
	return p
}

// Files are the paths WriteFiles wrote.
type Files struct {
	Dir                           string
	Root, Intermediate, OtherRoot string // certificates (PEM)
	// CRLDER and CRLPEM are the same CRL of Intermediate.
	CRLDER, CRLPEM string

	Agency, Agency2, Revoked, Expired, NotYetValid, WrongUsage, Foreign LeafFiles
}

// LeafFiles are the paths of one leaf's files.
type LeafFiles struct {
	Cert     string // PREFIX-cert.pem
	Key      string // PREFIX-key.pem, PKCS#8
	KeyPKCS1 string // PREFIX-key-pkcs1.pem
	Chain    string // PREFIX-chain.pem: the leaf, then its intermediates
}

// WriteFiles writes the Set as PEM files into dir (created 0700 if
// missing): root.pem, intermediate.pem, other-root.pem, crl.der and crl.pem
// (Intermediate's CRL, ThisUpdate now, NextUpdate now+24h), and for each
// leaf PREFIX-cert.pem, PREFIX-key.pem, PREFIX-key-pkcs1.pem and
// PREFIX-chain.pem with PREFIX agency, agency2, revoked, expired,
// not-yet-valid, wrong-usage and foreign. Keys are 0600, the rest 0644.
func (s *Set) WriteFiles(dir string) (Files, error) {
	f := Files{
		Dir:          dir,
		Root:         filepath.Join(dir, "root.pem"),
		Intermediate: filepath.Join(dir, "intermediate.pem"),
		OtherRoot:    filepath.Join(dir, "other-root.pem"),
		CRLDER:       filepath.Join(dir, "crl.der"),
		CRLPEM:       filepath.Join(dir, "crl.pem"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("testpki: %w", err)
	}
	crl, err := s.Intermediate.CRL(s.now, s.now.Add(24*time.Hour))
	if err != nil {
		return Files{}, err
	}
	for _, w := range []struct {
		path string
		data []byte
	}{
		{f.Root, s.Root.CertPEM},
		{f.Intermediate, s.Intermediate.CertPEM},
		{f.OtherRoot, s.OtherRoot.CertPEM},
		{f.CRLDER, crl},
		{f.CRLPEM, CRLPEM(crl)},
	} {
		if err := writeFile(w.path, w.data, 0o644); err != nil {
			return Files{}, fmt.Errorf("testpki: %w", err)
		}
	}
	for _, l := range []struct {
		dst    *LeafFiles
		leaf   *Leaf
		prefix string
	}{
		{&f.Agency, s.Agency, "agency"},
		{&f.Agency2, s.Agency2, "agency2"},
		{&f.Revoked, s.Revoked, "revoked"},
		{&f.Expired, s.Expired, "expired"},
		{&f.NotYetValid, s.NotYetValid, "not-yet-valid"},
		{&f.WrongUsage, s.WrongUsage, "wrong-usage"},
		{&f.Foreign, s.Foreign, "foreign"},
	} {
		if *l.dst, err = l.leaf.WriteFiles(dir, l.prefix); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

// WriteFiles writes l as PREFIX-cert.pem, PREFIX-key.pem (PKCS#8, 0600),
// PREFIX-key-pkcs1.pem (0600) and PREFIX-chain.pem into dir, which must
// exist.
func (l *Leaf) WriteFiles(dir, prefix string) (LeafFiles, error) {
	f := LeafFiles{
		Cert:     filepath.Join(dir, prefix+"-cert.pem"),
		Key:      filepath.Join(dir, prefix+"-key.pem"),
		KeyPKCS1: filepath.Join(dir, prefix+"-key-pkcs1.pem"),
		Chain:    filepath.Join(dir, prefix+"-chain.pem"),
	}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.Cert, l.CertPEM, 0o644},
		{f.Key, l.KeyPEM, 0o600},
		{f.KeyPKCS1, l.KeyPKCS1PEM, 0o600},
		{f.Chain, l.ChainPEM, 0o644},
	} {
		if err := writeFile(w.path, w.data, w.mode); err != nil {
			return LeafFiles{}, fmt.Errorf("testpki: %w", err)
		}
	}
	return f, nil
}

// writeFile writes data with exactly mode, also when the file exists with
// wider permissions.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
