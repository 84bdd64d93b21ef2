package routing_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
)

const (
	g22 agencyids.Code = "000.00.00.G22" // sender
	h41 agencyids.Code = "000.00.00.H41" // pull recipient
	h14 agencyids.Code = "000.00.00.H14" // pull recipient
	h53 agencyids.Code = "000.00.00.H53" // push recipient
	g17 agencyids.Code = "000.00.00.G17" // in the directory, not a member, no route
)

var (
	// ags are the test agencies by code, filled by fixturePKI.
	ags     = map[agencyids.Code]*hubtest.Agency{}
	fixture = hubtest.Fixture{Codes: []agencyids.Code{g22, h41, h14, h53, g17}, Agencies: ags}
)

// fixturePKI issues one certificate per test agency, once per run.
func fixturePKI(t testing.TB) *hubtest.PKI {
	t.Helper()
	return fixture.PKI(t)
}

type env struct {
	t     *testing.T
	hub   *routing.Hub
	store *store.Store
	blobs string
}

// newEnv is a hub on an embedded store with G22, H41 and H14 as pull
// members, H53 as a push member (pushURL) and G17 in the directory only.
func newEnv(t *testing.T, pushURL string, opts ...func(*routing.Options)) *env {
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
	var dirEntries []agencyids.Agency
	for _, a := range ags {
		dirEntries = append(dirEntries, a.DirectoryEntry())
	}
	if err := st.SaveAgencies(ctx, dirEntries, "test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []agencyids.Code{g22, h41, h14} {
		if err := st.PutMember(ctx, routing.Member{Code: c, Mode: routing.ModePull}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if pushURL != "" {
		if err := st.PutMember(ctx, routing.Member{Code: h53, Mode: routing.ModePush, PushURL: pushURL}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	o := routing.Options{
		Store: st, Blobs: blobs, Verifier: &signing.Verifier{Roots: p.Roots()},
		RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o)
	}
	h, err := routing.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, hub: h, store: st, blobs: blobDir}
}

func agencyP(c agencyids.Code) routing.Principal {
	return routing.Principal{Role: routing.RoleAgency, Agency: c, Via: "token"}
}

func (e *env) signed(from agencyids.Code, d hubtest.Doc) []byte {
	e.t.Helper()
	b, err := ags[from].SignedDocument(d)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) status(from agencyids.Code, code envelope.StatusCode, edxmlID string, other agencyids.Code) []byte {
	e.t.Helper()
	b, err := ags[from].Status(code, edxmlID, other, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) accept(p routing.Principal, body []byte) *routing.Receipt {
	e.t.Helper()
	rc, err := e.hub.Accept(context.Background(), p, bytes.NewReader(body), int64(len(body)))
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

func (e *env) fetch(c agencyids.Code, delivery string) []byte {
	e.t.Helper()
	_, blob, err := e.hub.FetchDelivery(context.Background(), agencyP(c), delivery)
	if err != nil {
		e.t.Fatalf("FetchDelivery(%s): %v", c, err)
	}
	defer blob.Close()
	b, err := io.ReadAll(blob)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) trace(p routing.Principal, doc string) *routing.Trace {
	e.t.Helper()
	tr, err := e.hub.Trace(context.Background(), p, doc)
	if err != nil {
		e.t.Fatalf("Trace: %v", err)
	}
	return tr
}

func steps(r routing.TraceRecipient) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Step)
	}
	return out
}

func recipient(t *testing.T, tr *routing.Trace, c agencyids.Code) routing.TraceRecipient {
	t.Helper()
	for _, r := range tr.Recipients {
		if r.Agency == c {
			return r
		}
	}
	t.Fatalf("trace has no recipient %s: %+v", c, tr.Recipients)
	return routing.TraceRecipient{}
}

func TestAcceptPullFetchAck(t *testing.T) {
	e := newEnv(t, "")
	pkt := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14}, Number: "12", Notation: "VPCP-KSTT", Attachment: bytes.Repeat([]byte("%PDF"), 5000)})
	rc := e.accept(agencyP(g22), pkt)
	if rc.Kind != "document" || rc.From != g22 || len(rc.Recipients) != 2 || rc.Digest != archive.Sum(pkt) {
		t.Fatalf("receipt %+v", rc)
	}
	for _, r := range rc.Recipients {
		if r.Route != routing.RoutePull || r.State != routing.StateQueued || r.DeliveryID == "" {
			t.Fatalf("recipient %+v", r)
		}
	}
	for _, c := range []agencyids.Code{h41, h14} {
		items := e.inbox(c)
		if len(items) != 1 || items[0].DocumentID != rc.ID || items[0].From != g22 || items[0].Number != "12" {
			t.Fatalf("inbox of %s: %+v", c, items)
		}
		// Pulling twice gives the same delivery and the same bytes.
		first := e.fetch(c, items[0].DeliveryID)
		again := e.inbox(c)
		if len(again) != 1 || again[0].DeliveryID != items[0].DeliveryID || again[0].State != routing.StatePulled {
			t.Fatalf("inbox after fetch: %+v", again)
		}
		if !bytes.Equal(first, pkt) || !bytes.Equal(e.fetch(c, items[0].DeliveryID), pkt) {
			t.Fatal("fetched bytes differ from the original")
		}
	}
	// H41 acks; H14 does not.
	d := e.inbox(h41)[0].DeliveryID
	info, err := e.hub.Ack(context.Background(), agencyP(h41), d)
	if err != nil || info.State != routing.StateAcked {
		t.Fatalf("Ack: %+v %v", info, err)
	}
	if _, err := e.hub.Ack(context.Background(), agencyP(h41), d); err != nil {
		t.Fatalf("second Ack: %v", err)
	}
	if n := len(e.inbox(h41)); n != 0 {
		t.Fatalf("acked delivery still in the inbox (%d)", n)
	}
	tr := e.trace(agencyP(g22), rc.ID)
	if got := []string{tr.Steps[0].Step, tr.Steps[1].Step}; !slices.Equal(got, []string{"accepted", "archived"}) {
		t.Fatalf("document steps %v", got)
	}
	if got, want := steps(recipient(t, tr, h41)), []string{"queued", "pulled", "fetched", "acked", "arrived"}; !slices.Equal(got, want) {
		t.Fatalf("H41 steps %v, want %v", got, want)
	}
	if got, want := steps(recipient(t, tr, h14)), []string{"queued", "pulled", "fetched"}; !slices.Equal(got, want) {
		t.Fatalf("H14 steps %v, want %v", got, want)
	}
	// A recipient sees its own part only.
	if tr := e.trace(agencyP(h14), rc.ID); len(tr.Recipients) != 1 || tr.Recipients[0].Agency != h14 {
		t.Fatalf("H14's trace shows %+v", tr.Recipients)
	}
	// The chain holds every step and still verifies.
	if _, _, err := archive.VerifyChain(e.store.AuditAll(context.Background())); err != nil {
		t.Fatal(err)
	}
}

func TestOthersSeeNothing(t *testing.T) {
	e := newEnv(t, "")
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}}))
	del := rc.Recipients[0].DeliveryID
	ctx := context.Background()
	outsider := agencyP(h14)
	if _, _, err := e.hub.FetchDelivery(ctx, outsider, del); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("outsider fetch: %v", err)
	}
	if _, err := e.hub.Ack(ctx, outsider, del); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("outsider ack: %v", err)
	}
	if _, err := e.hub.Trace(ctx, outsider, rc.ID); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("outsider trace: %v", err)
	}
	if _, _, err := e.hub.OpenDocument(ctx, outsider, rc.ID); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("outsider open: %v", err)
	}
	if _, err := e.hub.Inbox(ctx, routing.Principal{Role: routing.RoleAuditor, Name: "a"}, "", 10); !errors.Is(err, routing.ErrForbidden) {
		t.Errorf("auditor inbox: %v", err)
	}
	// Auditors read everything.
	if _, blob, err := e.hub.OpenDocument(ctx, routing.Principal{Role: routing.RoleAuditor, Name: "a"}, rc.ID); err != nil {
		t.Errorf("auditor open: %v", err)
	} else {
		blob.Close()
	}
	if _, err := e.hub.Trace(ctx, agencyP(g22), "not-an-id"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("bad id: %v", err)
	}
}

func TestAcceptRefusals(t *testing.T) {
	e := newEnv(t, "")
	fixturePKI(t)
	unsigned, err := ags[g22].Document(hubtest.Doc{To: []agencyids.Code{h41}})
	if err != nil {
		t.Fatal(err)
	}
	// G22's packet signed with H41's key.
	wrongKey, err := ags[h41].Sign(unsigned)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Subject: "Nguyên bản"}), []byte("Nguyên bản"), []byte("Sửa đổi"), 1)
	cases := []struct {
		name string
		p    routing.Principal
		body []byte
		want error
	}{
		{"unsigned document", agencyP(g22), unsigned, routing.ErrSignatureRequired},
		{"signed by another agency", agencyP(g22), wrongKey, routing.ErrSignature},
		{"altered after signing", agencyP(g22), tampered, routing.ErrSignature},
		{"sending as another agency", agencyP(h41), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h14}}), routing.ErrForbidden},
		{"auditor sends", routing.Principal{Role: routing.RoleAuditor, Name: "x"}, unsigned, routing.ErrForbidden},
		{"not XML", agencyP(g22), []byte("hello"), routing.ErrInvalidPacket},
		{"DTD", agencyP(g22), []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>`), routing.ErrInvalidPacket},
		{"no route", agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{g17}}), routing.ErrNoRoute},
		{"status about an unknown document", agencyP(h41), e.status(h41, envelope.StatusArrived, "000.00.00.G22,2026/01/01,9/X", g22), routing.ErrNoRoute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.hub.Accept(context.Background(), c.p, bytes.NewReader(c.body), int64(len(c.body)))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// Too large, declared or not.
	small := newEnv(t, "", func(o *routing.Options) { o.MaxPacket = 4096 })
	big := small.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Attachment: make([]byte, 8192)})
	for _, size := range []int64{int64(len(big)), -1} {
		if _, err := small.hub.Accept(context.Background(), agencyP(g22), bytes.NewReader(big), size); !errors.Is(err, routing.ErrTooLarge) {
			t.Fatalf("size %d: %v", size, err)
		}
	}
	// Nothing of the refused packets was stored: no blob, no document, and
	// the audit log holds only the refusals.
	for _, env := range []*env{e, small} {
		if n := countBlobs(t, env.blobs); n != 0 {
			t.Fatalf("%d blobs stored for refused packets", n)
		}
		for ev, err := range env.store.AuditAll(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != "document.rejected" && !strings.HasPrefix(ev.Kind, "directory.") && !strings.HasPrefix(ev.Kind, "member.") {
				t.Fatalf("audit event %s after refusals only", ev.Kind)
			}
		}
	}
}

func countBlobs(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	matches, _ := filepath.Glob(filepath.Join(dir, "sha256", "*", "*", "*"))
	n += len(matches)
	return n
}

func TestDuplicates(t *testing.T) {
	e := newEnv(t, "")
	pkt := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "7", Notation: "VPCP-TH"})
	first := e.accept(agencyP(g22), pkt)
	var dup *routing.DuplicateError
	_, err := e.hub.Accept(context.Background(), agencyP(g22), bytes.NewReader(pkt), -1)
	if !errors.As(err, &dup) || dup.FirstID != first.ID {
		t.Fatalf("same packet again: %v", err)
	}
	// Another DocumentId with the same number and notation from the same issuer.
	other := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "7", Notation: "VPCP-TH", EdxmlID: "000.00.00.G22,2026/11/29,7/VPCP-TH-bis"})
	_, err = e.hub.Accept(context.Background(), agencyP(g22), bytes.NewReader(other), -1)
	if !errors.As(err, &dup) || dup.FirstID != first.ID {
		t.Fatalf("same number/notation: %v", err)
	}
	if n := len(e.inbox(h41)); n != 1 {
		t.Fatalf("inbox holds %d deliveries, want 1", n)
	}
	// The refused repeat (other bytes) left no original in the archive.
	if n := countBlobs(t, e.blobs); n != 1 {
		t.Fatalf("%d originals archived, want 1", n)
	}
}

func TestStatusesAndRecall(t *testing.T) {
	e := newEnv(t, "")
	pkt := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14}})
	rc := e.accept(agencyP(g22), pkt)
	for _, code := range []envelope.StatusCode{envelope.StatusArrived, envelope.StatusAccepted, envelope.StatusFinished} {
		src := e.accept(agencyP(h41), e.status(h41, code, rc.EdxmlID, g22))
		if src.Ref != rc.ID || src.Recipients[0].Agency != g22 {
			t.Fatalf("status receipt %+v", src)
		}
	}
	// Status 05 repeats; 03 does not.
	e.accept(agencyP(h41), e.status(h41, envelope.StatusProcessing, rc.EdxmlID, g22))
	e.accept(agencyP(h41), e.status(h41, envelope.StatusProcessing, rc.EdxmlID, g22))
	var dup *routing.DuplicateError
	if _, err := e.hub.Accept(context.Background(), agencyP(h41), bytes.NewReader(e.status(h41, envelope.StatusAccepted, rc.EdxmlID, g22)), -1); !errors.As(err, &dup) {
		t.Fatalf("repeated 03: %v", err)
	}
	// Only a recipient reports; only the sender recalls.
	if _, err := e.hub.Accept(context.Background(), agencyP(g17), bytes.NewReader(e.status(g17, envelope.StatusArrived, rc.EdxmlID, g22)), -1); !errors.Is(err, routing.ErrForbidden) {
		t.Fatalf("status from a non-member: %v", err)
	}
	if _, err := e.hub.Accept(context.Background(), agencyP(h14), bytes.NewReader(e.status(h14, envelope.StatusRecallRequest, rc.EdxmlID, h41)), -1); !errors.Is(err, routing.ErrForbidden) {
		t.Fatalf("recall from a recipient: %v", err)
	}
	// The sender's inbox holds the statuses, in order.
	var codes []string
	for _, it := range e.inbox(g22) {
		if it.Kind != "status" || it.Ref != rc.ID {
			t.Fatalf("sender inbox item %+v", it)
		}
		codes = append(codes, it.StatusCode)
	}
	if !slices.Equal(codes, []string{"01", "03", "06", "05", "05"}) {
		t.Fatalf("sender inbox statuses %v", codes)
	}
	// Recall: 13 from the sender to H14, 15 back.
	r13 := e.accept(agencyP(g22), e.status(g22, envelope.StatusRecallRequest, rc.EdxmlID, h14))
	if r13.Recipients[0].Agency != h14 {
		t.Fatalf("recall goes to %+v", r13.Recipients)
	}
	items := e.inbox(h14)
	if len(items) != 2 || items[1].StatusCode != "13" {
		t.Fatalf("H14 inbox %+v", items)
	}
	e.accept(agencyP(h14), e.status(h14, envelope.StatusChangeAccepted, rc.EdxmlID, g22))
	tr := e.trace(agencyP(g22), rc.ID)
	var got41, got14 []string
	for _, s := range recipient(t, tr, h41).Statuses {
		got41 = append(got41, s.Code)
	}
	for _, s := range recipient(t, tr, h14).Statuses {
		got14 = append(got14, s.Code)
	}
	if !slices.Equal(got41, []string{"01", "03", "06", "05", "05"}) || !slices.Equal(got14, []string{"13", "15"}) {
		t.Fatalf("trace statuses H41 %v H14 %v", got41, got14)
	}
	if s := recipient(t, tr, h41).Statuses[0]; s.NameVI == "" || s.Name == "" {
		t.Fatalf("status names missing: %+v", s)
	}
}

func TestRevocationUpdateReplacement(t *testing.T) {
	e := newEnv(t, "")
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "30", Notation: "VPCP"}))
	rev := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "30", Notation: "VPCP", EdxmlID: rc.EdxmlID,
		Business: &envelope.Business{DocType: envelope.BusinessRevocation, Reason: "Ban hành nhầm", Staff: envelope.StaffInfo{Staff: "Văn thư"}}}))
	if rev.Ref != rc.ID {
		t.Fatalf("revocation refers to %q, want %q", rev.Ref, rc.ID)
	}
	upd := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "30", Notation: "VPCP", EdxmlID: rc.EdxmlID,
		Business: &envelope.Business{DocType: envelope.BusinessUpdate, DocumentID: rc.EdxmlID, Reason: "Sửa trích yếu", Staff: envelope.StaffInfo{Staff: "Văn thư"},
			DocumentInfo: &envelope.BusinessDocumentInfo{DocumentInfo: ptr(1), DocumentReceiver: ptr(0)}}}))
	if upd.Ref != rc.ID {
		t.Fatalf("update refers to %q", upd.Ref)
	}
	rep := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "31", Notation: "VPCP",
		Business: &envelope.Business{DocType: envelope.BusinessReplacement, Reason: "Thay thế", Staff: envelope.StaffInfo{Staff: "Văn thư"},
			Replacements: []envelope.ReplacementInfo{{DocumentID: rc.EdxmlID, OrganIDs: []agencyids.Code{h41}}}}}))
	if rep.Ref != rc.ID {
		t.Fatalf("replacement refers to %q", rep.Ref)
	}
	tr := e.trace(agencyP(g22), rc.ID)
	var doc []string
	for _, s := range tr.Steps {
		doc = append(doc, s.Step)
	}
	if !slices.Equal(doc, []string{"accepted", "archived", "revoked", "updated", "replaced"}) {
		t.Fatalf("document steps %v", doc)
	}
	if n := len(e.inbox(h41)); n != 4 {
		t.Fatalf("H41 has %d deliveries, want 4", n)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPushDelivery(t *testing.T) {
	fixturePKI(t)
	var (
		mu    sync.Mutex
		got   [][]byte
		fails = 2
		hdr   http.Header
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		got, hdr = append(got, b), r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	hubKey := ags[g17].Leaf.Key // any RSA key signs for the test
	e := newEnv(t, srv.URL, func(o *routing.Options) {
		o.Transport = srv.Client().Transport
		o.HubKey = hubKey
	})
	stop := e.runWorker()
	pkt := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53, h41}})
	rc := e.accept(agencyP(g22), pkt)
	var del string
	for _, r := range rc.Recipients {
		if r.Agency == h53 {
			del = r.DeliveryID
			if r.Route != routing.RoutePush {
				t.Fatalf("H53 route %s", r.Route)
			}
		}
	}
	waitState(t, e, del, routing.StateDelivered)
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !bytes.Equal(got[0], pkt) {
		t.Fatalf("endpoint got %d bodies", len(got))
	}
	if hdr.Get("Edocgw-Delivery-Id") != del || hdr.Get("Edocgw-Document-Id") != rc.ID {
		t.Fatalf("headers %v", hdr)
	}
	sig, _ := base64.StdEncoding.DecodeString(hdr.Get("Edocgw-Signature"))
	msg := "edocgw-push-v1\n" + del + "\n" + rc.ID + "\n" + rc.Digest.String() + "\n" + hdr.Get("Edocgw-Timestamp")
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&hubKey.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("push signature: %v", err)
	}
	r := recipient(t, e.trace(agencyP(g22), rc.ID), h53)
	if got, want := steps(r), []string{"queued", "attempt-failed", "attempt-failed", "pushed"}; !slices.Equal(got, want) || r.Attempts != 3 {
		t.Fatalf("push steps %v attempts %d", got, r.Attempts)
	}
}

func TestPushPermanentFailureIsDead(t *testing.T) {
	fixturePKI(t)
	var calls int
	var mu sync.Mutex
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		http.Error(w, "no such mailbox", http.StatusNotFound)
	}))
	defer srv.Close()
	// An endpoint whose certificate is not trusted is permanent too.
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer untrusted.Close()
	for _, c := range []struct {
		name, url string
		rt        http.RoundTripper
	}{{"404", srv.URL, srv.Client().Transport}, {"untrusted certificate", untrusted.URL, nil}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.url, func(o *routing.Options) { o.Transport = c.rt })
			stop := e.runWorker()
			rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53}}))
			waitState(t, e, rc.Recipients[0].DeliveryID, routing.StateDead)
			stop()
			r := recipient(t, e.trace(agencyP(g22), rc.ID), h53)
			if r.Attempts != 1 || r.LastError == "" {
				t.Fatalf("dead after %d attempts: %q", r.Attempts, r.LastError)
			}
		})
	}
	if calls != 1 {
		t.Fatalf("the 404 endpoint was called %d times", calls)
	}
}

func TestRetryHorizonDeadLetters(t *testing.T) {
	fixturePKI(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	e := newEnv(t, srv.URL, func(o *routing.Options) {
		o.Transport = srv.Client().Transport
		o.DeadAfter = 200 * time.Millisecond
	})
	stop := e.runWorker()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53}}))
	waitState(t, e, rc.Recipients[0].DeliveryID, routing.StateDead)
	stop()
	r := recipient(t, e.trace(agencyP(g22), rc.ID), h53)
	if r.Attempts < 2 || steps(r)[len(r.Steps)-1] != "dead" {
		t.Fatalf("attempts %d steps %v", r.Attempts, steps(r))
	}
}

// runWorker runs the delivery worker until stop is called.
func (e *env) runWorker() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.hub.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	}
}

func waitState(t *testing.T, e *env, id string, want routing.DeliveryState) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err := e.store.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.State == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	d, _ := e.store.Delivery(context.Background(), id)
	t.Fatalf("delivery %s is %s (%s), want %s", id, d.State, d.LastError, want)
}

// An ack records the delivery as arrived only when the recipient sent no
// status 01 about the document: by Ack, and by AckMany through the
// store's one read of a page's statuses and one by one.
func TestAckArrivedUnlessStatus01(t *testing.T) {
	modes := []struct {
		name string
		opts []func(*routing.Options)
		many bool
	}{{name: "Ack"}}
	for _, m := range batchModes {
		modes = append(modes, struct {
			name string
			opts []func(*routing.Options)
			many bool
		}{"AckMany " + m.name, m.opts, true})
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t, "", m.opts...)
			ctx := context.Background()
			pkt := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14}})
			rc := e.accept(agencyP(g22), pkt)
			edxmlID, err := hubtest.EdxmlID(pkt)
			if err != nil {
				t.Fatal(err)
			}
			e.accept(agencyP(h41), e.status(h41, envelope.StatusArrived, edxmlID, g22))
			// H14 reports something else before acking: still recorded as arrived.
			e.accept(agencyP(h14), e.status(h14, envelope.StatusCode(2), edxmlID, g22))
			for _, c := range []agencyids.Code{h41, h14} {
				d := e.inbox(c)[0].DeliveryID
				e.fetch(c, d)
				if !m.many {
					if _, err := e.hub.Ack(ctx, agencyP(c), d); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if res, err := e.hub.AckMany(ctx, agencyP(c), []string{d}); err != nil || res[0].Err != nil {
					t.Fatalf("AckMany: %+v, %v", res, err)
				}
			}
			events, err := e.store.DocumentEvents(ctx, rc.ID)
			if err != nil {
				t.Fatal(err)
			}
			arrived := map[agencyids.Code]int{}
			for _, ev := range events {
				if ev.Kind == "delivery.arrived" {
					arrived[ev.Agency]++
				}
			}
			if arrived[h41] != 0 || arrived[h14] != 1 {
				t.Fatalf("delivery.arrived by agency %v; want H14 once only", arrived)
			}
		})
	}
}
