package routing_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

// TestExportBundle exports a document whose events are spread over three
// checkpoints (and past the last one): the bundle holds one segment per
// checkpoint, a fresh checkpoint for the tail, and verifies offline with
// the hub certificate.
func TestExportBundle(t *testing.T) {
	fixturePKI(t)
	hubAgency := ags[g17] // its key and certificate stand in for the hub's
	e := newEnv(t, "", func(o *routing.Options) {
		o.HubKey, o.HubCert = hubAgency.Leaf.Key, hubAgency.Leaf.Cert
	})
	ctx := context.Background()
	cp := &archive.Checkpointer{Store: e.store, Key: hubAgency.Leaf.Key}
	checkpoint := func() {
		t.Helper()
		if _, err := cp.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pkt := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14}})
	rc := e.accept(agencyP(g22), pkt)
	checkpoint()
	// Unrelated traffic between the document's events.
	for i := range 5 {
		e.accept(agencyP(h41), e.signed(h41, hubtest.Doc{To: []agencyids.Code{h14}, Number: string(rune('a' + i))}))
	}
	del := e.inbox(h41)[0].DeliveryID
	e.fetch(h41, del)
	checkpoint()
	e.accept(agencyP(h41), e.status(h41, envelope.StatusArrived, rc.EdxmlID, g22))
	checkpoint()
	e.accept(agencyP(h41), e.status(h41, envelope.StatusAccepted, rc.EdxmlID, g22))

	auditor := routing.Principal{Role: routing.RoleAuditor, Name: "kiem-toan"}
	if _, err := e.hub.ExportBundle(ctx, agencyP(g22), rc.ID); !errors.Is(err, routing.ErrForbidden) {
		t.Fatalf("an agency exports: %v", err)
	}
	exp, err := e.hub.ExportBundle(ctx, auditor, rc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if err := exp.Write(&zip); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Open(bytes.NewReader(zip.Bytes()), int64(zip.Len()), hubAgency.Leaf.Cert)
	if err != nil {
		t.Fatalf("the exported bundle does not verify: %v", err)
	}
	rep := b.Report()
	if rep.DocumentID != rc.ID || rep.Digest != rc.Digest || rep.Checkpoints < 3 || rep.SelfAsserted {
		t.Fatalf("report %+v", rep)
	}
	var kinds []string
	for _, ev := range rep.DocumentEvents {
		kinds = append(kinds, ev.Kind)
	}
	for _, k := range []string{"document.accepted", "document.archived", "delivery.queued", "delivery.pulled", "status.received", "archive.exported"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("bundle lacks the document's %s event: %v", k, kinds)
		}
	}
	r, err := b.Original()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, pkt) {
		t.Fatalf("bundle original differs (%v)", err)
	}
	// The verification report says the signature was valid then.
	if !bytes.Contains(b.Verification(), []byte(`"valid":true`)) {
		t.Errorf("verification.json: %s", b.Verification())
	}
	// The exports were audited and the chain, with its new checkpoint, holds.
	cps, err := e.store.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		if err := c.Verify(hubAgency.Leaf.Cert.PublicKey); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := archive.VerifyChain(e.store.AuditAll(ctx), cps...); err != nil {
		t.Fatal(err)
	}
}
