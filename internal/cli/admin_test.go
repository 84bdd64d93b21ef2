package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/dirstore"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

// openStore opens the metadata store at url (a data folder's edocgw.db or
// a PostgreSQL URL) for the test to look into.
func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// lookup returns the principal of the token in file.
func lookup(t *testing.T, s *store.Store, file string) (routing.Principal, error) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !authtoken.WellFormed(string(b)) {
		t.Fatalf("%s holds %q", file, b)
	}
	return s.LookupToken(context.Background(), authtoken.Of(string(b)))
}

// mustRun runs a command that must succeed and print want (when not empty).
func mustRun(t *testing.T, want string, args ...string) string {
	t.Helper()
	code, out, stderr := run(t, args...)
	if code != cli.ExitOK || (want != "" && out != want) {
		t.Fatalf("edocgw %s: exit %d\n%s%s\nwant %q", strings.Join(args, " "), code, out, stderr, want)
	}
	return out
}

// mustFail runs a command that must exit with code and say want on stderr.
func mustFail(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, out, stderr := run(t, args...)
	if got != code || !strings.Contains(stderr, want) {
		t.Fatalf("edocgw %s: exit %d, want %d with %q\n%s%s", strings.Join(args, " "), got, code, want, out, stderr)
	}
}

func TestAgencyAddMember(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	tok := filepath.Join(dir, "g22.token")
	mustRun(t, "added 000.00.00.G22 Văn phòng Chính phủ\ntoken for 000.00.00.G22 written to "+tok+"\n",
		"agency", "add", "--data", data, "000.00.00.G22", "--name", "Văn phòng Chính phủ", "--token-file", tok)
	if fi, err := os.Stat(tok); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", fi, err)
	}
	mustRun(t, "added 000.00.00.H53 UBND tỉnh Tây Ninh\n", "agency", "add", "--data", data, "000.00.00.H53", "--name", "UBND tỉnh Tây Ninh",
		"--push", "https://h53.example/edoc", "--signature", "all")
	mustRun(t, "added 000.00.00.H41 Bộ Công an\n", "agency", "add", "--data", data, "000.00.00.H41", "--name", "Bộ Công an", "--directory-only")

	// An existing token file is kept, and nothing is added.
	before, _ := os.ReadFile(tok)
	mustFail(t, cli.ExitInput, "exists", "agency", "add", "--data", data, "000.00.00.H14", "--name", "Bộ X", "--token-file", tok)
	if after, _ := os.ReadFile(tok); string(after) != string(before) {
		t.Fatal("token file overwritten without --force")
	}
	mustFail(t, cli.ExitInput, "not found", "agency", "show", "--data", data, "000.00.00.H14")
	// A refused agency leaves no token file behind.
	bad := filepath.Join(dir, "bad.token")
	mustFail(t, cli.ExitInput, "parent", "agency", "add", "--data", data, "000.00.01.H14", "--name", "Vụ", "--parent", "000.00.00.H99", "--token-file", bad)
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file of a refused agency: %v", err)
	}
	mustRun(t, "", "agency", "add", "--data", data, "000.00.00.H14", "--name", "Bộ X", "--token-file", tok, "--force")
	// An agency of the directory becomes a member.
	tok41 := filepath.Join(dir, "h41.token")
	mustRun(t, "added 000.00.00.H41 Bộ Công an (already in the directory, now a member)\ntoken for 000.00.00.H41 written to "+tok41+"\n",
		"agency", "add", "--data", data, "000.00.00.H41", "--name", "Bộ Công an", "--token-file", tok41)
	mustFail(t, cli.ExitInput, "already in use", "agency", "add", "--data", data, "000.00.00.G22", "--name", "again")
	mustFail(t, cli.ExitInput, "already in use", "agency", "add", "--data", data, "000.00.00.H41", "--name", "again", "--directory-only")

	for _, args := range [][]string{
		{"--pull", "--push", "https://x.example"},
		{"--signature", "never"},
		{"--directory-only", "--token-file", filepath.Join(dir, "x")},
		{"--force"},
	} {
		mustFail(t, cli.ExitUsage, "agency add", append([]string{"agency", "add", "--data", data, "000.00.00.G17", "--name", "X"}, args...)...)
	}
	if out := mustRun(t, "", "agency", "show", "--data", data, "000.00.00.H53"); !strings.Contains(out, "member:      push https://h53.example/edoc, signature all\n") ||
		!strings.Contains(out, "endpoint:    https://h53.example/edoc\n") {
		t.Fatalf("show H53:\n%s", out)
	}

	s := openStore(t, filepath.Join(data, "edocgw.db"))
	ctx := context.Background()
	if p, err := lookup(t, s, tok); err != nil || p != (routing.Principal{Role: routing.RoleAgency, Agency: "000.00.00.H14", Via: "token"}) {
		t.Errorf("token of H14 = %+v, %v", p, err)
	}
	if p, err := s.LookupToken(ctx, authtoken.Of(string(before))); err != nil || p.Agency != "000.00.00.G22" {
		t.Errorf("token of G22 = %+v, %v", p, err)
	}
	if p, err := lookup(t, s, tok41); err != nil || p.Agency != "000.00.00.H41" {
		t.Errorf("token of H41 = %+v, %v", p, err)
	}
	c, err := s.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[agencyids.Code]routing.Member{
		"000.00.00.G22": {Mode: routing.ModePull, Signature: routing.SignatureRequired},
		"000.00.00.H14": {Mode: routing.ModePull, Signature: routing.SignatureRequired},
		"000.00.00.H41": {Mode: routing.ModePull, Signature: routing.SignatureRequired},
		"000.00.00.H53": {Mode: routing.ModePush, PushURL: "https://h53.example/edoc", Signature: routing.SignatureAll},
	}
	if len(c.Members) != len(want) || len(c.Agencies) != 4 {
		t.Fatalf("%d members, %d agencies", len(c.Members), len(c.Agencies))
	}
	for _, m := range c.Members {
		w := want[m.Code]
		if m.Mode != w.Mode || m.PushURL != w.PushURL || m.Signature != w.Signature {
			t.Errorf("member %+v, want %+v", m, w)
		}
	}
	mustRun(t, "", "audit", "verify", "--data", data)
}

// Data folders of earlier versions keep the directory in agencies.json:
// the first command imports it, once.
func TestAgenciesJSONImportedOnce(t *testing.T) {
	data := t.TempDir()
	d := agencyids.NewDirectory()
	if err := d.Load([]agencyids.Agency{
		{Code: "000.00.00.H53", Name: "UBND tỉnh Tây Ninh"},
		{Code: "000.00.13.H53", Name: "Sở TTTT", Parent: "000.00.00.H53"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := dirstore.Save(data, d); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "agency", "show", "--data", data, "000.00.13.H53")
	if code != cli.ExitOK || !strings.Contains(out, "parent:      000.00.00.H53 (UBND tỉnh Tây Ninh)") || !strings.Contains(stderr, "imported 2 agencies from ") {
		t.Fatalf("first show: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(data, dirstore.FileName)); err != nil {
		t.Fatalf("agencies.json: %v", err)
	}
	if err := d.Add(agencyids.Agency{Code: "000.00.14.H53", Name: "Sở KHCN", Parent: "000.00.00.H53"}); err != nil {
		t.Fatal(err)
	}
	if err := dirstore.Save(data, d); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "agency", "show", "--data", data, "000.00.14.H53")
	if code != cli.ExitInput || strings.Contains(stderr, "imported") {
		t.Fatalf("agencies.json imported again: exit %d %s", code, stderr)
	}
	if out := mustRun(t, "", "audit", "verify", "--data", data); !strings.HasPrefix(out, "OK 1 events, ") {
		t.Fatalf("audit verify: %s", out)
	}
}

func TestPeerRouteToken(t *testing.T) {
	data := t.TempDir()
	testPeerRouteToken(t, "--data", data, filepath.Join(data, "edocgw.db"))
}

func TestAdminPostgres(t *testing.T) {
	url := testenv.Postgres(t)
	csv := filepath.Join(t.TempDir(), "a.csv")
	os.WriteFile(csv, []byte("code,name,parent\n000.00.00.H53,UBND tỉnh Tây Ninh,\n000.00.13.H53,Sở TTTT,000.00.00.H53\n"), 0o644)
	mustRun(t, "imported 2 agencies from "+csv+": 2 new, 0 updated, 2 in the directory\n", "agency", "import", "--database-url", url, csv)
	tok := filepath.Join(t.TempDir(), "so.token")
	mustRun(t, "", "agency", "add", "--database-url", url, "000.00.14.H53", "--name", "Sở KHCN", "--parent", "000.00.00.H53", "--token-file", tok)
	mustRun(t, "000.00.13.H53 Sở TTTT\n", "agency", "search", "--database-url", url, "so tt")
	mustRun(t, "retired 000.00.13.H53 on 2026-07-01\n", "agency", "retire", "--database-url", url, "000.00.13.H53", "--successor", "000.00.14.H53", "--at", "2026-07-01")
	if p, err := lookup(t, openStore(t, url), tok); err != nil || p.Agency != "000.00.14.H53" {
		t.Fatalf("token = %+v, %v", p, err)
	}
	testPeerRouteToken(t, "--database-url", url, url)
}

func testPeerRouteToken(t *testing.T, flag, value, url string) {
	ctx := context.Background()
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.token")
	os.WriteFile(ours, []byte("edt_the-token-the-national-axis-gave-us\n"), 0o600)
	ca := writeCA(t, dir)
	s := openStore(t, url)
	v0, err := s.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edocgw := func(args ...string) []string {
		return append(args[:2:2], append([]string{flag, value}, args[2:]...)...)
	}

	mustRun(t, "added peer national\n", edocgw("peer", "add", "national", "--url", "https://axis.example:8443", "--ca", ca, "--token-file", ours)...)
	mustRun(t, "added peer inbound\n", edocgw("peer", "add", "inbound")...)
	mustRun(t, "updated peer national\n", edocgw("peer", "add", "national", "--url", "https://axis2.example")...)
	mustFail(t, cli.ExitInput, "bad argument", edocgw("peer", "add", "bad name")...)
	hubTok := filepath.Join(dir, "hub.token")
	mustRun(t, "token for peer national written to "+hubTok+"\n", edocgw("peer", "token", "national", "--token-file", hubTok)...)
	// A token for a peer not yet known registers it (a hub that only sends to us).
	mustRun(t, "token for peer newcomer written to "+filepath.Join(dir, "x")+"\n", edocgw("peer", "token", "newcomer", "--token-file", filepath.Join(dir, "x"))...)
	mustFail(t, cli.ExitInput, "bad argument", edocgw("peer", "token", "bad name", "--token-file", filepath.Join(dir, "y"))...)
	mustFail(t, cli.ExitUsage, "peer token", edocgw("peer", "token", "national")...)

	for _, r := range [][2]string{{"*", "national"}, {"H53", "national"}, {"G09", "national"}, {"000.00.13.H53", "inbound"}} {
		mustRun(t, "route "+r[0]+" -> "+r[1]+"\n", edocgw("route", "add", r[0], r[1])...)
	}
	for _, p := range []string{"H5", "h53", "000.00.00.H5X", "**", "H53.", ""} {
		mustFail(t, cli.ExitInput, "route pattern", edocgw("route", "add", p, "national")...)
	}
	mustFail(t, cli.ExitInput, `no peer "nobody"`, edocgw("route", "add", "H14", "nobody")...)
	mustFail(t, cli.ExitUsage, "route add", edocgw("route", "add", "H14")...)
	mustRun(t, "* national\n000.00.13.H53 inbound\nG09 national\nH53 national\n", edocgw("route", "list")...)
	mustRun(t, "removed route G09\n", edocgw("route", "remove", "G09")...)
	mustFail(t, cli.ExitInput, "not found", edocgw("route", "remove", "G09")...)
	mustRun(t, "inbound edocgw - token=none ca=0 routes=000.00.13.H53\nnational edocgw https://axis2.example token=set ca=1 routes=*,H53\nnewcomer edocgw - token=none ca=0 routes=none\n", edocgw("peer", "list")...)
	if out := mustRun(t, "", edocgw("peer", "list", "--json")...); !strings.Contains(out, `"name":"national","kind":"edocgw","url":"https://axis2.example","token":true,"caCertificates":1,"routes":["*","H53"]`) {
		t.Fatalf("peer list --json:\n%s", out)
	}

	// A peer on the national axis's SDK protocol: its secret is stored sealed.
	vxpSecret := filepath.Join(dir, "vxp.secret")
	if err := os.WriteFile(vxpSecret, []byte("the-axis-issued-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vxpAdd := []string{"peer", "add", "axis-vxp", "--kind", "vxp", "--url", "https://axis.example/XrdAdapter/adapter", "--vxp-key-file", filepath.Join(dir, "vxp.key")}
	mustFail(t, cli.ExitInput, "needs a URL, a systemId and a secret", edocgw(vxpAdd...)...)
	mustFail(t, cli.ExitUsage, "--system-id", edocgw(append(vxpAdd, "--system-id", "bad id", "--secret-file", vxpSecret)...)...)
	mustFail(t, cli.ExitUsage, "--secret-file, not --token-file", edocgw(append(vxpAdd, "--system-id", "00.53.W00", "--token-file", vxpSecret)...)...)
	mustFail(t, cli.ExitUsage, "are for --kind vxp", edocgw("peer", "add", "national", "--system-id", "00.53.W00")...)
	mustRun(t, "added peer axis-vxp\n", edocgw(append(vxpAdd, "--system-id", "00.53.W00", "--secret-file", vxpSecret)...)...)
	if out := mustRun(t, "", edocgw("peer", "list")...); !strings.Contains(out, "axis-vxp vxp system=00.53.W00 https://axis.example/XrdAdapter/adapter token=set") {
		t.Fatalf("peer list:\n%s", out)
	}
	if p, err := s.Peer(ctx, "axis-vxp"); err != nil || p.Kind != routing.PeerVXP || p.Token == "" || strings.Contains(p.Token, "the-axis-issued-secret") {
		t.Fatalf("stored vxp peer %+v, %v: want its secret sealed", p, err)
	}

	audTok := filepath.Join(dir, "auditor.token")
	mustRun(t, "token for auditor kiem-toan written to "+audTok+"\n", edocgw("token", "add", "--role", "auditor", "--name", "kiem-toan", "--token-file", audTok)...)
	mustFail(t, cli.ExitInput, "exists", edocgw("token", "add", "--role", "admin", "--name", "root", "--token-file", audTok)...)
	adminTok := filepath.Join(dir, "admin.token")
	mustRun(t, "", edocgw("token", "add", "--role", "admin", "--name", "root", "--token-file", adminTok)...)
	mustFail(t, cli.ExitUsage, "want auditor or admin", edocgw("token", "add", "--role", "agency", "--name", "x", "--token-file", filepath.Join(dir, "y"))...)
	mustFail(t, cli.ExitUsage, "want --name", edocgw("token", "add", "--role", "admin", "--token-file", filepath.Join(dir, "y"))...)

	principals := []struct {
		file string
		want routing.Principal
	}{
		{hubTok, routing.Principal{Role: routing.RoleHub, Peer: "national", Via: "token"}},
		{audTok, routing.Principal{Role: routing.RoleAuditor, Name: "kiem-toan", Via: "token"}},
		{adminTok, routing.Principal{Role: routing.RoleAdmin, Name: "root", Via: "token"}},
	}
	for _, p := range principals {
		if got, err := lookup(t, s, p.file); err != nil || got != p.want {
			t.Errorf("%s: %+v, %v; want %+v", p.file, got, err, p.want)
		}
	}
	mustRun(t, "revoked 1 auditor token(s) of kiem-toan\n", edocgw("token", "revoke", "--role", "auditor", "kiem-toan")...)
	mustFail(t, cli.ExitInput, "no auditor token of kiem-toan in force", edocgw("token", "revoke", "--role", "auditor", "kiem-toan")...)
	mustRun(t, "revoked 1 hub token(s) of national\n", edocgw("token", "revoke", "--role", "hub", "national")...)
	mustFail(t, cli.ExitUsage, "token revoke", edocgw("token", "revoke", "--role", "god", "x")...)
	for i, p := range principals {
		_, err := lookup(t, s, p.file)
		if revoked := i < 2; revoked != errors.Is(err, routing.ErrNotFound) {
			t.Errorf("%s after revocations: %v", p.file, err)
		}
	}

	c, err := s.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version <= v0 || len(c.Peers) != 4 || c.Peers[2].Token != "edt_the-token-the-national-axis-gave-us" || len(c.Peers[2].CAPEM) == 0 {
		t.Fatalf("config version %d (was %d), peers %+v", c.Version, v0, c.Peers)
	}
	mustRun(t, "", edocgw("audit", "verify")...)
}

// Admin commands work while the gateway holds the same embedded database:
// a command waits for the writer it finds busy.
func TestAdminWhileServing(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	serving := openStore(t, filepath.Join(data, "edocgw.db"))
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- serving.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.Exec(ctx, "UPDATE config_version SET version = version WHERE id = 1"); err != nil {
				return err
			}
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	time.AfterFunc(300*time.Millisecond, func() { close(release) })
	mustRun(t, "added 000.00.00.G22 VPCP\n", "agency", "add", "--data", data, "000.00.00.G22", "--name", "VPCP")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustRun(t, "added peer national\n", "peer", "add", "--data", data, "national")
	mustRun(t, "route * -> national\n", "route", "add", "--data", data, "*", "national")
	c, err := serving.Config(ctx)
	if err != nil || len(c.Members) != 1 || len(c.Routes) != 1 {
		t.Fatalf("the gateway's view: %+v, %v", c, err)
	}
}

// writeCA writes a self-signed CA certificate and returns its file.
func writeCA(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "national axis CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, append([]byte("a comment\n"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
