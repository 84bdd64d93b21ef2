package signing

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/signing/c14n"
)

// Signer applies enveloped signatures.
type Signer struct {
	// Key signs: an *rsa.PrivateKey from a PEM file or a PKCS#11 key.
	Key crypto.Signer
	// Certificates go into KeyInfo: the signer's first, then intermediates.
	Certificates []*x509.Certificate
	// Inclusive selects inclusive C14N 1.0 instead of exclusive C14N.
	Inclusive bool
	// Limits bound the packet; zero fields take envelope's defaults.
	Limits envelope.Limits
}

// SignBytes signs the packet in data.
func (s *Signer) SignBytes(data []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(data) + 4096)
	if err := s.Sign(&out, bytes.NewReader(data), int64(len(data))); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Sign writes to w the packet of size bytes in src with an enveloped
// XMLDSig (RSA-SHA256, SHA-256 digest) inserted as the last child of
// edXMLHeader. Every other byte of the packet is kept as it is.
func (s *Signer) Sign(w io.Writer, src io.ReaderAt, size int64) error {
	return s.sign(w, src, size, ` xmlns="`+DSigNamespace+`"`, "")
}

// sign is Sign with the Signature's namespace declaration and the C14N
// transform's URI ("": the CanonicalizationMethod's) given: tests make with
// it the legacy packets that the national-axis SDK writes.
func (s *Signer) sign(w io.Writer, src io.ReaderAt, size int64, nsAttr, transformURI string) error {
	if s.Key == nil || len(s.Certificates) == 0 {
		return fail(ErrSigner, "a key and its certificate are required")
	}
	pub, ok := s.Key.Public().(*rsa.PublicKey)
	if !ok {
		return fail(ErrKeyType, "%T", s.Key.Public())
	}
	if cpub, ok := s.Certificates[0].PublicKey.(*rsa.PublicKey); !ok || !cpub.Equal(pub) {
		return fail(ErrSigner, "the certificate is not the key's")
	}
	pkt, err := envelope.ParseReaderAt(src, size, envelope.Options{Limits: s.Limits})
	if err != nil {
		return fail(ErrEnvelope, "%v", err)
	}
	if pkt.Signature != nil {
		return fail(ErrAlreadySigned, "edXMLHeader has a Signature")
	}
	loc, err := locate(src, size, maxSignatureBytes)
	if err != nil {
		return err
	}
	c14nURI, method := ExcC14N10, c14n.Exclusive10
	if s.Inclusive {
		c14nURI, method = C14N10, c14n.Inclusive10
	}
	if transformURI == "" {
		transformURI = c14nURI
	}
	tmpl := func(digest, value string) []byte {
		return signatureXML(nsAttr, c14nURI, transformURI, digest, value, s.Certificates)
	}
	// The Signature goes one level deeper than the header's end tag, on a
	// line of its own.
	indent := loc.indent
	if i := bytes.LastIndexByte(indent, '\n'); i >= 0 {
		indent = indent[i+1:]
	}
	lead, trail := []byte("  "), append([]byte("\n"), indent...)
	if len(loc.indent) == 0 {
		lead, trail = nil, nil
	}
	build := func(sig []byte) *splice {
		ins := slices.Concat(lead, sig, trail)
		return &splice{src: src, size: size, at: loc.headerEnd, ins: ins}
	}
	// Digest of the signed packet less its Signature.
	doc := build(tmpl("", ""))
	h := crypto.SHA256.New()
	opts := c14n.Options{Method: method, Exclude: c14n.EnvelopedSignature(append(slices.Clone(headerPath), "Signature")...)}
	if err := c14n.Canonicalize(h, io.NewSectionReader(doc, 0, doc.Size()), opts); err != nil {
		return fail(ErrEnvelope, "canonicalization: %v", err)
	}
	digest := base64.StdEncoding.EncodeToString(h.Sum(nil))
	// SignedInfo, canonicalized where it stands, then signed.
	doc = build(tmpl(digest, ""))
	sloc, err := locate(doc, doc.Size(), maxSignatureBytes)
	if err != nil {
		return err
	}
	sig, err := parseSignature(sloc)
	if err != nil {
		return err
	}
	si, err := canonicalSignedInfo(sig)
	if err != nil {
		return err
	}
	sh := crypto.SHA256.New()
	sh.Write(si)
	value, err := s.Key.Sign(rand.Reader, sh.Sum(nil), crypto.SHA256)
	if err != nil {
		return fail(ErrSigner, "%v", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sh.Sum(nil), value); err != nil {
		return fail(ErrSigner, "the key produced a signature that does not verify: %v", err)
	}
	doc = build(tmpl(digest, base64.StdEncoding.EncodeToString(value)))
	if _, err := io.Copy(w, io.NewSectionReader(doc, 0, doc.Size())); err != nil {
		return fmt.Errorf("signing: write: %w", err)
	}
	return nil
}

// signatureXML is an enveloped Signature element on one line; nsAttr
// declares its namespace ("" lets it inherit the edXML default namespace,
// as the national-axis SDK's packets do).
func signatureXML(nsAttr, c14nURI, transformURI, digest, value string, certs []*x509.Certificate) []byte {
	var kb strings.Builder
	for _, c := range certs {
		kb.WriteString("<X509Certificate>" + base64.StdEncoding.EncodeToString(c.Raw) + "</X509Certificate>")
	}
	return []byte(`<Signature` + nsAttr + `><SignedInfo>` +
		`<CanonicalizationMethod Algorithm="` + c14nURI + `"/>` +
		`<SignatureMethod Algorithm="` + RSASHA256 + `"/>` +
		`<Reference URI=""><Transforms>` +
		`<Transform Algorithm="` + Enveloped + `"/>` +
		`<Transform Algorithm="` + transformURI + `"/>` +
		`</Transforms><DigestMethod Algorithm="` + SHA256 + `"/>` +
		`<DigestValue>` + digest + `</DigestValue></Reference></SignedInfo>` +
		`<SignatureValue>` + value + `</SignatureValue>` +
		`<KeyInfo><X509Data>` + kb.String() + `</X509Data></KeyInfo></Signature>`)
}

// splice is src with ins inserted at offset at, as an io.ReaderAt.
type splice struct {
	src  io.ReaderAt
	size int64
	at   int64
	ins  []byte
}

func (s *splice) Size() int64 { return s.size + int64(len(s.ins)) }

func (s *splice) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		switch {
		case o >= s.Size():
			return n, io.EOF
		case o < s.at:
			m, err := s.src.ReadAt(p[n:min(len(p), n+int(s.at-o))], o)
			n += m
			if err != nil && err != io.EOF {
				return n, err
			}
			if m == 0 {
				return n, io.ErrUnexpectedEOF
			}
		case o < s.at+int64(len(s.ins)):
			n += copy(p[n:], s.ins[o-s.at:])
		default:
			m, err := s.src.ReadAt(p[n:], o-int64(len(s.ins)))
			n += m
			if err == io.EOF && n == len(p) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
