package signing

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/internal/sharedspec"
	"github.com/edocgw/edocgw/signing/c14n"
)

// signedInfoShapes are Signatures in the namespace shapes senders write:
// a default XMLDSig namespace, a ds: prefix, declarations on the ancestors
// (one shadowed, one default undeclared), exclusive C14N with and without a
// prefix list, and an xml: attribute above SignedInfo.
var signedInfoShapes = map[string]string{
	"default namespace": `<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016" xmlns:x="urn:x"><edXMLEnvelope><edXMLHeader>` +
		`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
		`<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>AAAA</DigestValue></Reference></SignedInfo>` +
		`<SignatureValue>AAAA</SignatureValue></Signature></edXMLHeader></edXMLEnvelope></edXML>`,
	"prefixed, declared on the root": `<edXML xmlns="urn:e" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:b="urn:b"><edXMLEnvelope xmlns:b="urn:b2"><edXMLHeader>` +
		`<ds:Signature><ds:SignedInfo x="1&amp;&lt;&quot;"  b:y="2"><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></ds:CanonicalizationMethod>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></edXMLHeader></edXMLEnvelope></edXML>`,
	"default undeclared above": `<edXML xmlns="urn:e"><edXMLEnvelope xmlns=""><edXMLHeader xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
		`<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></edXMLHeader></edXMLEnvelope></edXML>`,
	"exclusive": `<edXML xmlns="urn:e" xmlns:a="urn:a" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><edXMLEnvelope><edXMLHeader>` +
		`<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="" a:z="1"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></edXMLHeader></edXMLEnvelope></edXML>`,
	"exclusive with a prefix list": `<edXML xmlns="urn:e" xmlns:a="urn:a" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><edXMLEnvelope><edXMLHeader>` +
		`<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">` +
		`<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="#default a"/></ds:CanonicalizationMethod>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></edXMLHeader></edXMLEnvelope></edXML>`,
	// A SignedInfo deeper in the Signature is not the one signed: the apex
	// is the Signature's child only (a wrapping attempt would put its own
	// SignedInfo where a careless selector finds it).
	"decoy SignedInfo in KeyInfo": `<edXML xmlns="urn:e"><edXMLEnvelope><edXMLHeader>` +
		`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
		`<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>AAAA</DigestValue></Reference></SignedInfo>` +
		`<SignatureValue>AAAA</SignatureValue><KeyInfo><SignedInfo><Reference URI="#evil"/></SignedInfo></KeyInfo></Signature></edXMLHeader></edXMLEnvelope></edXML>`,
	"xml:lang above": `<edXML xmlns="urn:e" xml:lang="vi"><edXMLEnvelope><edXMLHeader>` +
		`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
		`<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>AAAA</DigestValue></Reference></SignedInfo>` +
		`<SignatureValue>AAAA</SignatureValue></Signature></edXMLHeader></edXMLEnvelope></edXML>`,
}

// TestCanonicalSignedInfoPaths holds the streaming SignedInfo canonical form
// to the tree's, which it replaced on the hot path, for every shape above,
// the signed fixtures and the real samples.
func TestCanonicalSignedInfoPaths(t *testing.T) {
	inputs := map[string][]byte{}
	for name, in := range signedInfoShapes {
		inputs[name] = []byte(in)
	}
	inputs["signed golden"] = signedGolden(t)
	samples := 0
	for _, name := range sharedspec.Samples(t) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// Most samples carry placeholder certificates, which
		// parseSignature refuses before SignedInfo is read.
		if signatureOf(t, b) != nil {
			inputs[filepath.Base(name)] = b
			samples++
		}
	}
	if samples == 0 {
		t.Error("no sample has a Signature that parseSignature reads")
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			s := signatureOf(t, in)
			if s == nil {
				t.Fatal("no Signature")
			}
			got, err := canonicalSignedInfo(s)
			if err != nil {
				t.Fatal(err)
			}
			want, err := canonicalSignedInfoTree(s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("streaming %s\ntree      %s", got, want)
			}
			if !bytes.HasPrefix(got, []byte("<")) || !bytes.Contains(got, []byte("SignedInfo")) {
				t.Fatalf("not a SignedInfo: %s", got)
			}
			// The streaming path itself, not the fallback, gave the shapes
			// without an xml: attribute above SignedInfo.
			var direct bytes.Buffer
			err = c14n.Canonicalize(&direct, bytes.NewReader(s.standalone), c14n.Options{Method: signedInfoMethod(s),
				InclusivePrefixes: strings.Fields(s.c14nPrefixes), Subtree: signedInfoApex(s.el.NamespaceURI())})
			if name == "xml:lang above" {
				if !errors.Is(err, c14n.ErrSubsetXMLAttr) {
					t.Fatalf("streaming error %v, want ErrSubsetXMLAttr", err)
				}
				return
			}
			if err != nil || !bytes.Equal(direct.Bytes(), want) {
				t.Fatalf("streaming alone: %v, %s", err, direct.Bytes())
			}
		})
	}
}

// signatureOf is parseSignature of the packet's Signature, nil when either
// refuses it.
func signatureOf(t testing.TB, packet []byte) *signature {
	loc, err := locate(bytes.NewReader(packet), int64(len(packet)), maxSignatureBytes)
	if err != nil || loc.start < 0 {
		return nil
	}
	s, err := parseSignature(loc)
	if err != nil {
		return nil
	}
	return s
}

// TestCanonicalSignedInfoCharRef: a tab written as a character reference in
// an attribute of SignedInfo stays a tab, as Canonical XML writes it. The
// tree path lost it (etree writes the tab as is, which reads back as a
// space): signers that canonicalize in place, as xmlsec1 does, would not
// have verified.
func TestCanonicalSignedInfoCharRef(t *testing.T) {
	in := strings.Replace(signedInfoShapes["default namespace"], "<SignedInfo>", `<SignedInfo Id="a&#x9;b">`, 1)
	s := signatureOf(t, []byte(in))
	if s == nil {
		t.Fatal("no Signature")
	}
	got, err := canonicalSignedInfo(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#" xmlns:x="urn:x" Id="a&#x9;b">`; !bytes.HasPrefix(got, []byte(want)) {
		t.Fatalf("got  %s\nwant %s…", got, want)
	}
}

// FuzzCanonicalSignedInfo requires the streaming SignedInfo canonical form
// to be the tree's wherever the tree gives one.
func FuzzCanonicalSignedInfo(f *testing.F) {
	for _, in := range signedInfoShapes {
		f.Add([]byte(in))
	}
	f.Add(signedGolden(f))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := signatureOf(t, in)
		if s == nil || bytes.Contains(s.standalone, []byte("&#")) {
			return // (the tree loses white space written as a reference)
		}
		want, werr := canonicalSignedInfoTree(s)
		got, err := canonicalSignedInfo(s)
		if werr != nil {
			return // the fallback gave the tree's error
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("streaming %q (%v)\ntree      %q", got, err, want)
		}
	})
}

// BenchmarkCanonicalSignedInfo compares the streaming path with the tree
// path it replaced, on a signed packet's Signature.
func BenchmarkCanonicalSignedInfo(b *testing.B) {
	s := signatureOf(b, signedGolden(b))
	if s == nil {
		b.Fatal("no Signature")
	}
	for _, p := range []struct {
		name string
		fn   func(*signature) ([]byte, error)
	}{{"streaming", canonicalSignedInfo}, {"tree", canonicalSignedInfoTree}} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.fn(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
