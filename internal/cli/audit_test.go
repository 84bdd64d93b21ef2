package cli_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/tsa"
	"github.com/edocgw/edocgw/archive/tsa/tsatest"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/signing/testpki"
)

// timestampedFixture is an embedded store with 6 events and two
// checkpoints (at 3 and 6) signed by a hub key and timestamped by a test
// TSA; it returns the data folder, the hub certificate and TSA root files.
func timestampedFixture(t *testing.T) (data, hubCert, tsaRoot string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	root, err := testpki.NewRoot("audit test root", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	hub, err := root.Issue(testpki.LeafOptions{CommonName: "edocgw hub"})
	if err != nil {
		t.Fatal(err)
	}
	tsaLeaf, err := root.Issue(testpki.LeafOptions{CommonName: "test TSA", KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&tsatest.TSA{Cert: tsaLeaf.Cert, Key: tsaLeaf.Key})
	defer srv.Close()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	hubCert, tsaRoot = filepath.Join(dir, "hub.pem"), filepath.Join(dir, "tsa-root.pem")
	os.WriteFile(hubCert, hub.CertPEM, 0o644)
	os.WriteFile(tsaRoot, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}), 0o644)
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, filepath.Join(data, "edocgw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cp := &archive.Checkpointer{Store: s, Key: hub.Key, TSA: &tsa.Client{URL: srv.URL}}
	for i := range 6 {
		if err := s.InTx(ctx, func(tx store.Tx) error {
			return s.AppendAudit(ctx, tx, &archive.Event{Kind: "document.accepted", Actor: "agency:000.00.00.G22", Document: "doc-" + string(rune('a'+i))})
		}); err != nil {
			t.Fatal(err)
		}
		if i == 2 || i == 5 {
			c, err := cp.Checkpoint(ctx)
			if err != nil || len(c.Timestamp) == 0 {
				t.Fatalf("checkpoint: %v (token %d bytes)", err, len(c.Timestamp))
			}
		}
	}
	return data, hubCert, tsaRoot
}

// TestAuditVerifyTamper changes one piece of the audit log at a time:
// audit verify names each break precisely; the untouched log verifies.
func TestAuditVerifyTamper(t *testing.T) {
	cases := []struct {
		name, stmt, want string
	}{
		{"untouched", "", "OK 6 events, head "},
		{"row edited", "UPDATE audit_events SET actor = 'agency:000.00.00.H53' WHERE seq = 2", "BROKEN at event 2: "},
		{"row deleted", "DELETE FROM audit_events WHERE seq = 4", "BROKEN at event 4: audit: sequence gap"},
		{"row inserted", "INSERT INTO audit_events SELECT 7, at, kind, actor, agency, document, delivery, details, hash, hash FROM audit_events WHERE seq = 6", "BROKEN at event 7: audit: event does not hash"},
		{"details edited", `UPDATE audit_events SET details = '{"x":1}' WHERE seq = 5`, "BROKEN at event 5: "},
		{"checkpoint signature altered", "UPDATE audit_checkpoints SET signature = head WHERE seq = 3", "BROKEN at checkpoint 3: "},
		{"checkpoint head moved", "UPDATE audit_checkpoints SET seq = 4 WHERE seq = 3", "BROKEN at checkpoint 4: "},
		{"timestamp token altered", "UPDATE audit_checkpoints SET tsa_token = substr(tsa_token, 1, 200) WHERE seq = 6", "BROKEN timestamp of checkpoint 6: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, hubCert, tsaRoot := timestampedFixture(t)
			if c.stmt != "" {
				tamper(t, filepath.Join(data, "edocgw.db"), c.stmt)
			}
			code, out, stderr := run(t, "audit", "verify", "--data", data, "--hub-cert", hubCert, "--tsa-roots", tsaRoot)
			if !strings.HasPrefix(out, c.want) || (code == cli.ExitOK) != (c.stmt == "") {
				t.Fatalf("exit %d %q %q, want %q", code, out, stderr, c.want)
			}
			if c.stmt == "" && !strings.Contains(out, "2 checkpoints verified (2 timestamped)") {
				t.Fatalf("untouched: %q", out)
			}
		})
	}
}
