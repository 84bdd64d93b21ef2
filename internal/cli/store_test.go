package cli_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/testenv"
)

// auditFixture appends n events and a signed checkpoint at event n to the
// store at url and returns the hub certificate's file.
func auditFixture(t *testing.T, url string, n int) string {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edocgw hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "hub.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	var last *archive.Event
	for i := range n {
		err := s.InTx(ctx, func(tx store.Tx) error {
			e := &archive.Event{Kind: "document.accepted", Actor: "000.00.00.G22", Document: "doc-" + string(rune('a'+i))}
			last = e
			return s.AppendAudit(ctx, tx, e)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	cp := archive.Checkpoint{Seq: last.Seq, Head: last.Hash, At: time.Now()}
	if err := cp.Sign(key); err != nil {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return s.SaveCheckpoint(ctx, tx, cp) }); err != nil {
		t.Fatal(err)
	}
	return certFile
}

func tamper(t *testing.T, url, stmt string) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url, store.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.Exec(ctx, stmt); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateAndAuditVerifyEmbedded(t *testing.T) {
	data := t.TempDir()
	if code, out, stderr := run(t, "migrate", "--data", data); code != cli.ExitOK || !strings.HasPrefix(out, "schema version ") || !strings.HasSuffix(out, "(was 0)\n") {
		t.Fatalf("migrate: exit %d %q %q", code, out, stderr)
	}
	if code, out, _ := run(t, "migrate", "--data", data); code != cli.ExitOK || strings.HasSuffix(out, "(was 0)\n") {
		t.Fatalf("second migrate: exit %d %q", code, out)
	}
	url := filepath.Join(data, "edocgw.db")
	cert := auditFixture(t, url, 5)
	if code, out, stderr := run(t, "audit", "verify", "--data", data, "--hub-cert", cert); code != cli.ExitOK || !strings.HasPrefix(out, "OK 5 events, head ") || !strings.HasSuffix(out, ", 1 checkpoints verified (0 timestamped), 0 originals re-hashed\n") {
		t.Fatalf("audit verify: exit %d %q %q", code, out, stderr)
	}
	tamper(t, url, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 3")
	if code, out, _ := run(t, "audit", "verify", "--data", data); code != cli.ExitInput || !strings.HasPrefix(out, "BROKEN at event 3: ") {
		t.Fatalf("after an edit: exit %d %q", code, out)
	}
	// Another hub's certificate does not verify the checkpoint.
	other := auditFixture(t, filepath.Join(t.TempDir(), "other.db"), 1)
	if code, out, _ := run(t, "audit", "verify", "--data", data, "--hub-cert", other); code != cli.ExitInput || !strings.HasPrefix(out, "BROKEN at checkpoint 5: ") {
		t.Fatalf("wrong hub certificate: exit %d %q", code, out)
	}
}

func TestAuditVerifyPostgres(t *testing.T) {
	url := testenv.Postgres(t)
	cert := auditFixture(t, url, 4)
	if code, out, stderr := run(t, "audit", "verify", "--database-url", url, "--hub-cert", cert); code != cli.ExitOK || !strings.HasPrefix(out, "OK 4 events") {
		t.Fatalf("audit verify: exit %d %q %q", code, out, stderr)
	}
	tamper(t, url, "DELETE FROM audit_events WHERE seq = 2")
	if code, out, _ := run(t, "audit", "verify", "--database-url", url); code != cli.ExitInput || !strings.HasPrefix(out, "BROKEN at event 2: ") {
		t.Fatalf("after a delete: exit %d %q", code, out)
	}
}
