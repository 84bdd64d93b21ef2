package vxp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/vxpclient"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
)

// The agencies of the tests: H53 and its department speak the SDK protocol
// as system vxp.saas.02; G22 is a DMS on the native API; H41 belongs to
// another system; H14 is a member of no system.
const (
	h53     agencyids.Code = "000.00.00.H53"
	h53dept agencyids.Code = "000.00.01.H53"
	g22     agencyids.Code = "000.00.00.G22"
	h41     agencyids.Code = "000.00.00.H41"
	h14     agencyids.Code = "000.00.00.H14"

	system = "vxp.saas.02"
	other  = "vxp.other.01"
)

var (
	// ags are the test agencies by code, filled by fixturePKI.
	ags     = map[agencyids.Code]*hubtest.Agency{}
	fixture = hubtest.Fixture{Codes: []agencyids.Code{h53, h53dept, g22, h41, h14}, Agencies: ags}
)

func fixturePKI(t testing.TB) *hubtest.PKI {
	t.Helper()
	return fixture.PKI(t)
}

// env is a hub on an embedded store behind the protocol's handler, mounted
// at the root and at /XrdAdapter/adapter in front of a stand-in for the
// native API.
type env struct {
	t       *testing.T
	hub     *routing.Hub
	store   *store.Store
	key     *vxp.SecretKey
	secrets map[string]string
	blobs   string
	srv     *httptest.Server
}

// nativeAPI stands for internal/server: it answers 418.
var nativeAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusTeapot)
	io.WriteString(w, "native "+r.URL.Path)
})

func newEnv(t *testing.T, opts ...func(*vxp.Config)) *env {
	t.Helper()
	p := fixturePKI(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "edocgw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobDir := filepath.Join(dir, "blobs")
	blobs, err := fsblob.New(blobDir, fsblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var entries []agencyids.Agency
	for _, c := range []agencyids.Code{h53, h53dept, g22, h41, h14} {
		entries = append(entries, ags[c].DirectoryEntry())
	}
	entries = append(entries, agencyids.Agency{Code: "G09.01", AltCode: "000.00.00.G09", Name: "Bộ Khoa học và Công nghệ"})
	if err := st.SaveAgencies(ctx, entries, "test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []agencyids.Code{h53, h53dept, g22, h41, h14} {
		if err := st.PutMember(ctx, routing.Member{Code: c, Mode: routing.ModePull}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, store: st, blobs: blobDir, secrets: map[string]string{}}
	if e.key, _, err = vxp.EnsureSecretKey(filepath.Join(dir, "pki", "vxp-secrets.key")); err != nil {
		t.Fatal(err)
	}
	e.addSystem(system, h53, h53dept)
	e.addSystem(other, h41)
	if e.hub, err = routing.New(routing.Options{Store: st, Blobs: blobs, Verifier: &signing.Verifier{Roots: p.Roots()}}); err != nil {
		t.Fatal(err)
	}
	cfg := vxp.Config{Hub: e.hub, Store: st, Key: e.key, SpoolDir: dir}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := vxp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux, err := h.Mount(nativeAPI, "/", vxp.DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) addSystem(id string, agencies ...agencyids.Code) {
	e.t.Helper()
	secret, err := vxp.GenerateSecret()
	if err != nil {
		e.t.Fatal(err)
	}
	sealed, err := e.key.Seal(id, secret)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AddVXPSystem(context.Background(), vxp.System{ID: id, Agencies: agencies, Secret: sealed, KeyID: e.key.ID()}, "test"); err != nil {
		e.t.Fatal(err)
	}
	e.secrets[id] = secret
}

// client is a fresh SDK service object of a system at a prefix.
func (e *env) client(prefix, id string) *vxpclient.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 2 * time.Second}}
	// A DMS runs on Vietnam time: its timestamps are in the server's zone.
	return vxpclient.New(e.srv.URL+prefix, id, e.secrets[id], hc, time.Now().In(vxp.ICT))
}

func (e *env) signed(from agencyids.Code, d hubtest.Doc) []byte {
	e.t.Helper()
	b, err := ags[from].SignedDocument(d)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) status(from agencyids.Code, code envelope.StatusCode, edxmlID string, to agencyids.Code) []byte {
	e.t.Helper()
	b, err := ags[from].Status(code, edxmlID, to, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func agencyP(c agencyids.Code) routing.Principal {
	return routing.Principal{Role: routing.RoleAgency, Agency: c, Via: "token"}
}

// accept sends a packet through the native path.
func (e *env) accept(from agencyids.Code, pkt []byte) *routing.Receipt {
	e.t.Helper()
	rc, err := e.hub.Accept(context.Background(), agencyP(from), bytes.NewReader(pkt), int64(len(pkt)))
	if err != nil {
		e.t.Fatalf("Accept: %v", err)
	}
	return rc
}

func (e *env) inbox(c agencyids.Code) []routing.InboxEntry {
	e.t.Helper()
	pg, err := e.hub.Inbox(context.Background(), agencyP(c), "", 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return pg.Items
}

// takeAll fetches and acks c's inbox through the native path.
func (e *env) takeAll(c agencyids.Code) [][]byte {
	e.t.Helper()
	var out [][]byte
	for _, it := range e.inbox(c) {
		_, blob, err := e.hub.FetchDelivery(context.Background(), agencyP(c), it.DeliveryID)
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := io.ReadAll(blob)
		blob.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.hub.Ack(context.Background(), agencyP(c), it.DeliveryID); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// counts are what the stores hold: documents, deliveries, originals.
type counts struct{ documents, deliveries, blobs int64 }

func (e *env) counts() counts {
	e.t.Helper()
	var c counts
	err := e.store.InTx(context.Background(), func(tx store.Tx) error {
		if err := tx.QueryRow(context.Background(), "SELECT count(*) FROM documents").Scan(&c.documents); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM deliveries").Scan(&c.deliveries)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	_ = filepath.WalkDir(e.blobs, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			c.blobs++
		}
		return nil
	})
	return c
}

// eventsSince returns the audit events after seq.
func (e *env) eventsSince(seq int64) []*archive.Event {
	e.t.Helper()
	es, err := e.store.AuditEvents(context.Background(), seq, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func (e *env) head() int64 {
	e.t.Helper()
	seq, _, err := e.store.AuditHead(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return seq
}

// asciiOnly fails on a byte above 0x7F.
func asciiOnly(t *testing.T, what string, b []byte) {
	t.Helper()
	for i, c := range b {
		if c >= 0x80 {
			t.Fatalf("%s: non-ASCII byte 0x%x at %d: %.200q", what, c, i, b)
		}
	}
}

func bodyOf(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
