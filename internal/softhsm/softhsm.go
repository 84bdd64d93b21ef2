// Package softhsm sets up SoftHSM2 tokens for tests of PKCS#11 signing.
// Without SoftHSM2 and OpenSC a test skips outside CI and fails under CI.
package softhsm

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Token is a SoftHSM2 token made for one test.
type Token struct {
	Module string // the PKCS#11 library
	Label  string // the token label
	PIN    string // the user PIN
}

// New creates an empty token in a temporary folder; SOFTHSM2_CONF points
// to it for the rest of the test.
func New(t testing.TB) *Token {
	t.Helper()
	module := os.Getenv("EDOCGW_PKCS11_MODULE")
	for _, m := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"} {
		if module == "" {
			if _, err := os.Stat(m); err == nil {
				module = m
			}
		}
	}
	_, utilErr := exec.LookPath("softhsm2-util")
	_, toolErr := exec.LookPath("pkcs11-tool")
	if module == "" || utilErr != nil || toolErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("SoftHSM2 (softhsm2, opensc) is required under CI")
		}
		t.Skip("SKIPPED: SoftHSM2 not installed (apt-get install softhsm2 opensc)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	tok := &Token{Module: module, Label: "edocgw-test", PIN: "1234"}
	run(t, "softhsm2-util", "--init-token", "--free", "--label", tok.Label, "--pin", tok.PIN, "--so-pin", "123456")
	return tok
}

// Import stores key and, if cert is not nil, its certificate on the token
// under label.
func (tok *Token) Import(t testing.TB, label string, key *rsa.PrivateKey, cert *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "softhsm2-util", "--import", keyFile, "--token", tok.Label, "--label", label, "--id", "01", "--pin", tok.PIN)
	if cert != nil {
		certFile := filepath.Join(dir, "cert.der")
		if err := os.WriteFile(certFile, cert.Raw, 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, "pkcs11-tool", "--module", tok.Module, "--login", "--pin", tok.PIN, "--token-label", tok.Label,
			"--write-object", certFile, "--type", "cert", "--label", label, "--id", "01")
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
