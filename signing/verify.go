package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/signing/c14n"
	"github.com/edocgw/edocgw/signing/revocation"
)

// Directory is what verification needs of the agency directory.
type Directory interface {
	Lookup(code agencyids.Code) (agencyids.Agency, bool)
}

// RevocationChecker answers whether a certificate is revoked.
type RevocationChecker interface {
	Check(ctx context.Context, cert, issuer *x509.Certificate) (revocation.Status, error)
}

// RevocationPolicy says what an unknown revocation status means.
type RevocationPolicy int

const (
	// HardFail refuses a signature whose revocation status is unknown.
	HardFail RevocationPolicy = iota
	// SoftFail accepts it and reports a warning.
	SoftFail
)

// Verifier checks the signatures of packets. Its zero value refuses
// everything (no trust anchors).
type Verifier struct {
	// Roots are the trust anchors.
	Roots *x509.CertPool
	// Intermediates are extra intermediate CAs, besides those in KeyInfo.
	Intermediates *x509.CertPool
	// Directory binds certificates to agencies; nil leaves the binding
	// unchecked (reported in the Result).
	Directory Directory
	// Revocation, if set, is asked about the signer certificate under
	// RevocationPolicy.
	Revocation       RevocationChecker
	RevocationPolicy RevocationPolicy
	// AllowSHA1 accepts RSA-SHA1 and SHA-1 digests from legacy senders;
	// the Result reports it.
	AllowSHA1 bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limits bound the packet; zero fields take envelope's defaults.
	Limits envelope.Limits
	// SmallPacket is the size up to which the Result's packet is parsed
	// from the verified canonical bytes themselves; larger packets are
	// parsed from the source by the same parser in bounded memory.
	// 0 means 8 MiB.
	SmallPacket int64
}

// Limits of the Signature element.
const (
	maxSignatureBytes    = 256 << 10
	maxSignatureElements = 64
	maxSignatureDepth    = 6
	maxCertificates      = 8
)

// Result is what verification found. On failure Err says why and the other
// fields say how far it got.
type Result struct {
	// Packet is the verified packet: parsed from what the signature covers.
	Packet *envelope.Packet
	// Signer is the certificate that signed; Chain leads from it to a root.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
	// Agency is the From agency the signer is bound to.
	Agency agencyids.Code
	// Binding is how: "fingerprint", "subject", or "unchecked" without a
	// directory.
	Binding                string
	SignatureMethod        string
	DigestMethod           string
	CanonicalizationMethod string
	// Transforms are the Reference's transforms.
	Transforms []string
	// Revocation is the signer's revocation status, if asked.
	Revocation *revocation.Status
	// Legacy lists what the policy tolerated (SHA-1, the VNPT exclusive
	// C14N URI, a Signature outside the XMLDSig namespace).
	Legacy []string
	// Warnings lists soft failures (revocation unknown under SoftFail).
	Warnings []string
	Err      error
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks the signature of the packet in data.
func (v *Verifier) Verify(ctx context.Context, data []byte) (*Result, error) {
	return v.VerifyReaderAt(ctx, bytes.NewReader(data), int64(len(data)))
}

// VerifyReaderAt checks the signature of the packet of size bytes in src,
// reading it a few times as streams: memory stays bounded whatever its size.
func (v *Verifier) VerifyReaderAt(ctx context.Context, src io.ReaderAt, size int64) (*Result, error) {
	return v.VerifyParsed(ctx, src, size, nil)
}

// VerifyParsed is VerifyReaderAt for a caller that has parsed the packet
// already: pkt must be envelope.ParseReaderAt of the same src and size,
// with limits no looser than v.Limits. Verification then skips its own
// first parse; the Result's packet is still parsed from what the
// signature covers (see SmallPacket). A nil pkt is parsed here.
func (v *Verifier) VerifyParsed(ctx context.Context, src io.ReaderAt, size int64, pkt *envelope.Packet) (*Result, error) {
	r := &Result{}
	err := v.verify(ctx, r, src, size, pkt)
	if err != nil {
		r.Err = err
	}
	return r, err
}

// signature is the parsed Signature element.
type signature struct {
	standalone      []byte // the Signature in its ancestors' start tags (location.standalone)
	el              *etree.Element
	signedInfo      *etree.Element
	c14nMethod      string
	c14nPrefixes    string
	signatureMethod string
	uri             string
	transforms      []string
	refPrefixes     string
	digestMethod    string
	digestValue     []byte
	signatureValue  []byte
	certs           [][]byte
}

func (v *Verifier) verify(ctx context.Context, r *Result, src io.ReaderAt, size int64, pkt *envelope.Packet) error {
	// 1. The packet must be a well-formed edXML packet within the limits;
	// this refuses DTDs, entity tricks and Signatures out of place.
	if pkt == nil {
		var err error
		if pkt, err = envelope.ParseReaderAt(src, size, envelope.Options{Limits: v.Limits}); err != nil {
			kind := ErrEnvelope
			if e := envelope.First(err); e != nil && strings.Contains(e.Path, "/Signature") {
				kind = ErrSignatureShape
				for _, limit := range []error{envelope.ErrTextTooLong, envelope.ErrMarkupTooLong, envelope.ErrTooDeep, envelope.ErrTooManyElements, envelope.ErrTooManyAttributes} {
					if errors.Is(e, limit) {
						kind = ErrSignatureTooLarge
					}
				}
			}
			return &Error{Err: kind, Detail: err.Error(), Cause: err}
		}
	}
	if pkt.Signature == nil {
		return fail(ErrNoSignature, "edXMLHeader has no Signature")
	}
	for _, is := range pkt.Issues {
		if errors.Is(is, envelope.ErrCommentInValue) {
			return &Error{Err: ErrCommentInjection, Detail: is.Error(), Cause: is}
		}
	}
	// 2. The Signature, read alone in its namespace context.
	loc, err := locate(src, size, maxSignatureBytes)
	if err != nil {
		return err
	}
	if loc.start < 0 {
		return fail(ErrNoSignature, "edXMLHeader has no Signature")
	}
	s, err := parseSignature(loc)
	if err != nil {
		return err
	}
	// 3. Algorithms and the reference.
	sigHash, digestHash, method, err := v.algorithms(r, s)
	if err != nil {
		return err
	}
	// 4. The signer certificate: validity, key usage, chain.
	if err := v.certificate(r, s); err != nil {
		return err
	}
	// 5. The certificate must be bound to the sending agency.
	if err := v.bind(r, pkt.From().OrganID); err != nil {
		return err
	}
	// 6. SignedInfo, canonicalized in context, signed by the certificate.
	canonical, err := canonicalSignedInfo(s)
	if err != nil {
		return err
	}
	h := sigHash.New()
	h.Write(canonical)
	pub, ok := r.Signer.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fail(ErrKeyType, "%T", r.Signer.PublicKey)
	}
	if err := rsa.VerifyPKCS1v15(pub, sigHash, h.Sum(nil), s.signatureValue); err != nil {
		return fail(ErrBadSignature, "%v", err)
	}
	// 7. The document digest, over the packet less its Signature. Small
	// packets keep the canonical bytes: the Result's packet is parsed from
	// them, i.e. from exactly what was signed.
	small := v.SmallPacket
	if small == 0 {
		small = 8 << 20
	}
	opts := c14n.Options{Method: method, InclusivePrefixes: strings.Fields(s.refPrefixes),
		Exclude: c14n.EnvelopedSignature(append(slices.Clone(headerPath), "Signature")...)}
	dh := digestHash.New()
	var canon *bytes.Buffer
	var w io.Writer = dh
	if size <= small {
		canon = bytes.NewBuffer(make([]byte, 0, size))
		w = io.MultiWriter(dh, canon)
	}
	if err := c14n.Canonicalize(w, io.NewSectionReader(src, 0, size), opts); err != nil {
		return fail(ErrEnvelope, "canonicalization: %v", err)
	}
	if !bytes.Equal(dh.Sum(nil), s.digestValue) {
		return fail(ErrDigestMismatch, "DigestValue %s, computed %s", base64.StdEncoding.EncodeToString(s.digestValue), base64.StdEncoding.EncodeToString(dh.Sum(nil)))
	}
	if canon != nil {
		verified, err := envelope.Parse(canon.Bytes())
		if err != nil {
			return fail(ErrEnvelope, "verified content: %v", err)
		}
		if verified.From().OrganID != pkt.From().OrganID {
			return fail(ErrSignatureShape, "signed From %s differs from the packet's %s", verified.From().OrganID, pkt.From().OrganID)
		}
		pkt = verified
	}
	r.Packet = pkt
	// 8. Revocation, last: it may ask the network.
	return v.revocation(ctx, r)
}

func parseSignature(loc *location) (*signature, error) {
	standalone := loc.standalone()
	doc, err := readEtree(standalone)
	if err != nil {
		return nil, fail(ErrSignatureShape, "%v", err)
	}
	el := doc.Root()
	for _, name := range headerPath[1:] {
		if el = el.SelectElement(name); el == nil {
			return nil, fail(ErrSignatureShape, "Signature context lost")
		}
	}
	sigEl := el.SelectElement("Signature")
	if sigEl == nil {
		return nil, fail(ErrNoSignature, "edXMLHeader has no Signature")
	}
	if err := checkSize(sigEl, 0, new(int)); err != nil {
		return nil, err
	}
	ns := sigEl.NamespaceURI()
	s := &signature{el: sigEl, standalone: standalone}
	// Children must be exactly SignedInfo, SignatureValue and at most one
	// KeyInfo, in the Signature's namespace: no Object that could carry a
	// copy of signed content.
	kids, err := children(sigEl, ns, map[string][2]int{"SignedInfo": {1, 1}, "SignatureValue": {1, 1}, "KeyInfo": {0, 1}})
	if err != nil {
		return nil, err
	}
	si := kids["SignedInfo"][0]
	s.signedInfo = si
	sik, err := children(si, ns, map[string][2]int{"CanonicalizationMethod": {1, 1}, "SignatureMethod": {1, 1}, "Reference": {1, 1}})
	if err != nil {
		if errors.Is(err, ErrSignatureShape) && len(si.SelectElements("Reference")) > 1 {
			return nil, fail(ErrReference, "more than one Reference")
		}
		return nil, err
	}
	cm := sik["CanonicalizationMethod"][0]
	s.c14nMethod = cm.SelectAttrValue("Algorithm", "")
	s.c14nPrefixes = prefixList(cm)
	s.signatureMethod = sik["SignatureMethod"][0].SelectAttrValue("Algorithm", "")
	ref := sik["Reference"][0]
	uri := ref.SelectAttr("URI")
	if uri == nil {
		return nil, fail(ErrReference, "Reference has no URI")
	}
	s.uri = uri.Value
	rk, err := children(ref, ns, map[string][2]int{"Transforms": {0, 1}, "DigestMethod": {1, 1}, "DigestValue": {1, 1}})
	if err != nil {
		return nil, err
	}
	if ts := rk["Transforms"]; len(ts) == 1 {
		tk, err := children(ts[0], ns, map[string][2]int{"Transform": {1, 4}})
		if err != nil {
			return nil, err
		}
		for _, t := range tk["Transform"] {
			s.transforms = append(s.transforms, t.SelectAttrValue("Algorithm", ""))
			if p := prefixList(t); p != "" {
				s.refPrefixes = p
			}
		}
	}
	s.digestMethod = rk["DigestMethod"][0].SelectAttrValue("Algorithm", "")
	if s.digestValue, err = b64(rk["DigestValue"][0].Text()); err != nil {
		return nil, fail(ErrSignatureShape, "DigestValue: %v", err)
	}
	if s.signatureValue, err = b64(kids["SignatureValue"][0].Text()); err != nil {
		return nil, fail(ErrSignatureShape, "SignatureValue: %v", err)
	}
	if ki := kids["KeyInfo"]; len(ki) == 1 {
		for _, xd := range ki[0].SelectElements("X509Data") {
			for _, c := range xd.SelectElements("X509Certificate") {
				der, err := b64(c.Text())
				if err != nil {
					return nil, fail(ErrCertificate, "X509Certificate: %v", err)
				}
				s.certs = append(s.certs, der)
			}
		}
	}
	if len(s.certs) > maxCertificates {
		return nil, fail(ErrSignatureTooLarge, "%d certificates in KeyInfo, more than %d", len(s.certs), maxCertificates)
	}
	return s, nil
}

// checkSize bounds the Signature subtree.
func checkSize(el *etree.Element, depth int, count *int) error {
	*count++
	if *count > maxSignatureElements {
		return fail(ErrSignatureTooLarge, "more than %d elements in Signature", maxSignatureElements)
	}
	if depth > maxSignatureDepth {
		return fail(ErrSignatureTooLarge, "Signature nested deeper than %d", maxSignatureDepth)
	}
	for _, c := range el.ChildElements() {
		if err := checkSize(c, depth+1, count); err != nil {
			return err
		}
	}
	return nil
}

// children groups el's child elements by local name; each must be in ns
// and appear within its [min, max] count.
func children(el *etree.Element, ns string, want map[string][2]int) (map[string][]*etree.Element, error) {
	out := map[string][]*etree.Element{}
	for _, c := range el.ChildElements() {
		if _, ok := want[c.Tag]; !ok || c.NamespaceURI() != ns {
			return nil, fail(ErrSignatureShape, "unexpected element %s in %s", c.FullTag(), el.Tag)
		}
		out[c.Tag] = append(out[c.Tag], c)
	}
	for name, mm := range want {
		if n := len(out[name]); n < mm[0] || n > mm[1] {
			return nil, fail(ErrSignatureShape, "%d %s elements in %s", n, name, el.Tag)
		}
	}
	return out, nil
}

func prefixList(el *etree.Element) string {
	for _, c := range el.ChildElements() {
		if c.Tag == "InclusiveNamespaces" {
			return c.SelectAttrValue("PrefixList", "")
		}
	}
	return ""
}

// b64 decodes standard base64 with XML whitespace anywhere in it (the
// decoder itself skips line breaks).
func b64(s string) ([]byte, error) {
	if !strings.ContainsAny(s, " \t") {
		return base64.StdEncoding.DecodeString(s)
	}
	text := make([]byte, 0, len(s))
	for i := range len(s) {
		if c := s[i]; c != ' ' && c != '\t' {
			text = append(text, c)
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(out, text)
	return out[:n], err
}

// algorithms checks the reference and algorithms against the allow-list
// and returns the signature and digest hashes and the document's
// canonicalization.
func (v *Verifier) algorithms(r *Result, s *signature) (crypto.Hash, crypto.Hash, c14n.Method, error) {
	r.SignatureMethod, r.DigestMethod, r.CanonicalizationMethod = s.signatureMethod, s.digestMethod, s.c14nMethod
	r.Transforms = s.transforms
	if s.el.NamespaceURI() != DSigNamespace {
		r.Legacy = append(r.Legacy, fmt.Sprintf("Signature in namespace %q instead of XMLDSig's", s.el.NamespaceURI()))
	}
	if s.uri != "" {
		return 0, 0, 0, fail(ErrReference, "Reference URI %q: only the whole document (URI=\"\") may be signed", s.uri)
	}
	switch s.c14nMethod {
	case C14N10, ExcC14N10:
	default:
		return 0, 0, 0, fail(ErrAlgorithm, "CanonicalizationMethod %q", s.c14nMethod)
	}
	// The enveloped-signature transform first, then at most one C14N;
	// without one the node-set is serialized by inclusive C14N 1.0.
	if len(s.transforms) == 0 || s.transforms[0] != Enveloped {
		return 0, 0, 0, fail(ErrTransform, "the first transform must be enveloped-signature, got %q", s.transforms)
	}
	method := c14n.Inclusive10
	switch rest := s.transforms[1:]; {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == C14N10:
	case len(rest) == 1 && rest[0] == ExcC14N10:
		method = c14n.Exclusive10
	case len(rest) == 1 && rest[0] == ExcC14NVNPT:
		method = c14n.Exclusive10
		r.Legacy = append(r.Legacy, "invalid exclusive C14N transform URI "+ExcC14NVNPT+" read as "+ExcC14N10)
	default:
		return 0, 0, 0, fail(ErrTransform, "transforms %q", s.transforms)
	}
	sh, ok := signatureMethods[s.signatureMethod]
	if !ok {
		return 0, 0, 0, fail(ErrAlgorithm, "SignatureMethod %q", s.signatureMethod)
	}
	dh, ok := digestMethods[s.digestMethod]
	if !ok {
		return 0, 0, 0, fail(ErrAlgorithm, "DigestMethod %q", s.digestMethod)
	}
	if sh == crypto.SHA1 || dh == crypto.SHA1 {
		if !v.AllowSHA1 {
			return 0, 0, 0, fail(ErrSHA1, "%s with %s", s.signatureMethod, s.digestMethod)
		}
		r.Legacy = append(r.Legacy, "SHA-1 allowed by policy for a legacy sender")
	}
	if len(s.digestValue) != dh.Size() {
		return 0, 0, 0, fail(ErrSignatureShape, "DigestValue of %d bytes for %s", len(s.digestValue), s.digestMethod)
	}
	return sh, dh, method, nil
}

func (v *Verifier) certificate(r *Result, s *signature) error {
	if len(s.certs) == 0 {
		return fail(ErrNoCertificate, "KeyInfo/X509Data/X509Certificate is required")
	}
	key := newChainKey(v.Roots, v.Intermediates, s.certs)
	cached := cachedCerts(key)
	var certs []*x509.Certificate
	if cached != nil {
		certs = cached.certs
	} else {
		for i, der := range s.certs {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return fail(ErrCertificate, "certificate %d: %v", i+1, err)
			}
			certs = append(certs, c)
		}
	}
	leaf := certs[0]
	r.Signer = leaf
	now := v.now()
	switch {
	case now.Before(leaf.NotBefore):
		return fail(ErrCertNotYetValid, "%s is valid from %s", leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339))
	case now.After(leaf.NotAfter):
		return fail(ErrCertExpired, "%s expired %s", leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fail(ErrKeyUsage, "%s has neither digitalSignature nor nonRepudiation key usage", leaf.Subject)
	}
	if leaf.IsCA {
		return fail(ErrKeyUsage, "%s is a CA certificate", leaf.Subject)
	}
	if _, ok := leaf.PublicKey.(*rsa.PublicKey); !ok {
		return fail(ErrKeyType, "%s has a %T key", leaf.Subject, leaf.PublicKey)
	}
	if cached != nil && cached.usable(now) {
		r.Chain = cached.chain
		return nil
	}
	inter := x509.NewCertPool()
	if v.Intermediates != nil {
		inter = v.Intermediates.Clone()
	}
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	roots := v.Roots
	if roots == nil {
		roots = x509.NewCertPool()
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		var ci x509.CertificateInvalidError
		if errors.As(err, &ci) && ci.Reason == x509.Expired {
			return fail(ErrCertExpired, "%v", err)
		}
		return fail(ErrUntrustedRoot, "%v", err)
	}
	r.Chain = chains[0]
	cacheChain(key, certs, r.Chain)
	return nil
}

func (v *Verifier) bind(r *Result, from agencyids.Code) error {
	r.Agency = from
	if v.Directory == nil {
		r.Binding = "unchecked"
		return nil
	}
	a, ok := v.Directory.Lookup(from)
	if !ok {
		return fail(ErrUnknownAgency, "%s", from)
	}
	if !a.ActiveAt(v.now()) {
		return fail(ErrUnknownAgency, "%s is not active (retired %s)", from, a.ValidTo.Format(time.DateOnly))
	}
	fp := agencyids.FingerprintOf(r.Signer.Raw)
	if slices.Contains(a.CertFingerprints, fp) {
		r.Binding = "fingerprint"
		return nil
	}
	for _, n := range r.Signer.Subject.Names {
		if s, ok := n.Value.(string); ok && (agencyids.Code(s) == a.Code || (a.AltCode != "" && agencyids.Code(s) == a.AltCode)) {
			r.Binding = "subject"
			return nil
		}
	}
	return fail(ErrAgencyMismatch, "certificate %s (sha256 %s) is not bound to %s", r.Signer.Subject, fp, from)
}

func (v *Verifier) revocation(ctx context.Context, r *Result) error {
	if v.Revocation == nil || len(r.Chain) < 2 {
		return nil
	}
	st, err := v.Revocation.Check(ctx, r.Chain[0], r.Chain[1])
	r.Revocation = &st
	switch {
	case st.State == revocation.Revoked:
		return fail(ErrRevoked, "%s revoked %s (%s)", r.Signer.Subject, st.RevokedAt.UTC().Format(time.RFC3339), st.Source)
	case st.State == revocation.Good:
		return nil
	case v.RevocationPolicy == SoftFail:
		r.Warnings = append(r.Warnings, fmt.Sprintf("revocation status unknown, accepted by soft-fail policy: %v", err))
		return nil
	}
	return fail(ErrRevocationUnknown, "%v", err)
}

// canonicalSignedInfo is SignedInfo canonicalized as its
// CanonicalizationMethod says, with the namespaces in scope where it stands:
// the canonicalizer of the document, which agrees with xmlsec1 where
// goxmldsig's does not, run over the Signature as it stands in the packet
// (Signature.standalone) with SignedInfo as the apex of the subset, without
// building a tree. Where that fails (an ancestor with an xml: attribute,
// which it does not carry onto the apex, or markup elsewhere in the
// Signature that it refuses), canonicalSignedInfoTree decides, as before;
// where both succeed they agree (TestCanonicalSignedInfoPaths,
// FuzzCanonicalSignedInfo).
func canonicalSignedInfo(s *signature) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(1024)
	err := c14n.Canonicalize(&out, bytes.NewReader(s.standalone), c14n.Options{Method: signedInfoMethod(s),
		InclusivePrefixes: strings.Fields(s.c14nPrefixes), Subtree: signedInfoApex(s.el.NamespaceURI())})
	if err != nil || out.Len() == 0 {
		// The tree decides, as before: an xml: attribute above SignedInfo
		// (c14n.ErrSubsetXMLAttr), or markup elsewhere in the Signature that
		// the streaming canonicalizer refuses while SignedInfo alone passes.
		return canonicalSignedInfoTree(s)
	}
	return out.Bytes(), nil
}

// signedInfoPath is where SignedInfo stands, by local names.
var signedInfoPath = append(slices.Clone(headerPath), "Signature", "SignedInfo")

// signedInfoApex selects, as c14n.Options.Subtree, the SignedInfo child of
// the Signature, both in namespace ns (the Signature's).
func signedInfoApex(ns string) func([]xml.Name) bool {
	return func(p []xml.Name) bool {
		return len(p) == len(signedInfoPath) && pathIs(p, signedInfoPath) &&
			p[len(p)-1].Space == ns && p[len(p)-2].Space == ns
	}
}

// signedInfoMethod is the canonicalization method of s's SignedInfo, which
// algorithms has checked.
func signedInfoMethod(s *signature) c14n.Method {
	if s.c14nMethod == ExcC14N10 {
		return c14n.Exclusive10
	}
	return c14n.Inclusive10
}

// canonicalSignedInfoTree is canonicalSignedInfo through the tree:
// SignedInfo detached with every declaration in scope, written out and
// canonicalized.
func canonicalSignedInfoTree(s *signature) ([]byte, error) {
	nsctx, err := etreeutils.NSBuildParentContext(s.signedInfo)
	if err != nil {
		return nil, fail(ErrSignatureShape, "%v", err)
	}
	detached, err := etreeutils.NSDetatch(nsctx, s.signedInfo)
	if err != nil {
		return nil, fail(ErrSignatureShape, "%v", err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(detached)
	raw, err := doc.WriteToBytes()
	if err != nil {
		return nil, fail(ErrSignatureShape, "%v", err)
	}
	var out bytes.Buffer
	if err := c14n.Canonicalize(&out, bytes.NewReader(raw), c14n.Options{Method: signedInfoMethod(s), InclusivePrefixes: strings.Fields(s.c14nPrefixes)}); err != nil {
		return nil, fail(ErrSignatureShape, "canonicalizing SignedInfo: %v", err)
	}
	return out.Bytes(), nil
}
