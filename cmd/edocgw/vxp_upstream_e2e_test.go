package main_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/routing"
)

// A provincial hub reaches its upstream through a peer of kind vxp: the
// upstream (an `edocgw serve` playing the national axis) knows the
// province only as an SDK system, 00.53.W00, that its agency is
// registered under. Documents and statuses go up with sendEdoc and come
// down with getReceivedEdocList → getEdoc → updateStatus; while the
// upstream is down the province retries, and nothing is lost or doubled.
func TestVXPUpstream(t *testing.T) {
	pki, err := hubtest.NewPKI(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.WriteRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, gov := newParty(t, pki, sender, "UBND tỉnh Tây Ninh"), newParty(t, pki, remote, "Văn phòng Chính phủ")

	axis := newGateway(t, embedded(), root, "--vxp-prefix", vxp.DefaultPrefix)
	axis.start()
	prov := newGateway(t, embedded(), root, "--vxp-poll", "300ms", "--retry-base", "200ms", "--retry-max", "1s")
	prov.start()

	// The axis: its own agency, and the province's agency under the
	// province's SDK system (a pull member, as the axis keeps it).
	axis.admin("agency", "add", string(remote), "--name", gov.a.Name, "--cert", gov.cert, "--token-file", gov.tok)
	axis.admin("agency", "add", string(sender), "--name", s.a.Name, "--cert", s.cert)
	const system = "00.53.W00"
	secret := filepath.Join(t.TempDir(), "axis-issued.secret")
	axis.admin("vxp", "system", "add", system, "--agency", string(sender), "--secret-file", secret)
	// The province: its agency, and the axis as a vxp peer for everything else.
	prov.admin("agency", "add", string(sender), "--name", s.a.Name, "--cert", s.cert, "--token-file", s.tok)
	prov.admin("agency", "add", string(remote), "--name", gov.a.Name, "--cert", gov.cert, "--directory-only")
	prov.admin("peer", "add", "axis", "--kind", "vxp", "--url", axis.url+vxp.DefaultPrefix, "--ca", axis.ca,
		"--system-id", system, "--secret-file", secret)
	prov.admin("route", "add", "*", "axis")
	if out := prov.admin("peer", "list"); !strings.Contains(out, "axis vxp system="+system) {
		t.Fatalf("peer list: %s", out)
	}

	send := func(g *gateway, p *party, what string, b []byte, cmd string) string {
		t.Helper()
		f := p.write(t, fmt.Sprintf("%s-%d.edxml", what, time.Now().UnixNano()), b)
		out, errs, code := g.client(cmd, f, "--token-file", p.tok)
		if code != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
			t.Fatalf("%s %s: %d %s%s", cmd, what, code, out, errs)
		}
		return strings.Fields(out)[1]
	}
	// receive waits for a delivery in p's inbox at g that satisfies ok,
	// fetches and acks it, and returns the bytes and the inbox entry.
	receive := func(g *gateway, p *party, what string, ok func(routing.InboxEntry) bool) ([]byte, routing.InboxEntry) {
		t.Helper()
		var e routing.InboxEntry
		eventually(t, 60*time.Second, func() error {
			out, errs, code := g.client("inbox", "--json", "--token-file", p.tok)
			if code != 0 {
				return fmt.Errorf("inbox: %d %s%s", code, out, errs)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l == "" {
					continue
				}
				if e = decode[routing.InboxEntry](t, []byte(l)); ok(e) {
					return nil
				}
			}
			return fmt.Errorf("no %s in %s's inbox yet: %s", what, p.a.Code, out)
		})
		got := filepath.Join(p.dir, "got-"+e.DeliveryID)
		if out, errs, code := g.client("fetch", e.DeliveryID, "-o", got, "--ack", "--token-file", p.tok); code != 0 {
			t.Fatalf("fetch %s: %d %s%s", what, code, out, errs)
		}
		b, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		return b, e
	}
	// trace reads a document's trace as the agency whose token it is.
	trace := func(g *gateway, tok, id string) routing.Trace {
		t.Helper()
		out, errs, code := g.client("trace", id, "--json", "--token-file", tok)
		if code != 0 {
			t.Fatalf("trace %s: %d %s", id, code, errs)
		}
		return decode[routing.Trace](t, []byte(out))
	}
	steps := func(ss []routing.Step) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Step)
		}
		return out
	}
	isDoc := func(e routing.InboxEntry) bool { return e.Kind == "document" }
	isStatus := func(code envelope.StatusCode) func(routing.InboxEntry) bool {
		return func(e routing.InboxEntry) bool { return e.StatusCode == fmt.Sprintf("%02d", int(code)) }
	}
	status := func(p *party, code envelope.StatusCode, edxmlID string, to agencyids.Code) []byte {
		t.Helper()
		b, err := p.a.Status(code, edxmlID, to, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	codes := []envelope.StatusCode{envelope.StatusArrived, envelope.StatusAccepted, envelope.StatusFinished}

	// Up: the province sends to the Government Office; the axis has it
	// byte for byte, and its statuses come down.
	up, err := s.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{remote}, Number: "301", Notation: "UBND-VP", Subject: "Báo cáo lên Trục quốc gia"})
	if err != nil {
		t.Fatal(err)
	}
	upID := send(prov, s, "up", up, "send")
	if got, _ := receive(axis, gov, "the province's document", isDoc); !bytes.Equal(got, up) {
		t.Fatalf("the axis delivered %d bytes that differ from the %d sent", len(got), len(up))
	}
	upEdxml, _ := hubtest.EdxmlID(up)
	for _, c := range codes {
		send(axis, gov, "status", status(gov, c, upEdxml, sender), "status")
		receive(prov, s, fmt.Sprintf("status %02d", int(c)), isStatus(c))
	}

	// Down: the Government Office sends to the province through the axis's
	// SDK inbox of 00.53.W00, which the province polls; its statuses go up.
	down, err := gov.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{sender}, Number: "77", Notation: "VPCP-TH", Subject: "Thông báo kết luận"})
	if err != nil {
		t.Fatal(err)
	}
	downID := send(axis, gov, "down", down, "send")
	got, pulled := receive(prov, s, "the Government Office's document", isDoc)
	if !bytes.Equal(got, down) {
		t.Fatal("the province received other bytes than the axis took in")
	}
	downEdxml, _ := hubtest.EdxmlID(down)
	for _, c := range codes {
		send(prov, s, "status", status(s, c, downEdxml, remote), "status")
		receive(axis, gov, fmt.Sprintf("status %02d", int(c)), isStatus(c))
	}

	// The upstream goes down: a document sent meanwhile waits, retried, and
	// goes up once when the axis is back.
	axis.kill()
	late, err := s.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{remote}, Number: "302", Notation: "UBND-VP", Subject: "Gửi khi trục gián đoạn"})
	if err != nil {
		t.Fatal(err)
	}
	lateID := send(prov, s, "late", late, "send")
	eventually(t, 30*time.Second, func() error {
		for _, r := range trace(prov, s.tok, lateID).Recipients {
			if r.Attempts >= 2 && r.State == routing.StateQueued && r.LastError != "" {
				return nil
			}
		}
		return fmt.Errorf("no failed attempts yet")
	})
	axis.start()
	if got, _ := receive(axis, gov, "the document sent during the outage", isDoc); !bytes.Equal(got, late) {
		t.Fatal("the late document differs")
	}
	time.Sleep(2 * time.Second) // time for a second copy, were one coming
	if out, _, _ := axis.client("inbox", "--json", "--token-file", gov.tok); strings.TrimSpace(out) != "" {
		t.Fatalf("the axis delivered more than once: %s", out)
	}
	if out, _, _ := prov.client("inbox", "--json", "--token-file", s.tok); strings.TrimSpace(out) != "" {
		t.Fatalf("the province holds more than was sent to it: %s", out)
	}

	// The traces show every step, on both hubs.
	tr := trace(prov, s.tok, upID)
	if len(tr.Recipients) != 1 || tr.Recipients[0].Route != routing.RoutePeer || tr.Recipients[0].State != routing.StateDelivered ||
		tr.Recipients[0].Remote == "" || !slices.Contains(steps(tr.Recipients[0].Steps), "forwarded") || len(tr.Recipients[0].Statuses) != 3 {
		t.Errorf("the province's trace of its document: %+v", tr)
	}
	if r := trace(prov, s.tok, lateID).Recipients[0]; r.State != routing.StateDelivered ||
		!slices.Contains(steps(r.Steps), "attempt-failed") || !slices.Contains(steps(r.Steps), "forwarded") {
		t.Errorf("the late document's trace: %+v", r)
	}
	tr = trace(axis, gov.tok, downID)
	if len(tr.Recipients) != 1 || tr.Recipients[0].State != routing.StateAcked || len(tr.Recipients[0].Statuses) != 3 {
		t.Errorf("the axis's trace of its document: %+v", tr)
	}
	tr = trace(prov, s.tok, pulled.DocumentID)
	if !slices.Contains(steps(tr.Steps), "pulled-from-peer") || !slices.Contains(steps(tr.Steps), "accepted") || len(tr.Recipients) != 1 ||
		tr.Recipients[0].State != routing.StateAcked {
		t.Errorf("the province's trace of the document it pulled: %+v", tr)
	}
}
