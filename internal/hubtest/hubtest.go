// Package hubtest makes what tests and the load generator need to drive a
// hub: a throwaway PKI with one signing certificate per agency, and signed
// edXML document and status packets between those agencies. It does not
// import testing.
package hubtest

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/signing"
	"github.com/edocgw/edocgw/signing/testpki"
)

// PKI is a root and an intermediate that issue agency certificates.
type PKI struct {
	Root, Intermediate *testpki.Authority
	Now                time.Time
}

// NewPKI makes a PKI valid around now.
func NewPKI(now time.Time) (*PKI, error) {
	root, err := testpki.NewRoot("edocgw test root", now)
	if err != nil {
		return nil, err
	}
	in, err := root.NewIntermediate("edocgw test intermediate", now)
	if err != nil {
		return nil, err
	}
	return &PKI{Root: root, Intermediate: in, Now: now}, nil
}

// Roots is a pool holding the root: a verifier's trust anchors.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root.Cert)
	return pool
}

// WriteRoot writes the root certificate as PEM to dir/root.pem.
func (p *PKI) WriteRoot(dir string) (string, error) {
	path := filepath.Join(dir, "root.pem")
	return path, os.WriteFile(path, p.Root.CertPEM, 0o644)
}

// Agency is an agency with its signing certificate.
type Agency struct {
	Code agencyids.Code
	Name string
	Leaf *testpki.Leaf
}

// Agency issues a signing certificate (which also serves as a TLS client
// certificate) for an agency.
func (p *PKI) Agency(code agencyids.Code, name string) (*Agency, error) {
	leaf, err := p.Intermediate.Issue(testpki.LeafOptions{
		CommonName: name, Organization: string(code), Bits: 2048,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	return &Agency{Code: code, Name: name, Leaf: leaf}, nil
}

// Fingerprint is the agency certificate's fingerprint, for the directory.
func (a *Agency) Fingerprint() agencyids.Fingerprint { return agencyids.FingerprintOf(a.Leaf.Cert.Raw) }

// DirectoryEntry is the agency as the directory holds it.
func (a *Agency) DirectoryEntry() agencyids.Agency {
	return agencyids.Agency{Code: a.Code, Name: a.Name, CertFingerprints: []agencyids.Fingerprint{a.Fingerprint()}}
}

// WriteFiles writes the agency's certificate chain and key as PEM files
// dir/PREFIX-cert.pem and dir/PREFIX-key.pem.
func (a *Agency) WriteFiles(dir, prefix string) (cert, key string, err error) {
	cert, key = filepath.Join(dir, prefix+"-cert.pem"), filepath.Join(dir, prefix+"-key.pem")
	if err := os.WriteFile(cert, a.Leaf.ChainPEM, 0o644); err != nil {
		return "", "", err
	}
	return cert, key, os.WriteFile(key, a.Leaf.KeyPEM, 0o600)
}

// Doc describes a document packet.
type Doc struct {
	To       []agencyids.Code
	Number   string // default "1"
	Notation string // default "TEST"
	Subject  string
	// EdxmlID is MessageHeader/DocumentId; default From,date,number/notation.
	EdxmlID string
	// Attachment is attached as a PDF; default a few bytes (the standard
	// wants every document to carry its file).
	Attachment []byte
	Business   *envelope.Business
	Now        time.Time // default time.Now()
}

// Document builds an unsigned document packet from a.
func (a *Agency) Document(d Doc) ([]byte, error) {
	now := d.Now
	if now.IsZero() {
		now = time.Now()
	}
	if d.Number == "" {
		d.Number = "1"
	}
	if d.Notation == "" {
		d.Notation = "TEST"
	}
	if d.Subject == "" {
		d.Subject = "V/v thử nghiệm trục liên thông"
	}
	h := envelope.DocumentHeader{
		From:         envelope.Organization{OrganID: a.Code, OrganName: a.Name},
		DocumentID:   d.EdxmlID,
		Code:         envelope.Code{Number: d.Number, Notation: d.Notation},
		Promulgation: envelope.PromulgationInfo{Place: "Hà Nội", Date: envelope.DateOf(now)},
		DocumentType: envelope.DocumentType{TypeName: "Công văn"},
		Subject:      d.Subject,
		Signer:       envelope.SignerInfo{Position: "Chánh văn phòng", FullName: "Nguyễn Văn A"},
	}
	for _, to := range d.To {
		h.To = append(h.To, envelope.Organization{OrganID: to, OrganName: string(to)})
	}
	if len(d.Attachment) == 0 {
		d.Attachment = []byte("%PDF-1.7 " + d.Number + "/" + d.Notation)
	}
	atts := []*envelope.Attachment{envelope.NewAttachment("van-ban.pdf", "application/pdf", d.Attachment)}
	p, err := envelope.Builder{Now: func() time.Time { return now }}.Document(h, d.Business, atts...)
	if err != nil {
		return nil, err
	}
	return envelope.Marshal(p)
}

// Status builds an unsigned status packet from a about the document with
// MessageHeader/DocumentId edxmlID; other is ResponseFor/OrganId (the
// other party).
func (a *Agency) Status(code envelope.StatusCode, edxmlID string, other agencyids.Code, now time.Time) ([]byte, error) {
	if now.IsZero() {
		now = time.Now()
	}
	p, err := envelope.Builder{Now: func() time.Time { return now }}.Status(envelope.StatusHeader{
		From:        envelope.Organization{OrganID: a.Code, OrganName: a.Name},
		ResponseFor: envelope.ResponseFor{OrganID: other, DocumentID: edxmlID},
		Staff:       envelope.StaffInfo{Staff: "Trần Thị B", Department: "Văn thư"},
		Code:        code,
		Description: code.NameVI(),
	})
	if err != nil {
		return nil, err
	}
	return envelope.Marshal(p)
}

// Sign applies a's enveloped signature to a packet.
func (a *Agency) Sign(packet []byte) ([]byte, error) {
	s := &signing.Signer{Key: a.Leaf.Key, Certificates: append([]*x509.Certificate{a.Leaf.Cert}, a.Leaf.Chain...)}
	var out bytes.Buffer
	if err := s.Sign(&out, bytes.NewReader(packet), int64(len(packet))); err != nil {
		return nil, fmt.Errorf("hubtest: sign: %w", err)
	}
	return out.Bytes(), nil
}

// SignedDocument is Document then Sign.
func (a *Agency) SignedDocument(d Doc) ([]byte, error) {
	p, err := a.Document(d)
	if err != nil {
		return nil, err
	}
	return a.Sign(p)
}

// EdxmlID returns the DocumentId of a packet.
func EdxmlID(packet []byte) (string, error) {
	p, err := envelope.Parse(packet)
	if err != nil {
		return "", err
	}
	return p.DocumentID(), nil
}
