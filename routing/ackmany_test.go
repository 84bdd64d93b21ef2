package routing_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

// TestAckMany: a batch acknowledgement answers each id in its place as
// Ack would (acked, already acked, named twice, not found, another's),
// records the same steps and audits the refusal; through the store's one
// read and one transaction and through Ack one by one alike.
func TestAckMany(t *testing.T) {
	for _, tc := range batchModes {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, "", tc.opts...)
			rcA := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "40", Notation: "VPCP"}))
			rcB := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "41", Notation: "VPCP"}))
			e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h14}, Number: "42", Notation: "VPCP"}))
			inbox := e.inbox(h41)
			if len(inbox) != 2 {
				t.Fatalf("inbox of H41: %+v", inbox)
			}
			dA, dB := inbox[0].DeliveryID, inbox[1].DeliveryID
			e.fetch(h41, dA)
			dC := e.inbox(h14)[0].DeliveryID
			refusals := countKind(t, e, "auth.refused")

			res, err := e.hub.AckMany(ctx, agencyP(h41), []string{dA, "no such id", dB, dC, dA})
			if err != nil || len(res) != 5 {
				t.Fatalf("AckMany: %d results, %v", len(res), err)
			}
			for i, want := range []struct {
				id    string
				found bool
			}{{dA, true}, {"no such id", false}, {dB, true}, {dC, false}, {dA, true}} {
				r := res[i]
				switch {
				case r.ID != want.id:
					t.Errorf("result %d is %q, want %q", i, r.ID, want.id)
				case want.found && (r.Err != nil || r.Info == nil || r.Info.ID != want.id || r.Info.State != routing.StateAcked):
					t.Errorf("result %d: %+v, want acked", i, r)
				case !want.found && (r.Info != nil || !errors.Is(r.Err, routing.ErrNotFound)):
					t.Errorf("result %d: %+v, want not found", i, r)
				}
			}
			if got := countKind(t, e, "auth.refused"); got != refusals+1 {
				t.Errorf("%d refusals audited, want %d", got-refusals, 1)
			}
			if n := len(e.inbox(h41)); n != 0 {
				t.Errorf("acked deliveries still in the inbox (%d)", n)
			}
			if n := len(e.inbox(h14)); n != 1 {
				t.Errorf("H14's delivery left its inbox (%d)", n)
			}
			for doc, want := range map[string][]string{rcA.ID: {"queued", "pulled", "acked", "arrived"}, rcB.ID: {"queued", "acked", "arrived"}} {
				if got := steps(recipient(t, e.trace(agencyP(g22), doc), h41)); !slices.Equal(got, want) {
					t.Errorf("steps of %s: %v, want %v", doc, got, want)
				}
			}

			// Again: already acked, nothing more recorded.
			before := countKind(t, e, "")
			res, err = e.hub.AckMany(ctx, agencyP(h41), []string{dB, dA})
			if err != nil || len(res) != 2 || res[0].Info == nil || res[0].Info.State != routing.StateAcked ||
				res[1].Info == nil || res[1].Info.State != routing.StateAcked {
				t.Fatalf("second AckMany: %+v %v", res, err)
			}
			if after := countKind(t, e, ""); after != before {
				t.Errorf("second AckMany recorded %d events", after-before)
			}
			if _, err := e.hub.AckMany(ctx, agencyP(h41), nil); !errors.Is(err, routing.ErrBadRequest) {
				t.Errorf("no ids: %v, want ErrBadRequest", err)
			}
			if _, err := e.hub.AckMany(ctx, routing.Principal{Role: routing.RoleAuditor}, []string{dA}); !errors.Is(err, routing.ErrForbidden) {
				t.Errorf("an auditor: %v, want ErrForbidden", err)
			}
			if _, _, err := archive.VerifyChain(e.store.AuditAll(ctx)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// batchModes run a batch request through the store's batch methods and,
// with a store that hides them, through the one-delivery methods.
var batchModes = []struct {
	name string
	opts []func(*routing.Options)
}{
	{"batch", nil},
	{"one by one", []func(*routing.Options){func(o *routing.Options) { o.Store = struct{ routing.Store }{o.Store} }}},
}

// countKind counts the audit events of a kind ("": all).
func countKind(t *testing.T, e *env, kind string) int {
	t.Helper()
	n := 0
	for ev, err := range e.store.AuditAll(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if kind == "" || ev.Kind == kind {
			n++
		}
	}
	return n
}
