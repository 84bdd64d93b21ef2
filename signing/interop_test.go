package signing_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/signing"
	"github.com/edocgw/edocgw/signing/testpki"
)

// xmlsec1 runs the xmlsec1 command line; without it the test skips outside
// CI and fails under CI.
func xmlsec1(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmlsec1 is required under CI")
		}
		t.Skip("SKIPPED: xmlsec1 not installed (apt-get install xmlsec1)")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func pkiFiles(t *testing.T) testpki.Files {
	t.Helper()
	f, err := pki(t).WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// template is an unsigned packet with an empty Signature for xmlsec1 to
// fill in, in the place edXML puts it.
func template(t *testing.T, c14nURI, sigMethod, digestMethod string) []byte {
	t.Helper()
	sig := `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>` +
		`<CanonicalizationMethod Algorithm="` + c14nURI + `"/><SignatureMethod Algorithm="` + sigMethod + `"/>` +
		`<Reference URI=""><Transforms><Transform Algorithm="` + signing.Enveloped + `"/><Transform Algorithm="` + c14nURI + `"/></Transforms>` +
		`<DigestMethod Algorithm="` + digestMethod + `"/><DigestValue/></Reference></SignedInfo>` +
		`<SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>`
	return replace(t, packet(t, 5000), "</edXML:TraceHeaderList>\n    </edXML:edXMLHeader>", "</edXML:TraceHeaderList>\n      "+sig+"\n    </edXML:edXMLHeader>")
}

// xmlsecSign signs a template with the agency's key and certificate chain.
func xmlsecSign(t *testing.T, f testpki.Files, tmpl []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "tmpl.xml"), filepath.Join(dir, "signed.xml")
	writeFile(t, in, tmpl)
	if msg, err := xmlsec1(t, "--sign", "--privkey-pem", f.Agency.KeyPKCS1+","+f.Agency.Cert+","+f.Intermediate, "--output", out, in); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInterop_XmlsecVerifiesOurSignature(t *testing.T) {
	f := pkiFiles(t)
	for _, inclusive := range []bool{false, true} {
		signed := signWith(t, pki(t).Agency, packet(t, 5000), inclusive)
		file := filepath.Join(t.TempDir(), "signed.xml")
		writeFile(t, file, signed)
		out, err := xmlsec1(t, "--verify", "--trusted-pem", f.Root, "--untrusted-pem", f.Intermediate, file)
		if err != nil || !strings.Contains(out, "OK") {
			t.Fatalf("inclusive=%v: xmlsec1 --verify refused our signature: %v\n%s", inclusive, err, out)
		}
		// And refuses it once altered: the check is real.
		writeFile(t, file, replace(t, signed, "V/v kết nối", "V/v hủy kết nối"))
		if out, err := xmlsec1(t, "--verify", "--trusted-pem", f.Root, "--untrusted-pem", f.Intermediate, file); err == nil {
			t.Fatalf("xmlsec1 accepted an altered packet:\n%s", out)
		}
	}
}

func TestInterop_WeVerifyXmlsecSignature(t *testing.T) {
	f := pkiFiles(t)
	for _, c := range []string{signing.ExcC14N10, signing.C14N10} {
		signed := xmlsecSign(t, f, template(t, c, signing.RSASHA256, signing.SHA256))
		res := accepted(t, verifier(t), signed)
		if res.CanonicalizationMethod != c || res.Agency != "000.00.00.G22" || res.Binding != "fingerprint" {
			t.Fatalf("%s: result %+v", c, res)
		}
		refused(t, verifier(t), replace(t, signed, "V/v kết nối", "V/v hủy kết nối"), signing.ErrDigestMismatch)
	}
}

func TestAttack_SHA1UnderDefaultPolicy(t *testing.T) {
	f := pkiFiles(t)
	signed := xmlsecSign(t, f, template(t, signing.C14N10, signing.RSASHA1, signing.SHA1))
	refused(t, verifier(t), signed, signing.ErrSHA1)
	// A legacy sender is accepted only when the policy allows it, and it is
	// reported.
	v := verifier(t)
	v.AllowSHA1 = true
	res, err := v.Verify(context.Background(), signed)
	if err != nil {
		t.Fatalf("AllowSHA1: %v", err)
	}
	if len(res.Legacy) == 0 || !strings.Contains(strings.Join(res.Legacy, ";"), "SHA-1") {
		t.Fatalf("SHA-1 not reported: %v", res.Legacy)
	}
}

func TestInterop_XmlsecRefusesForgery(t *testing.T) {
	// A packet signed by one agency's key with another's certificate is
	// refused by xmlsec1 too: the tools agree.
	f := pkiFiles(t)
	signed := signWith(t, pki(t).Agency, packet(t, 100), false)
	file := filepath.Join(t.TempDir(), "forged.xml")
	writeFile(t, file, replace(t, signed, "000.00.00.H53</edXML:OrganId>", "000.00.00.H54</edXML:OrganId>"))
	if out, err := xmlsec1(t, "--verify", "--trusted-pem", f.Root, "--untrusted-pem", f.Intermediate, file); err == nil {
		t.Fatalf("xmlsec1 accepted a forgery:\n%s", out)
	}
}
