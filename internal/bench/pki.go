package bench

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/signing/testpki"
)

// MaxAgencies is how many agency codes Code has.
const MaxAgencies = 99 * 99

// Code is the i-th bench agency's code, 000.00.NN.ZGG (NN, GG from 01):
// strictly valid QCVN 102 codes of a level-1 group (Z..) that no real
// agency uses.
func Code(i int) agencyids.Code {
	return agencyids.Code(fmt.Sprintf("000.00.%02d.Z%02d", i%99+1, i/99+1))
}

// Name is the i-th bench agency's name.
func Name(i int) string { return fmt.Sprintf("Đơn vị thử tải %04d", i+1) }

// PKI is the bench's agencies and the root their certificates chain to.
type PKI struct {
	RootPEM  []byte
	Agencies []*hubtest.Agency
}

// NewPKI makes a root, an intermediate and n agencies valid around now,
// their keys made in parallel.
func NewPKI(n int, now time.Time) (*PKI, error) {
	if n < 1 || n > MaxAgencies {
		return nil, fmt.Errorf("bench: %d agencies: want 1–%d", n, MaxAgencies)
	}
	p, err := hubtest.NewPKI(now)
	if err != nil {
		return nil, err
	}
	out := &PKI{RootPEM: p.Root.CertPEM, Agencies: make([]*hubtest.Agency, n)}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				a, err := p.Agency(Code(i), Name(i))
				mu.Lock()
				out.Agencies[i], errs = a, append(errs, err)
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Save writes the PKI to dir: root.pem and, per agency,
// agency-NNNN-cert.pem (its chain) and agency-NNNN-key.pem.
func (p *PKI) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for i, a := range p.Agencies {
		if _, _, err := a.WriteFiles(dir, fmt.Sprintf("agency-%04d", i+1)); err != nil {
			return err
		}
	}
	// The root last: its presence marks a complete PKI.
	return os.WriteFile(filepath.Join(dir, "root.pem"), p.RootPEM, 0o644)
}

// ErrNoPKI: the folder holds no saved PKI.
var ErrNoPKI = errors.New("bench: no saved PKI")

// LoadPKI reads n agencies of a PKI that Save wrote to dir.
func LoadPKI(dir string, n int) (*PKI, error) {
	root, err := os.ReadFile(filepath.Join(dir, "root.pem"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoPKI, dir)
	}
	if err != nil {
		return nil, err
	}
	p := &PKI{RootPEM: root, Agencies: make([]*hubtest.Agency, n)}
	for i := range n {
		prefix := filepath.Join(dir, fmt.Sprintf("agency-%04d", i+1))
		leaf, err := loadLeaf(prefix+"-cert.pem", prefix+"-key.pem")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("bench: %s holds fewer than %d agencies (use fewer or a new folder): %w", dir, n, err)
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", prefix, err)
		}
		if org := leaf.Cert.Subject.Organization; len(org) != 1 || org[0] != string(Code(i)) {
			return nil, fmt.Errorf("bench: %s-cert.pem is not the certificate of %s", prefix, Code(i))
		}
		p.Agencies[i] = &hubtest.Agency{Code: Code(i), Name: Name(i), Leaf: leaf}
	}
	return p, nil
}

func loadLeaf(certFile, keyFile string) (*testpki.Leaf, error) {
	chainPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	b, _ := pem.Decode(keyPEM)
	if len(certs) == 0 || b == nil {
		return nil, errors.New("no certificate or no key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return &testpki.Leaf{Cert: certs[0], Key: key, KeyPEM: keyPEM, Chain: certs[1:], ChainPEM: chainPEM}, nil
}
