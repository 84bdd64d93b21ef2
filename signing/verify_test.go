package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/signing"
	"github.com/edocgw/edocgw/signing/revocation"
)

func TestSignVerify(t *testing.T) {
	for _, inclusive := range []bool{false, true} {
		t.Run(fmt.Sprintf("inclusive=%v", inclusive), func(t *testing.T) {
			unsigned := packet(t, 3000)
			signed := signWith(t, pki(t).Agency, unsigned, inclusive)
			res := accepted(t, verifier(t), signed)
			if res.Agency != "000.00.00.G22" || res.Binding != "fingerprint" || !res.Signer.Equal(pki(t).Agency.Cert) {
				t.Fatalf("result %+v", res)
			}
			if len(res.Chain) != 3 || res.SignatureMethod != signing.RSASHA256 || res.DigestMethod != signing.SHA256 || len(res.Legacy) != 0 {
				t.Fatalf("result %+v", res)
			}
			// Everything but the inserted Signature is byte-identical.
			sig := between(t, signed, "<Signature ", "</Signature>")
			rest := bytes.Replace(signed, []byte("  "+sig+"\n    "), nil, 1)
			if !bytes.Equal(rest, unsigned) {
				t.Fatalf("signing changed the packet:\n%s", signed)
			}
			// The verified packet is the signed one.
			want, _ := envelope.Parse(unsigned)
			if res.Packet.Document.Subject != want.Document.Subject || len(res.Packet.Attachments) != 1 {
				t.Fatalf("verified packet %+v", res.Packet.Document)
			}
			if _, err := envelope.Strict.Validate(res.Packet); err != nil {
				t.Fatalf("verified packet does not validate: %v", err)
			}
		})
	}
}

func TestSignRefusesSignedPacket(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	s := &signing.Signer{Key: pki(t).Agency.Key, Certificates: []*x509.Certificate{pki(t).Agency.Cert}}
	if _, err := s.SignBytes(signed); !errors.Is(err, signing.ErrAlreadySigned) {
		t.Fatalf("error %v, want ErrAlreadySigned", err)
	}
	s.Certificates = []*x509.Certificate{pki(t).Agency2.Cert}
	if _, err := s.SignBytes(packet(t, 100)); !errors.Is(err, signing.ErrSigner) {
		t.Fatalf("key and certificate of different agencies: %v, want ErrSigner", err)
	}
}

func TestVerifyUnsigned(t *testing.T) {
	refused(t, verifier(t), packet(t, 100), signing.ErrNoSignature)
}

// Each attack below is a named regression test with its specific error.

func TestAttack_AlteredHeader(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	refused(t, verifier(t), replace(t, signed, "V/v kết nối", "V/v hủy kết nối"), signing.ErrDigestMismatch)
}

func TestAttack_AlteredRecipient(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	refused(t, verifier(t), replace(t, signed, "<edXML:OrganId>000.00.00.H53</edXML:OrganId>", "<edXML:OrganId>000.00.00.H54</edXML:OrganId>"), signing.ErrDigestMismatch)
}

func TestAttack_AlteredAttachment(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 3000), false)
	payload := between(t, signed, "<ContentTransferEncoded>", "</ContentTransferEncoded>")
	forged := strings.Replace(payload, "JVBERi0xLjQ", "JVBERi0xLjU", 1)
	refused(t, verifier(t), replace(t, signed, payload, forged), signing.ErrDigestMismatch)
}

// An attacker who alters the document and puts its new digest into
// SignedInfo breaks the signature value.
func TestAttack_AlteredDigestValue(t *testing.T) {
	v := verifier(t)
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	forged := replace(t, signed, "V/v kết nối", "V/v hủy kết nối")
	res, _ := v.Verify(context.Background(), forged)
	var se *signing.Error
	if !errors.As(res.Err, &se) || !errors.Is(se, signing.ErrDigestMismatch) {
		t.Fatalf("setup: %v", res.Err)
	}
	computed := se.Detail[strings.LastIndex(se.Detail, " ")+1:]
	old := between(t, forged, "<DigestValue>", "</DigestValue>")
	refused(t, v, replace(t, forged, old, "<DigestValue>"+computed+"</DigestValue>"), signing.ErrBadSignature)
}

func TestAttack_SecondSignature(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	sig := between(t, signed, "<Signature ", "</Signature>")
	refused(t, verifier(t), replace(t, signed, sig, sig+sig), signing.ErrSignatureShape)
}

func TestAttack_SignatureMovedIntoMessageHeader(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	sig := between(t, signed, "<Signature ", "</Signature>")
	moved := replace(t, signed, sig, "")
	moved = replace(t, moved, "</edXML:MessageHeader>", sig+"</edXML:MessageHeader>")
	refused(t, verifier(t), moved, signing.ErrSignatureShape)
}

func TestAttack_SignatureMovedToRoot(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	sig := between(t, signed, "<Signature ", "</Signature>")
	moved := replace(t, replace(t, signed, sig, ""), "</edXML>", sig+"</edXML>")
	refused(t, verifier(t), moved, signing.ErrSignatureShape)
}

// The signed MessageHeader is moved into an extension element and a forged
// one takes its place: the document no longer digests to the signed value.
func TestAttack_MovedSignedElement(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	hdr := between(t, signed, "<edXML:MessageHeader>", "</edXML:MessageHeader>")
	forgedHdr := strings.Replace(hdr, "000.00.00.H53", "000.00.00.H54", 1)
	wrapped := replace(t, signed, hdr, forgedHdr+`<x:Orig xmlns:x="urn:attacker">`+hdr+`</x:Orig>`)
	refused(t, verifier(t), wrapped, signing.ErrDigestMismatch)
}

// A forged MessageHeader is added beside the signed one.
func TestAttack_DuplicatedSignedElement(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	hdr := between(t, signed, "<edXML:MessageHeader>", "</edXML:MessageHeader>")
	res := refused(t, verifier(t), replace(t, signed, hdr, strings.Replace(hdr, "H53", "H54", 1)+hdr), signing.ErrEnvelope)
	if !errors.Is(res.Err, envelope.ErrDuplicate) {
		t.Fatalf("error %v, want envelope.ErrDuplicate inside", res.Err)
	}
}

// The victim's signature is copied onto another document.
func TestAttack_CopiedSignature(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	sig := between(t, signed, "<Signature ", "</Signature>")
	other := packet(t, 200)
	forged := replace(t, other, "</edXML:TraceHeaderList>\n    </edXML:edXMLHeader>", "</edXML:TraceHeaderList>\n      "+sig+"\n    </edXML:edXMLHeader>")
	refused(t, verifier(t), forged, signing.ErrDigestMismatch)
}

// Comments are not part of the canonical form, so one injected into a
// value leaves the digest intact; the packet is refused rather than read two
// ways.
func TestAttack_CommentInjection(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	forged := replace(t, signed, "<edXML:OrganId>000.00.00.G22</edXML:OrganId>\n          <edXML:OrganName>", "<edXML:OrganId>000.00.00.<!-- -->G22</edXML:OrganId>\n          <edXML:OrganName>")
	refused(t, verifier(t), forged, signing.ErrCommentInjection)
}

func TestAttack_ReferenceToOtherID(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	forged := replace(t, signed, `<Reference URI="">`, `<Reference URI="#hdr">`)
	forged = replace(t, forged, "<edXML:MessageHeader>", `<edXML:MessageHeader Id="hdr">`)
	refused(t, verifier(t), forged, signing.ErrReference)
}

func TestAttack_TwoReferences(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	ref := between(t, signed, `<Reference URI="">`, "</Reference>")
	refused(t, verifier(t), replace(t, signed, ref, ref+ref), signing.ErrReference)
}

func TestAttack_ObjectInSignature(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	refused(t, verifier(t), replace(t, signed, "</KeyInfo>", "</KeyInfo><Object><Signed/></Object>"), signing.ErrSignatureShape)
}

func TestAttack_CertificateOfAnotherAgency(t *testing.T) {
	// Agency2's certificate is bound to H53; it signs a packet From G22.
	refused(t, verifier(t), signWith(t, pki(t).Agency2, packet(t, 100), false), signing.ErrAgencyMismatch)
}

func TestAttack_UnknownSender(t *testing.T) {
	unsigned := bytes.ReplaceAll(packet(t, 100), []byte("000.00.00.G22"), []byte("000.00.00.G23"))
	refused(t, verifier(t), signWith(t, pki(t).Agency, unsigned, false), signing.ErrUnknownAgency)
}

func TestAttack_RevokedCertificate(t *testing.T) {
	set := pki(t)
	crl, err := set.Intermediate.CRL(fixtureNow.Add(-time.Minute), fixtureNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/crl.der"
	writeFile(t, file, crl)
	rc, err := revocation.New(revocation.Config{CRLFiles: []string{file}, Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	v := verifier(t)
	v.Revocation = rc
	refused(t, v, signWith(t, set.Revoked, packet(t, 100), false), signing.ErrRevoked)
	// The same checker finds the agency's own certificate good.
	res := accepted(t, v, signWith(t, set.Agency, packet(t, 100), false))
	if res.Revocation == nil || res.Revocation.State != revocation.Good {
		t.Fatalf("revocation %+v", res.Revocation)
	}
}

func TestAttack_RevocationUnknownHardFail(t *testing.T) {
	v := verifier(t)
	rc, err := revocation.New(revocation.Config{Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	v.Revocation = rc
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	refused(t, v, signed, signing.ErrRevocationUnknown)
	v.RevocationPolicy = signing.SoftFail
	if res := accepted(t, v, signed); len(res.Warnings) != 1 {
		t.Fatalf("soft-fail must warn: %+v", res.Warnings)
	}
}

func TestAttack_ExpiredCertificate(t *testing.T) {
	refused(t, verifier(t), signWith(t, pki(t).Expired, packet(t, 100), false), signing.ErrCertExpired)
}

func TestAttack_NotYetValidCertificate(t *testing.T) {
	refused(t, verifier(t), signWith(t, pki(t).NotYetValid, packet(t, 100), false), signing.ErrCertNotYetValid)
}

func TestAttack_UntrustedRoot(t *testing.T) {
	refused(t, verifier(t), signWith(t, pki(t).Foreign, packet(t, 100), false), signing.ErrUntrustedRoot)
}

func TestAttack_WrongKeyUsage(t *testing.T) {
	refused(t, verifier(t), signWith(t, pki(t).WrongUsage, packet(t, 100), false), signing.ErrKeyUsage)
}

func TestAttack_CertificateSwappedInKeyInfo(t *testing.T) {
	// Agency signs, but KeyInfo claims Agency2's certificate.
	set := pki(t)
	signed := signWith(t, set.Agency, packet(t, 100), false)
	old := between(t, signed, "<X509Certificate>", "</X509Certificate>")
	v := verifier(t)
	v.Directory = nil
	refused(t, v, replace(t, signed, old, "<X509Certificate>"+base64.StdEncoding.EncodeToString(set.Agency2.Cert.Raw)+"</X509Certificate>"), signing.ErrBadSignature)
}

func TestAttack_UnknownSignatureAlgorithm(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	refused(t, verifier(t), replace(t, signed, signing.RSASHA256, "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"), signing.ErrAlgorithm)
}

func TestAttack_OversizedSignature(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	big := "<KeyInfo><X509Data>" + strings.Repeat("<X509SubjectName>CN=x</X509SubjectName>", 100)
	refused(t, verifier(t), replace(t, signed, "<KeyInfo><X509Data>", big), signing.ErrSignatureTooLarge)
	huge := "<X509Certificate>" + strings.Repeat("QUFB", 100<<10) + "</X509Certificate></X509Data>"
	refused(t, verifier(t), replace(t, signed, "</X509Data>", huge), signing.ErrSignatureTooLarge)
}

func TestAttack_DeeplyNestedSignature(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	deep := strings.Repeat("<X509Data>", 10) + strings.Repeat("</X509Data>", 10)
	refused(t, verifier(t), replace(t, signed, "</KeyInfo>", deep+"</KeyInfo>"), signing.ErrSignatureTooLarge)
}

func TestVerifyResultPacketIsVerifiedContent(t *testing.T) {
	// A comment outside any value changes nothing signed: accepted, and the
	// packet returned is parsed from the canonical (comment-free) bytes.
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	res := accepted(t, verifier(t), replace(t, signed, "<edXML:edXMLBody>", "<!-- note --><edXML:edXMLBody>"))
	if res.Packet.Document.From.OrganID != "000.00.00.G22" {
		t.Fatalf("From %s", res.Packet.Document.From.OrganID)
	}
}

// The small path parses the Result's packet from the verified canonical
// bytes, the large one from the source in bounded memory: both give the
// same packet and the same verdicts.
func TestSmallAndLargePathsAgree(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 5000), false)
	small, large := verifier(t), verifier(t)
	large.SmallPacket = 1 // every packet takes the large path
	a, b := accepted(t, small, signed), accepted(t, large, signed)
	if !reflect.DeepEqual(a.Packet.Document, b.Packet.Document) || !reflect.DeepEqual(a.Packet.Trace, b.Packet.Trace) || !reflect.DeepEqual(a.Packet.Manifest, b.Packet.Manifest) {
		t.Fatalf("paths disagree:\n%+v\n%+v", a.Packet.Document, b.Packet.Document)
	}
	forged := replace(t, signed, "V/v kết nối", "V/v hủy kết nối")
	refused(t, small, forged, signing.ErrDigestMismatch)
	refused(t, large, forged, signing.ErrDigestMismatch)
}

// A look-alike edXMLHeader in another namespace, carrying a Signature of its
// own, is not where a verifier may look: refused, whichever way.
func TestAttack_SignatureInLookalikeHeader(t *testing.T) {
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	sig := between(t, signed, "<Signature ", "</Signature>")
	twin := `<x:edXMLHeader xmlns:x="urn:attacker">` + sig + `</x:edXMLHeader>`
	forged := replace(t, signed, "</edXML:edXMLHeader>", "</edXML:edXMLHeader>"+twin)
	refused(t, verifier(t), forged, signing.ErrSignatureShape)
	// And with the real header's Signature removed, the twin's is still a
	// Signature out of place, not a signature to verify.
	refused(t, verifier(t), replace(t, forged, "  "+sig+"\n    </edXML:edXMLHeader>", "</edXML:edXMLHeader>"), signing.ErrSignatureShape)
}

// TestVerifyChainCache: a chain verified once is reused only with the same
// trust anchors and while every certificate of it is valid.
func TestVerifyChainCache(t *testing.T) {
	set := pki(t)
	signed := signWith(t, set.Agency, packet(t, 100), false)
	v := verifier(t)
	first := accepted(t, v, signed)
	if again := accepted(t, v, signed); len(again.Chain) != len(first.Chain) || again.Signer != first.Signer {
		t.Fatalf("second verification: chain of %d, signer %v", len(again.Chain), again.Signer.Subject)
	}
	// Other anchors: the chain is built again, and fails.
	other := verifier(t)
	other.Roots = x509.NewCertPool()
	other.Roots.AddCert(set.OtherRoot.Cert)
	refused(t, other, signed, signing.ErrUntrustedRoot)
	// Later than the signer's certificate: expired, whatever was cached.
	late := verifier(t)
	late.Roots = v.Roots
	late.Now = func() time.Time { return set.Agency.Cert.NotAfter.Add(time.Second) }
	refused(t, late, signed, signing.ErrCertExpired)
	early := verifier(t)
	early.Roots = v.Roots
	early.Now = func() time.Time { return set.Agency.Cert.NotBefore.Add(-time.Second) }
	refused(t, early, signed, signing.ErrCertNotYetValid)
	// Past the intermediate's validity only: the chain fails too.
	if in := first.Chain[1]; in.NotAfter.Before(set.Agency.Cert.NotAfter) {
		late.Now = func() time.Time { return in.NotAfter.Add(time.Second) }
		refused(t, late, signed, signing.ErrCertExpired)
	}
}
