package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/vxp"
)

// readSecret reads a secret file, checking its mode.
func readSecret(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file %s: %v %v", path, fi, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) != 44 {
		t.Fatalf("secret %q is not 32 bytes in base64", s)
	}
	return s
}

// kinds returns the kinds of the audit events after seq.
func kinds(t *testing.T, s *store.Store, seq int64) []string {
	t.Helper()
	es, err := s.AuditEvents(context.Background(), seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

func TestVxpSystemCommands(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	for _, c := range []string{"000.00.00.H53", "000.00.01.H53", "000.00.00.G22"} {
		mustRun(t, "", "agency", "add", "--data", data, c, "--name", "Cơ quan "+c)
	}
	mustRun(t, "", "agency", "add", "--data", data, "000.00.00.H41", "--name", "Push", "--push", "https://dms.h41.example/")
	secretFile := filepath.Join(dir, "h53.secret")
	mustRun(t, "added VXP system vxp.saas.02 for 000.00.00.H53,000.00.01.H53; secret written to "+secretFile+"\n",
		"vxp", "system", "add", "--data", data, "vxp.saas.02", "--agency", "000.00.01.H53", "--agency", "000.00.00.H53", "--secret-file", secretFile)
	secret := readSecret(t, secretFile)
	keyFile := filepath.Join(data, "pki", "vxp-secrets.key")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	s := openStore(t, filepath.Join(data, "edocgw.db"))
	ctx := context.Background()
	key, err := vxp.LoadSecretKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := s.VXPSystem(ctx, "vxp.saas.02")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := key.Open(sys.ID, sys.Secret); err != nil || got != secret || sys.KeyID != key.ID() {
		t.Fatalf("stored secret opens to %q, %v (key %s, %s)", got, err, sys.KeyID, key.ID())
	}
	if strings.Contains(string(sys.Secret), secret) {
		t.Fatal("the secret is stored in the clear")
	}

	// Refused: the file is neither made nor kept, nothing is stored.
	seq, _, _ := s.AuditHead(ctx)
	other := filepath.Join(dir, "other.secret")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"vxp.saas.02", "--agency", "000.00.00.G22"}, "exists"},
		{[]string{"vxp.saas.03", "--agency", "000.00.00.H53"}, "registered to VXP system vxp.saas.02"},
		{[]string{"vxp.saas.03", "--agency", "000.00.00.H14"}, "not a member"},
		{[]string{"vxp.saas.03", "--agency", "000.00.00.H41"}, "push member"},
		{[]string{"vxp saas", "--agency", "000.00.00.G22"}, "systemId"},
		{[]string{"vxp.saas.03", "--agency", "G22"}, "G22"},
	} {
		mustFail(t, cli.ExitInput, tc.want, append([]string{"vxp", "system", "add", "--data", data, "--secret-file", other}, tc.args...)...)
		if _, err := os.Stat(other); !os.IsNotExist(err) {
			t.Fatalf("%v: secret file left: %v", tc.args, err)
		}
	}
	mustFail(t, cli.ExitInput, "exists", "vxp", "system", "add", "--data", data, "vxp.saas.04", "--agency", "000.00.00.G22", "--secret-file", secretFile)
	if readSecret(t, secretFile) != secret {
		t.Fatal("an existing secret file was overwritten")
	}
	mustFail(t, cli.ExitUsage, "want one SYSTEMID", "vxp", "system", "add", "--data", data, "vxp.saas.04", "--secret-file", other)
	if k := kinds(t, s, seq); len(k) != 0 {
		t.Fatalf("refused commands audited changes: %v", k)
	}

	out := mustRun(t, "", "vxp", "system", "list", "--data", data)
	if !strings.HasPrefix(out, "vxp.saas.02 000.00.00.H53,000.00.01.H53 key="+key.ID()+" key-ok rotated=") {
		t.Errorf("list: %q", out)
	}
	mustRun(t, "VXP system vxp.saas.02 now for 000.00.00.H53\n", "vxp", "system", "update", "--data", data, "vxp.saas.02", "--agency", "000.00.00.H53")
	mustRun(t, "new secret of VXP system vxp.saas.02 written to "+secretFile+"; the old one no longer works\n",
		"vxp", "system", "rotate", "--data", data, "vxp.saas.02", "--secret-file", secretFile, "--force")
	rotated := readSecret(t, secretFile)
	sys, _ = s.VXPSystem(ctx, "vxp.saas.02")
	if got, err := key.Open(sys.ID, sys.Secret); err != nil || got != rotated || rotated == secret {
		t.Fatalf("after rotate: %q, %v", got, err)
	}
	var rec struct {
		System   string           `json:"system"`
		Agencies []agencyids.Code `json:"agencies"`
		KeyOK    bool             `json:"keyOk"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", "vxp", "system", "list", "--data", data, "--json")), &rec); err != nil ||
		rec.System != "vxp.saas.02" || !slices.Equal(rec.Agencies, []agencyids.Code{"000.00.00.H53"}) || !rec.KeyOK {
		t.Errorf("list --json: %+v %v", rec, err)
	}
	// Another key file cannot open it: list says so.
	otherKey := filepath.Join(dir, "other.key")
	t.Setenv("EDOCGW_VXP_KEY_FILE", otherKey)
	if _, _, err := vxp.EnsureSecretKey(otherKey); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "vxp", "system", "list", "--data", data); !strings.Contains(out, "KEY-MISMATCH") {
		t.Errorf("list with another key: %q", out)
	}
	mustRun(t, "removed VXP system vxp.saas.02\n", "vxp", "system", "remove", "--data", data, "vxp.saas.02")
	mustFail(t, cli.ExitInput, "no VXP system vxp.saas.02", "vxp", "system", "remove", "--data", data, "vxp.saas.02")
	mustFail(t, cli.ExitInput, "no VXP system vxp.saas.09", "vxp", "system", "rotate", "--data", data, "vxp.saas.09", "--secret-file", other)
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatalf("rotate of no system left a secret file: %v", err)
	}
	want := []string{store.KindVXPSystemUpdated, store.KindVXPSecretRotated, store.KindVXPSystemRemoved}
	if k := kinds(t, s, seq); !slices.Equal(k, want) {
		t.Errorf("audited %v, want %v", k, want)
	}
	if out := mustRun(t, "", "vxp", "system", "list", "--data", data); out != "" {
		t.Errorf("list after remove: %q", out)
	}
}
