package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/softhsm"
	"github.com/edocgw/edocgw/signing/testpki"
)

// signFixture writes a test PKI, a directory binding G22 to the agency
// certificate, and an unsigned document from G22.
func signFixture(t *testing.T) (testpki.Files, *testpki.Set, string, string) {
	t.Helper()
	set, err := testpki.NewSet(fixedNow, "", "")
	if err != nil {
		t.Fatal(err)
	}
	files, err := set.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	csv := filepath.Join(dir, "agencies.csv")
	os.WriteFile(csv, []byte(fmt.Sprintf("code,name,cert_fingerprints\n000.00.00.G22,Văn phòng Chính phủ,%s\n000.00.00.H53,UBND tỉnh Tây Ninh,%s\n",
		agencyids.FingerprintOf(set.Agency.Cert.Raw), agencyids.FingerprintOf(set.Agency2.Cert.Raw))), 0o644)
	pdf := filepath.Join(dir, "cv.pdf")
	os.WriteFile(pdf, []byte("%PDF-1.4 test"), 0o644)
	doc := filepath.Join(dir, "doc.edxml")
	if code, _, stderr := run(t, "envelope", "build", "-o", doc, "--from", "000.00.00.G22=Văn phòng Chính phủ", "--to", "000.00.00.H53=UBND tỉnh Tây Ninh",
		"--number", "12", "--notation", "VPCP-KSTT", "--subject", "V/v thử nghiệm", "--place", "Hà Nội",
		"--signer", "Nguyễn Văn A", "--position", "Chánh văn phòng", "--attach", pdf); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	return files, set, csv, doc
}

func TestSignVerifyCommands(t *testing.T) {
	files, _, csv, doc := signFixture(t)
	signed := filepath.Join(t.TempDir(), "signed.edxml")
	if code, _, stderr := run(t, "sign", "--key", files.Agency.Key, "--cert", files.Agency.Chain, "-o", signed, doc); code != cli.ExitOK {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	code, out, stderr := run(t, "verify", "--trust", files.Root, "--directory", csv, "--crl", files.CRLPEM, signed)
	if code != cli.ExitOK || !strings.HasPrefix(out, "VALID signer=") || !strings.Contains(out, " agency=000.00.00.G22 binding=fingerprint\n") {
		t.Fatalf("verify: exit %d %q %q", code, out, stderr)
	}
	// Signed by the agency of H53 for G22: refused.
	forged := filepath.Join(t.TempDir(), "forged.edxml")
	run(t, "sign", "--key", files.Agency2.Key, "--cert", files.Agency2.Chain, "-o", forged, doc)
	code, out, _ = run(t, "verify", "--trust", files.Root, "--directory", csv, forged)
	if code != cli.ExitInput || !strings.HasPrefix(out, "INVALID: signer certificate is not bound to the sending agency") {
		t.Fatalf("forged: exit %d %q", code, out)
	}
	// Without a directory the binding is reported unchecked.
	code, out, _ = run(t, "verify", "--trust", files.Root, forged)
	if code != cli.ExitOK || !strings.Contains(out, "binding=unchecked") {
		t.Fatalf("no directory: exit %d %q", code, out)
	}
	// Revoked, by the CRL file.
	revoked := filepath.Join(t.TempDir(), "revoked.edxml")
	run(t, "sign", "--key", files.Revoked.KeyPKCS1, "--cert", files.Revoked.Chain, "-o", revoked, doc)
	code, out, _ = run(t, "verify", "--trust", files.Root, "--crl", files.CRLDER, revoked)
	if code != cli.ExitInput || !strings.HasPrefix(out, "INVALID: signer certificate is revoked") {
		t.Fatalf("revoked: exit %d %q", code, out)
	}
	// An untrusted root.
	code, out, _ = run(t, "verify", "--trust", files.OtherRoot, signed)
	if code != cli.ExitInput || !strings.HasPrefix(out, "INVALID: signer certificate does not chain to a trusted root") {
		t.Fatalf("untrusted: exit %d %q", code, out)
	}
	// --json carries the reason.
	code, out, _ = run(t, "verify", "--json", "--trust", files.OtherRoot, signed)
	if code != cli.ExitInput || !strings.Contains(out, `"reason":"signer certificate does not chain to a trusted root"`) {
		t.Fatalf("json: exit %d %q", code, out)
	}
	// Usage errors.
	if code, _, _ := run(t, "verify", signed); code != cli.ExitUsage {
		t.Fatalf("verify without --trust: exit %d", code)
	}
	if code, _, _ := run(t, "sign", doc); code != cli.ExitUsage {
		t.Fatalf("sign without a key: exit %d", code)
	}
}

func TestSignWithPKCS11(t *testing.T) {
	files, set, csv, doc := signFixture(t)
	tok := softhsm.New(t)
	tok.Import(t, "agency", set.Agency.Key, set.Agency.Cert)
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte(tok.PIN+"\n"), 0o600)
	signed := filepath.Join(t.TempDir(), "signed.edxml")
	code, _, stderr := run(t, "sign", "--pkcs11-module", tok.Module, "--pkcs11-token", tok.Label, "--pkcs11-label", "agency",
		"--pkcs11-pin-file", pin, "--cert", files.Agency.Chain, "-o", signed, doc)
	if code != cli.ExitOK {
		t.Fatalf("sign with token: exit %d: %s", code, stderr)
	}
	code, out, _ := run(t, "verify", "--trust", files.Root, "--directory", csv, signed)
	if code != cli.ExitOK || !strings.Contains(out, "agency=000.00.00.G22 binding=fingerprint") {
		t.Fatalf("verify token signature: exit %d %q", code, out)
	}
}

// agency add binds a certificate; verify --data then finds the binding.
func TestAgencyAddBindsCertificate(t *testing.T) {
	files, _, _, doc := signFixture(t)
	data := t.TempDir()
	if code, out, stderr := run(t, "agency", "add", "--data", data, "000.00.00.G22", "--name", "Văn phòng Chính phủ", "--cert", files.Agency.Cert); code != cli.ExitOK || out != "added 000.00.00.G22 Văn phòng Chính phủ\n" {
		t.Fatalf("add: exit %d %q %q", code, out, stderr)
	}
	if code, _, stderr := run(t, "agency", "add", "--data", data, "000.00.00.G22", "--name", "again"); code != cli.ExitInput || !strings.Contains(stderr, "already in use") {
		t.Fatalf("add twice: exit %d %q", code, stderr)
	}
	signed := filepath.Join(t.TempDir(), "signed.edxml")
	run(t, "sign", "--key", files.Agency.Key, "--cert", files.Agency.Chain, "-o", signed, doc)
	if code, out, _ := run(t, "verify", "--trust", files.Root, "--data", data, signed); code != cli.ExitOK || !strings.Contains(out, "binding=fingerprint") {
		t.Fatalf("verify --data: exit %d %q", code, out)
	}
	// Retired, the agency no longer signs; the code stays in the directory.
	run(t, "agency", "add", "--data", data, "000.00.00.H53", "--name", "UBND tỉnh Tây Ninh")
	if code, out, stderr := run(t, "agency", "retire", "--data", data, "000.00.00.G22", "--successor", "000.00.00.H53", "--at", "2026-01-01"); code != cli.ExitOK || out != "retired 000.00.00.G22 on 2026-01-01\n" {
		t.Fatalf("retire: exit %d %q %q", code, out, stderr)
	}
	if code, out, _ := run(t, "verify", "--trust", files.Root, "--data", data, signed); code != cli.ExitInput || !strings.Contains(out, "not active") {
		t.Fatalf("verify after retirement: exit %d %q", code, out)
	}
	if code, out, _ := run(t, "agency", "show", "--data", data, "000.00.00.G22"); code != cli.ExitOK || !strings.Contains(out, "successor:   000.00.00.H53") {
		t.Fatalf("show retired: exit %d %q", code, out)
	}
}
