package routing_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

// TestFetchMany: a batch fetch answers each id in its place as
// FetchDelivery would (the original of a queued delivery, now pulled; of
// one pulled before; not found; another's, with the refusal audited),
// records one access each, and refuses as a whole what concerns them all;
// through the store's one read and one transaction and through
// FetchDelivery one by one alike.
func TestFetchMany(t *testing.T) {
	for _, tc := range batchModes {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, "", tc.opts...)
			a := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "50", Notation: "VPCP"})
			b := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "51", Notation: "VPCP"})
			rcA, rcB := e.accept(agencyP(g22), a), e.accept(agencyP(g22), b)
			e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h14}, Number: "52", Notation: "VPCP"}))
			inbox := e.inbox(h41)
			if len(inbox) != 2 {
				t.Fatalf("inbox of H41: %+v", inbox)
			}
			dA, dB := inbox[0].DeliveryID, inbox[1].DeliveryID
			e.fetch(h41, dA)
			dC := e.inbox(h14)[0].DeliveryID
			refusals, pulls, fetches := countKind(t, e, "auth.refused"), countKind(t, e, "delivery.pulled"), countKind(t, e, "delivery.fetched")

			res, err := e.hub.FetchMany(ctx, agencyP(h41), []string{dA, "no such id", dB, dC})
			if err != nil || len(res) != 4 {
				t.Fatalf("FetchMany: %d results, %v", len(res), err)
			}
			for i, want := range []struct {
				id       string
				original []byte
			}{{dA, a}, {"no such id", nil}, {dB, b}, {dC, nil}} {
				r := res[i]
				switch {
				case r.ID != want.id:
					t.Errorf("result %d is %q, want %q", i, r.ID, want.id)
				case want.original == nil && (r.Info != nil || r.Blob != nil || !errors.Is(r.Err, routing.ErrNotFound)):
					t.Errorf("result %d: %+v, want not found", i, r)
				case want.original != nil && (r.Err != nil || r.Info == nil || r.Info.ID != want.id || r.Info.State != routing.StatePulled || r.Blob == nil):
					t.Errorf("result %d: %+v, want pulled", i, r)
				case want.original != nil:
					got, err := io.ReadAll(r.Blob)
					r.Blob.Close()
					if err != nil || !bytes.Equal(got, want.original) {
						t.Errorf("result %d: read %d bytes (%v), want the original's %d", i, len(got), err, len(want.original))
					}
				}
			}
			for kind, want := range map[string]int{"auth.refused": refusals + 1, "delivery.pulled": pulls + 1, "delivery.fetched": fetches + 1} {
				if got := countKind(t, e, kind); got != want {
					t.Errorf("%d %s events, want %d", got, kind, want)
				}
			}
			for doc, want := range map[string][]string{rcA.ID: {"queued", "pulled", "fetched"}, rcB.ID: {"queued", "pulled"}} {
				if got := steps(recipient(t, e.trace(agencyP(g22), doc), h41)); !slices.Equal(got, want) {
					t.Errorf("steps of %s: %v, want %v", doc, got, want)
				}
			}

			// Refused as a whole, with nothing recorded.
			before := countKind(t, e, "")
			for name, call := range map[string]func() error{
				"no ids":      func() error { _, err := e.hub.FetchMany(ctx, agencyP(h41), nil); return err },
				"named twice": func() error { _, err := e.hub.FetchMany(ctx, agencyP(h41), []string{dA, dB, dA}); return err },
				"too many": func() error {
					ids := make([]string, routing.MaxFetchBatch+1)
					for i := range ids {
						ids[i] = fmt.Sprint("dl", i)
					}
					_, err := e.hub.FetchMany(ctx, agencyP(h41), ids)
					return err
				},
			} {
				if err := call(); !errors.Is(err, routing.ErrBadRequest) {
					t.Errorf("%s: %v, want ErrBadRequest", name, err)
				}
			}
			if _, err := e.hub.FetchMany(ctx, routing.Principal{Role: routing.RoleAuditor}, []string{dA}); !errors.Is(err, routing.ErrForbidden) {
				t.Errorf("an auditor: %v, want ErrForbidden", err)
			}
			if after := countKind(t, e, ""); after != before {
				t.Errorf("refused requests recorded %d events", after-before)
			}
			if _, _, err := archive.VerifyChain(e.store.AuditAll(ctx)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFetchManyBudget: past the byte budget a delivery is left for a later
// request, unrecorded, but the first original is always sent.
func TestFetchManyBudget(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	for i := range 3 {
		e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: fmt.Sprint(60 + i), Notation: "VPCP"}))
	}
	inbox := e.inbox(h41)
	ids := []string{inbox[0].DeliveryID, inbox[1].DeliveryID, inbox[2].DeliveryID}
	defer routing.SetMaxFetchBytes(inbox[0].Size + inbox[1].Size)()
	pulls := countKind(t, e, "delivery.pulled")
	res, err := e.hub.FetchMany(ctx, agencyP(h41), []string{ids[2], ids[1], ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Blob != nil {
			r.Blob.Close()
		}
		if fetched := r.Err == nil; fetched != (i < 2) {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if !errors.Is(res[2].Err, routing.ErrTooLarge) {
		t.Errorf("past the budget: %v, want ErrTooLarge", res[2].Err)
	}
	if got := countKind(t, e, "delivery.pulled"); got != pulls+2 {
		t.Errorf("%d pulls recorded, want %d", got-pulls, 2)
	}

	// The first is sent whatever its size.
	routing.SetMaxFetchBytes(1)
	res, err = e.hub.FetchMany(ctx, agencyP(h41), []string{ids[0], ids[1]})
	if err != nil || res[0].Err != nil || res[0].Blob == nil || !errors.Is(res[1].Err, routing.ErrTooLarge) {
		t.Fatalf("budget of 1 byte: %+v %v", res, err)
	}
	res[0].Blob.Close()
}

// TestFetchNext: the next page of an inbox, fetched without naming ids,
// holds the caller's first deliveries as Inbox lists them, originals and
// all, each recorded as FetchMany records it; pulled but not acknowledged
// they come again; acknowledged they make way for the next; another
// agency's never appear; an empty inbox is an empty answer.
func TestFetchNext(t *testing.T) {
	for _, tc := range batchModes {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, "", tc.opts...)
			var originals [][]byte
			for i := range 3 {
				b := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: fmt.Sprint(60 + i), Notation: "VPCP"})
				e.accept(agencyP(g22), b)
				originals = append(originals, b)
			}
			e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h14}, Number: "70", Notation: "VPCP"}))
			inbox := e.inbox(h41)
			if len(inbox) != 3 {
				t.Fatalf("inbox of H41: %+v", inbox)
			}
			pulls, fetches := countKind(t, e, "delivery.pulled"), countKind(t, e, "delivery.fetched")

			check := func(res []routing.FetchResult, want ...int) {
				t.Helper()
				if len(res) != len(want) {
					t.Fatalf("%d results, want %d", len(res), len(want))
				}
				for k, i := range want {
					r := res[k]
					if r.ID != inbox[i].DeliveryID || r.Err != nil || r.Info == nil || r.Info.State != routing.StatePulled || r.Blob == nil {
						t.Fatalf("result %d: %+v, want delivery %s pulled", k, r, inbox[i].DeliveryID)
					}
					got, err := io.ReadAll(r.Blob)
					r.Blob.Close()
					if err != nil || !bytes.Equal(got, originals[i]) {
						t.Fatalf("result %d: read %d bytes (%v), want the original's %d", k, len(got), err, len(originals[i]))
					}
				}
			}
			res, err := e.hub.FetchNext(ctx, agencyP(h41), 2)
			if err != nil {
				t.Fatal(err)
			}
			check(res, 0, 1)
			if got := countKind(t, e, "delivery.pulled"); got != pulls+2 {
				t.Errorf("%d delivery.pulled events, want %d", got, pulls+2)
			}
			// Not acknowledged: the same two again, now fetched.
			res, err = e.hub.FetchNext(ctx, agencyP(h41), 2)
			if err != nil {
				t.Fatal(err)
			}
			check(res, 0, 1)
			if got := countKind(t, e, "delivery.fetched"); got != fetches+2 {
				t.Errorf("%d delivery.fetched events, want %d", got, fetches+2)
			}
			if _, err := e.hub.AckMany(ctx, agencyP(h41), []string{inbox[0].DeliveryID, inbox[1].DeliveryID}); err != nil {
				t.Fatal(err)
			}
			res, err = e.hub.FetchNext(ctx, agencyP(h41), 100)
			if err != nil {
				t.Fatal(err)
			}
			check(res, 2)
			if _, err := e.hub.AckMany(ctx, agencyP(h41), []string{inbox[2].DeliveryID}); err != nil {
				t.Fatal(err)
			}
			if res, err := e.hub.FetchNext(ctx, agencyP(h41), 100); err != nil || len(res) != 0 {
				t.Errorf("empty inbox: %d results, %v", len(res), err)
			}

			before := countKind(t, e, "")
			for name, call := range map[string]func() error{
				"limit 0":   func() error { _, err := e.hub.FetchNext(ctx, agencyP(h14), 0); return err },
				"limit 101": func() error { _, err := e.hub.FetchNext(ctx, agencyP(h14), routing.MaxFetchBatch+1); return err },
				"an auditor": func() error {
					_, err := e.hub.FetchNext(ctx, routing.Principal{Role: routing.RoleAuditor}, 10)
					return err
				},
			} {
				want := routing.ErrBadRequest
				if name == "an auditor" {
					want = routing.ErrForbidden
				}
				if err := call(); !errors.Is(err, want) {
					t.Errorf("%s: %v, want %v", name, err, want)
				}
			}
			if got := countKind(t, e, ""); got != before {
				t.Errorf("refusals recorded %d events", got-before)
			}
			// H14's delivery is still there for H14 alone.
			res, err = e.hub.FetchNext(ctx, agencyP(h14), 10)
			if err != nil || len(res) != 1 || res[0].ID != e.inbox(h14)[0].DeliveryID {
				t.Fatalf("H14's next page: %+v, %v", res, err)
			}
			routing.CloseBlobs(res)
		})
	}
}
