package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// runHub runs the tests of the hub's tables (routing.Store and the
// configuration methods).
func runHub(t *testing.T, open Open) {
	t.Run("HubAccept", func(t *testing.T) { testAccept(t, open) })
	t.Run("HubDuplicates", func(t *testing.T) { testDuplicates(t, open) })
	t.Run("HubDuplicateRace", func(t *testing.T) { testDuplicateRace(t, open) })
	t.Run("HubInbox", func(t *testing.T) { testInbox(t, open) })
	t.Run("HubClaim", func(t *testing.T) { testClaim(t, open) })
	t.Run("HubClaimConcurrent", func(t *testing.T) {
		s := open(t, store.Options{})
		ConcurrentClaim(t, []*store.Store{s}, 6, 500)
	})
	t.Run("HubUpdateDelivery", func(t *testing.T) { testUpdateDelivery(t, open) })
	t.Run("HubUpdateDeliveries", func(t *testing.T) { testUpdateDeliveries(t, open) })
	t.Run("HubUpdateDeliveriesPages", func(t *testing.T) { testUpdateDeliveriesPages(t, open) })
	t.Run("HubStatusSenders", func(t *testing.T) { testStatusSenders(t, open) })
	t.Run("HubDocumentEvents", func(t *testing.T) { testDocumentEvents(t, open) })
	t.Run("HubConfig", func(t *testing.T) { testConfig(t, open) })
	t.Run("HubCredentials", func(t *testing.T) { testCredentials(t, open) })
	t.Run("HubClosed", func(t *testing.T) { testClosed(t, open) })
}

const (
	g22 = agencyids.Code("000.00.00.G22")
	h53 = agencyids.Code("000.00.00.H53")
	h41 = agencyids.Code("000.00.00.H41")
)

// at is a test time kept to the microsecond, as the store keeps times.
func at(i int) time.Time { return t0.Truncate(time.Microsecond).Add(time.Duration(i) * time.Second) }

// Doc returns a document packet from g22 to h53 numbered i.
func Doc(id string, i int) *routing.Document {
	return &routing.Document{
		ID: id, Kind: envelope.KindDocument, From: g22,
		EdxmlID: fmt.Sprintf("000.00.00.G22,2026/11/22,%d/VPCP-KSTT", i), Number: fmt.Sprint(i), Notation: "VPCP-KSTT",
		Subject: "V/v thử nghiệm số " + fmt.Sprint(i), Digest: archive.Sum([]byte(id)), Size: int64(1000 + i),
		Via: "agency:" + string(g22), ReceivedAt: at(i), Recipients: []agencyids.Code{h53},
	}
}

// Del returns a queued delivery of doc to to by route.
func Del(id, doc string, to agencyids.Code, route routing.RouteKind) *routing.Delivery {
	d := &routing.Delivery{ID: id, Document: doc, Recipient: to, Route: route, State: routing.StateQueued,
		NextAttemptAt: at(0), CreatedAt: at(0), UpdatedAt: at(0)}
	if route == routing.RoutePeer {
		d.Peer = "national"
	}
	return d
}

func accepted(doc *routing.Document, ds ...*routing.Delivery) []*archive.Event {
	events := []*archive.Event{{Kind: "document.accepted", Actor: doc.Via, Agency: doc.From, Document: doc.ID}}
	for _, d := range ds {
		events = append(events, &archive.Event{Kind: "delivery.queued", Actor: "hub", Agency: d.Recipient, Document: doc.ID, Delivery: d.ID})
	}
	return events
}

// MustAccept accepts doc with its deliveries and events of them.
func MustAccept(t testing.TB, s *store.Store, doc *routing.Document, ds ...*routing.Delivery) {
	t.Helper()
	if err := s.Accept(context.Background(), doc, ds, accepted(doc, ds...)); err != nil {
		t.Fatalf("Accept %s: %v", doc.ID, err)
	}
}

// count returns the number of rows of a table.
func count(t testing.TB, s *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.InTx(context.Background(), func(tx store.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n)
	}); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// verifyChain checks the audit chain is whole and returns its length.
func verifyChain(t testing.TB, s *store.Store) int64 {
	t.Helper()
	_, last, err := archive.VerifyChain(s.AuditAll(context.Background()))
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}
	return last
}

func sameDocument(a, b *routing.Document) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.From == b.From && a.EdxmlID == b.EdxmlID && a.Number == b.Number &&
		a.Notation == b.Notation && a.Business == b.Business && a.StatusCode == b.StatusCode && a.Ref == b.Ref &&
		a.Subject == b.Subject && a.Digest == b.Digest && a.Size == b.Size && a.Via == b.Via &&
		a.ReceivedAt.Equal(b.ReceivedAt) && a.ReceivedAt.Location() == time.UTC && slices.Equal(a.Recipients, b.Recipients)
}

func sameDelivery(a, b *routing.Delivery) bool {
	return a.ID == b.ID && a.Document == b.Document && a.Recipient == b.Recipient && a.Route == b.Route &&
		a.Peer == b.Peer && a.State == b.State && a.Attempts == b.Attempts && a.NextAttemptAt.Equal(b.NextAttemptAt) &&
		a.LeaseUntil.Equal(b.LeaseUntil) && a.LastError == b.LastError && a.Remote == b.Remote &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && a.RequeuedAt.Equal(b.RequeuedAt)
}

func testAccept(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 30, 0, 123456789, time.UTC)
	s := open(t, store.Options{Now: func() time.Time { return now }})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	doc := Doc("01JD0000000000000000000001", 12)
	doc.Business, doc.Ref, doc.Recipients = envelope.BusinessReplacement, "01JC", []agencyids.Code{h53, h41, "000.00.00.G17"}
	pull := Del("d1", "", h53, routing.RoutePull)
	push := Del("d2", doc.ID, h41, routing.RoutePush)
	push.Attempts, push.LastError, push.Remote, push.LeaseUntil, push.NextAttemptAt = 2, "timeout", "remote-1", at(50), at(40)
	peer := Del("d3", doc.ID, "000.00.00.G17", routing.RoutePeer)
	peer.CreatedAt, peer.UpdatedAt, peer.NextAttemptAt = time.Time{}, time.Time{}, time.Time{} // filled in from ReceivedAt
	events := accepted(doc, pull, push, peer)
	if err := s.Accept(ctx, doc, []*routing.Delivery{pull, push, peer}, events); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if pull.Document != doc.ID || !peer.CreatedAt.Equal(doc.ReceivedAt) || !peer.NextAttemptAt.Equal(doc.ReceivedAt) {
		t.Errorf("zero fields not filled in: %+v %+v", pull, peer)
	}
	for _, e := range events {
		if e.Seq == 0 {
			t.Errorf("event %s not appended", e.Kind)
		}
	}
	got, err := s.Document(ctx, doc.ID)
	if err != nil || !sameDocument(got, doc) {
		t.Fatalf("Document = %+v, %v\nwant %+v", got, err, doc)
	}
	ds, err := s.Deliveries(ctx, doc.ID)
	if err != nil || len(ds) != 3 {
		t.Fatalf("Deliveries = %d, %v", len(ds), err)
	}
	for i, want := range []*routing.Delivery{pull, push, peer} {
		if !sameDelivery(ds[i], want) {
			t.Errorf("delivery %d = %+v\nwant %+v", i, ds[i], want)
		}
		one, err := s.Delivery(ctx, want.ID)
		if err != nil || !sameDelivery(one, want) {
			t.Errorf("Delivery(%s) = %+v, %v", want.ID, one, err)
		}
		del, ddoc, err := s.DeliveryDocument(ctx, want.ID)
		if err != nil || !sameDelivery(del, want) || !sameDocument(ddoc, doc) {
			t.Errorf("DeliveryDocument(%s) = %+v, %+v, %v", want.ID, del, ddoc, err)
		}
	}

	// A status, with no recipients list and a zero ReceivedAt (the clock).
	st := &routing.Document{ID: "01JD0000000000000000000002", Kind: envelope.KindStatus, From: h53, EdxmlID: doc.EdxmlID,
		StatusCode: envelope.StatusArrived, Ref: doc.ID, Digest: archive.Sum([]byte("st")), Via: "agency:" + string(h53)}
	MustAccept(t, s, st)
	got, err = s.Document(ctx, st.ID)
	if err != nil || !sameDocument(got, st) || !got.ReceivedAt.Equal(now.Truncate(time.Microsecond)) || len(got.Recipients) != 0 {
		t.Fatalf("status = %+v, %v\nwant %+v", got, err, st)
	}
	// DocumentsByEdxmlID: documents only, oldest first.
	later := Doc("01JD0000000000000000000003", 13)
	later.EdxmlID, later.Business, later.ReceivedAt = doc.EdxmlID, envelope.BusinessRevocation, at(100)
	MustAccept(t, s, later)
	byID, err := s.DocumentsByEdxmlID(ctx, doc.EdxmlID)
	if err != nil || len(byID) != 2 || byID[0].ID != doc.ID || byID[1].ID != later.ID {
		t.Fatalf("DocumentsByEdxmlID = %v, %v", byID, err)
	}
	if none, err := s.DocumentsByEdxmlID(ctx, "nothing"); err != nil || len(none) != 0 {
		t.Fatalf("DocumentsByEdxmlID(nothing) = %v, %v", none, err)
	}
	if ds, err := s.Deliveries(ctx, "nothing"); err != nil || len(ds) != 0 {
		t.Fatalf("Deliveries(nothing) = %v, %v", ds, err)
	}
	for _, err := range []error{
		func() error { _, err := s.Document(ctx, "nothing"); return err }(),
		func() error { _, err := s.Delivery(ctx, "nothing"); return err }(),
		func() error { _, _, err := s.DeliveryDocument(ctx, "nothing"); return err }(),
	} {
		if !errors.Is(err, routing.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	}

	// Bad arguments commit nothing.
	bad := []struct {
		name string
		doc  *routing.Document
		ds   []*routing.Delivery
	}{
		{"no id", &routing.Document{Kind: envelope.KindDocument}, nil},
		{"no kind", &routing.Document{ID: "x"}, nil},
		{"delivery of another document", Doc("x1", 90), []*routing.Delivery{Del("dx", "other", h53, routing.RoutePull)}},
		{"bad route", Doc("x2", 91), []*routing.Delivery{Del("dx", "", h53, "carrier-pigeon")}},
		{"bad state", Doc("x3", 92), []*routing.Delivery{{ID: "dx", Recipient: h53, Route: routing.RoutePull, State: "lost"}}},
		{"delivery id taken", Doc("x4", 93), []*routing.Delivery{Del("d1", "", h53, routing.RoutePull)}},
		{"document id taken", func() *routing.Document { d := Doc(doc.ID, 94); d.EdxmlID, d.Number = "", ""; return d }(), nil},
	}
	for _, tc := range bad {
		before := count(t, s, "audit_events")
		err := s.Accept(ctx, tc.doc, tc.ds, accepted(tc.doc, tc.ds...))
		var dup *routing.DuplicateError
		if err == nil || errors.As(err, &dup) {
			t.Errorf("%s: Accept = %v", tc.name, err)
		}
		if n := count(t, s, "audit_events"); n != before {
			t.Errorf("%s: %d events appended", tc.name, n-before)
		}
	}
	if n := count(t, s, "documents"); n != 3 {
		t.Errorf("%d documents, want 3", n)
	}
	verifyChain(t, s)
}

func testDuplicates(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	first := Doc("A", 1)
	MustAccept(t, s, first, Del("A-1", "A", h53, routing.RoutePull))
	status := func(id string, from agencyids.Code, code envelope.StatusCode) *routing.Document {
		return &routing.Document{ID: id, Kind: envelope.KindStatus, From: from, EdxmlID: first.EdxmlID, StatusCode: code,
			Ref: "A", Digest: archive.Sum([]byte(id)), ReceivedAt: at(5)}
	}
	MustAccept(t, s, status("S1", h53, envelope.StatusArrived))
	MustAccept(t, s, status("S5", h53, envelope.StatusProcessing))
	edit := func(id string, f func(d *routing.Document)) *routing.Document {
		d := Doc(id, 1)
		f(d)
		return d
	}
	tests := []struct {
		name  string
		doc   *routing.Document
		first string // "" for no duplicate
		key   string
	}{
		{"same document id", edit("B", func(d *routing.Document) { d.Number = "2" }), "A", "document-id"},
		{"same document id, number and notation", edit("B2", func(*routing.Document) {}), "A", "document-id"},
		{"same number and notation", edit("C", func(d *routing.Document) { d.EdxmlID = "other" }), "A", "number-notation"},
		{"replacement with the number of a new one", edit("D", func(d *routing.Document) {
			d.EdxmlID, d.Business = "other-3", envelope.BusinessReplacement
		}), "A", "number-notation"},
		{"revocation with the same id and number", edit("E", func(d *routing.Document) { d.Business = envelope.BusinessRevocation }), "", ""},
		{"second revocation", edit("E2", func(d *routing.Document) { d.Business = envelope.BusinessRevocation }), "E", "document-id"},
		{"update with the same number", edit("F", func(d *routing.Document) {
			d.EdxmlID, d.Business = "upd", envelope.BusinessUpdate
		}), "", ""},
		{"second update of one document", edit("F2", func(d *routing.Document) {
			d.EdxmlID, d.Business = "upd", envelope.BusinessUpdate
		}), "", ""},
		{"same id from another sender", edit("G", func(d *routing.Document) { d.From = h41 }), "", ""},
		{"same number, other notation", edit("H", func(d *routing.Document) { d.EdxmlID, d.Notation = "h", "UBND" }), "", ""},
		{"no number, no id", edit("I", func(d *routing.Document) { d.EdxmlID, d.Number, d.Notation = "", "", "" }), "", ""},
		{"again no number, no id", edit("I2", func(d *routing.Document) { d.EdxmlID, d.Number, d.Notation = "", "", "" }), "", ""},
		{"status again", status("S1b", h53, envelope.StatusArrived), "S1", "status"},
		{"status 05 repeats", status("S5b", h53, envelope.StatusProcessing), "", ""},
		{"status, next code", status("S3", h53, envelope.StatusAccepted), "", ""},
		{"status from another agency", status("S1c", h41, envelope.StatusArrived), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, dels, events := count(t, s, "documents"), count(t, s, "deliveries"), count(t, s, "audit_events")
			d := Del(tc.doc.ID+"-1", "", h53, routing.RoutePull)
			err := s.Accept(ctx, tc.doc, []*routing.Delivery{d}, accepted(tc.doc, d))
			if tc.first == "" {
				if err != nil {
					t.Fatalf("Accept: %v", err)
				}
				return
			}
			var dup *routing.DuplicateError
			if !errors.As(err, &dup) || dup.FirstID != tc.first || dup.Key != tc.key {
				t.Fatalf("Accept = %v, want a duplicate of %s (%s)", err, tc.first, tc.key)
			}
			if dup, err := s.Duplicate(ctx, tc.doc); err != nil || dup == nil || dup.FirstID != tc.first || dup.Key != tc.key {
				t.Fatalf("Duplicate = %v, %v; want a duplicate of %s (%s)", dup, err, tc.first, tc.key)
			}
			if d2, d3, e2 := count(t, s, "documents"), count(t, s, "deliveries"), count(t, s, "audit_events"); d2 != docs || d3 != dels || e2 != events {
				t.Fatalf("a duplicate left %d documents, %d deliveries, %d events", d2-docs, d3-dels, e2-events)
			}
			if _, err := s.Document(ctx, tc.doc.ID); !errors.Is(err, routing.ErrNotFound) {
				t.Fatalf("duplicate stored: %v", err)
			}
		})
	}
	verifyChain(t, s)
}

// testDuplicateRace accepts one packet from several goroutines at once:
// one wins, the others get a DuplicateError naming it, never a raw
// constraint error.
func testDuplicateRace(t *testing.T, open Open) {
	s := open(t, store.Options{})
	ConcurrentDuplicates(t, []*store.Store{s}, 8)
}

// ConcurrentDuplicates sends the same packets, under different hub ids,
// from workers goroutines spread over stores, and checks that exactly one
// copy of each is accepted.
func ConcurrentDuplicates(t testing.TB, stores []*store.Store, workers int) {
	t.Helper()
	const rounds = 10
	for r := range rounds {
		var (
			mu   sync.Mutex
			won  []string
			dups []*routing.DuplicateError
			wg   sync.WaitGroup
		)
		start := make(chan struct{})
		for w := range workers {
			s := stores[w%len(stores)]
			wg.Go(func() {
				doc := Doc(fmt.Sprintf("R%02d-%02d", r, w), 1000+r)
				if r%2 == 1 { // statuses race on the status rule
					doc.Kind, doc.StatusCode, doc.Number = envelope.KindStatus, envelope.StatusAccepted, ""
				}
				d := Del(doc.ID+"-1", "", h53, routing.RoutePull)
				<-start
				err := s.Accept(context.Background(), doc, []*routing.Delivery{d}, accepted(doc, d))
				mu.Lock()
				defer mu.Unlock()
				var dup *routing.DuplicateError
				switch {
				case err == nil:
					won = append(won, doc.ID)
				case errors.As(err, &dup):
					dups = append(dups, dup)
				default:
					t.Errorf("round %d worker %d: %v", r, w, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(won) != 1 || len(dups) != workers-1 {
			t.Fatalf("round %d: accepted %v, %d duplicates", r, won, len(dups))
		}
		for _, d := range dups {
			if d.FirstID != won[0] {
				t.Fatalf("round %d: duplicate of %s, want %s", r, d.FirstID, won[0])
			}
		}
	}
	verifyChain(t, stores[0])
}

func testInbox(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	var ids []string
	for i := range 25 {
		doc := Doc(fmt.Sprintf("doc-%02d", i), i)
		ds := []*routing.Delivery{
			Del(fmt.Sprintf("del-%02d-a", i), doc.ID, h53, routing.RoutePull),
			Del(fmt.Sprintf("del-%02d-b", i), doc.ID, h41, routing.RoutePull),
			Del(fmt.Sprintf("del-%02d-c", i), doc.ID, h53, routing.RoutePush), // not an inbox's
		}
		MustAccept(t, s, doc, ds...)
		ids = append(ids, ds[0].ID)
	}
	page := func(after string, limit int) []string {
		t.Helper()
		items, err := s.Inbox(ctx, h53, after, limit)
		if err != nil {
			t.Fatalf("Inbox(%q, %d): %v", after, limit, err)
		}
		var out []string
		for _, it := range items {
			if it.Delivery.Recipient != h53 || it.Delivery.Route != routing.RoutePull || it.Document.ID != it.Delivery.Document {
				t.Fatalf("inbox item %+v", it)
			}
			want := Doc(it.Document.ID, 0)
			if it.Document.Subject == "" || it.Document.Digest != want.Digest {
				t.Fatalf("inbox document %+v", it.Document)
			}
			out = append(out, it.Delivery.ID)
		}
		return out
	}
	var all []string
	for after := ""; ; {
		p := page(after, 10)
		all = append(all, p...)
		if len(p) < 10 {
			break
		}
		after = p[len(p)-1]
	}
	if !slices.Equal(all, ids) {
		t.Fatalf("paged inbox %v\nwant %v", all, ids)
	}
	if p := page(ids[24], 10); len(p) != 0 {
		t.Fatalf("after the last: %v", p)
	}
	if _, err := s.Inbox(ctx, h53, "", 0); !errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("limit 0: %v", err)
	}
	// Pulled stays; acked, cancelled and dead leave the inbox.
	for i, st := range []routing.DeliveryState{routing.StatePulled, routing.StateAcked, routing.StateCancelled, routing.StateDead} {
		d, err := s.Delivery(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		d.State = st
		if err := s.UpdateDelivery(ctx, d, []routing.DeliveryState{routing.StateQueued}, time.Time{}, nil); err != nil {
			t.Fatalf("to %s: %v", st, err)
		}
	}
	if p := page("", 3); !slices.Equal(p, []string{ids[0], ids[4], ids[5]}) {
		t.Fatalf("inbox after acks starts %v", p)
	}
	if p := page("", 100); len(p) != 22 {
		t.Fatalf("inbox holds %d, want 22", len(p))
	}
	if p, err := s.Inbox(ctx, "000.00.00.H99", "", 10); err != nil || len(p) != 0 {
		t.Fatalf("inbox of a stranger: %v, %v", p, err)
	}
	verifyChain(t, s)
}

func testClaim(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	doc := Doc("doc", 1)
	due1 := Del("due-1", "", h53, routing.RoutePush)
	due2 := Del("due-2", "", h41, routing.RoutePeer)
	due1.NextAttemptAt, due2.NextAttemptAt = at(2), at(1)
	later := Del("later", "", "000.00.00.G17", routing.RoutePush)
	later.NextAttemptAt = at(100)
	pull := Del("pull", "", "000.00.00.G18", routing.RoutePull)
	dead := Del("dead", "", "000.00.00.G19", routing.RoutePush)
	dead.State = routing.StateDead
	MustAccept(t, s, doc, due1, due2, later, pull, dead)

	now := at(10)
	lease := 30 * time.Second
	got, err := s.Claim(ctx, now, lease, 10)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(got) != 2 || got[0].ID != "due-2" || got[1].ID != "due-1" {
		t.Fatalf("claimed %v, want due-2, due-1", ids(got))
	}
	for _, d := range got {
		if d.State != routing.StateSending || d.Attempts != 1 || !d.LeaseUntil.Equal(now.Add(lease)) || !d.UpdatedAt.Equal(now) {
			t.Errorf("claimed %+v", d)
		}
		if stored, err := s.Delivery(ctx, d.ID); err != nil || !sameDelivery(stored, d) {
			t.Errorf("stored %+v, %v; Claim returned %+v", stored, err, d)
		}
	}
	if again, err := s.Claim(ctx, now.Add(lease-time.Second), lease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claim under lease: %v, %v", ids(again), err)
	}
	// A lease that ran out is claimed again, with the limit respected.
	again, err := s.Claim(ctx, now.Add(lease+time.Second), lease, 1)
	if err != nil || len(again) != 1 || again[0].ID != "due-2" || again[0].Attempts != 2 {
		t.Fatalf("reclaim: %v, %v", again, err)
	}
	// The first worker's update now conflicts.
	got[0].State = routing.StateDelivered
	if err := s.UpdateDelivery(ctx, got[0], []routing.DeliveryState{routing.StateSending}, now.Add(lease), nil); !errors.Is(err, routing.ErrStateConflict) {
		t.Fatalf("update with a lost lease: %v", err)
	}
	if _, err := s.Claim(ctx, now, lease, 0); !errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("limit 0: %v", err)
	}
	if _, err := s.Claim(ctx, now, 0, 1); !errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("lease 0: %v", err)
	}
	// later becomes due, and both leases have run out.
	if got, err := s.Claim(ctx, at(100), lease, 10); err != nil || !slices.Equal(ids(got), []string{"due-2", "due-1", "later"}) {
		t.Fatalf("claim at 100: %v, %v", ids(got), err)
	}
	verifyChain(t, s)
}

func ids(ds []*routing.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// ConcurrentClaim queues n due push and peer deliveries in the first store
// and claims them from workers goroutines spread over stores, a few at a
// time, until none is left: each must be claimed exactly once.
func ConcurrentClaim(t testing.TB, stores []*store.Store, workers, n int) {
	t.Helper()
	ctx := context.Background()
	s := stores[0]
	const perDoc = 50
	for i := 0; i < n; i += perDoc {
		doc := Doc(fmt.Sprintf("doc-%04d", i), i)
		var ds []*routing.Delivery
		for j := i; j < min(i+perDoc, n); j++ {
			route := routing.RoutePush
			if j%2 == 1 {
				route = routing.RoutePeer
			}
			d := Del(fmt.Sprintf("del-%04d", j), doc.ID, agencyids.Code(fmt.Sprintf("000.00.%02d.H53", j%100)), route)
			d.NextAttemptAt = at(j % 7)
			ds = append(ds, d)
		}
		if err := s.Accept(ctx, doc, ds, nil); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		wg      sync.WaitGroup
	)
	errs := make(chan error, workers)
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for {
				got, err := s.Claim(ctx, at(10), time.Hour, 7)
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					claimed[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claimed) != n {
		t.Errorf("%d deliveries claimed, want %d", len(claimed), n)
	}
	for id, c := range claimed {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}

func testUpdateDelivery(t *testing.T, open Open) {
	ctx := context.Background()
	now := at(500)
	s := open(t, store.Options{Now: func() time.Time { return now }})
	doc := Doc("doc", 1)
	MustAccept(t, s, doc, Del("push", "", h53, routing.RoutePush), Del("pull", "", h41, routing.RoutePull))
	claimed, err := s.Claim(ctx, at(10), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim: %v, %v", claimed, err)
	}
	lease := claimed[0].LeaseUntil
	sending := []routing.DeliveryState{routing.StateSending}
	update := func(id string, f func(d *routing.Delivery), from []routing.DeliveryState, claimed time.Time) (*routing.Delivery, error) {
		d, err := s.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		f(d)
		return d, s.UpdateDelivery(ctx, d, from, claimed, []*archive.Event{{Kind: "delivery.updated", Delivery: id, Document: doc.ID}})
	}
	refused := []struct {
		name    string
		id      string
		from    []routing.DeliveryState
		claimed time.Time
		want    error
	}{
		{"wrong state", "push", []routing.DeliveryState{routing.StateQueued, routing.StatePulled}, lease, routing.ErrStateConflict},
		{"lease mismatch", "push", sending, lease.Add(time.Microsecond), routing.ErrStateConflict},
		{"no lease given", "push", sending, time.Time{}, routing.ErrStateConflict},
		{"pull not sending", "pull", sending, lease, routing.ErrStateConflict},
		{"unknown", "nothing", sending, lease, routing.ErrNotFound},
		{"no from", "push", nil, lease, store.ErrBadArgument},
		{"bad from", "push", []routing.DeliveryState{"lost"}, lease, store.ErrBadArgument},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			events := count(t, s, "audit_events")
			before, _ := s.Delivery(ctx, tc.id)
			d := &routing.Delivery{ID: tc.id, State: routing.StateDelivered, Remote: "x", LastError: "y"}
			err := s.UpdateDelivery(ctx, d, tc.from, tc.claimed, []*archive.Event{{Kind: "delivery.delivered"}})
			if !errors.Is(err, tc.want) {
				t.Fatalf("UpdateDelivery = %v, want %v", err, tc.want)
			}
			if after, _ := s.Delivery(ctx, tc.id); before != nil && !sameDelivery(before, after) {
				t.Fatalf("written: %+v\nwas %+v", after, before)
			}
			if n := count(t, s, "audit_events"); n != events {
				t.Fatalf("%d events appended", n-events)
			}
		})
	}
	// A failed attempt: back to queued, a later attempt, the lease gone.
	got, err := update("push", func(d *routing.Delivery) {
		d.State, d.NextAttemptAt, d.LeaseUntil, d.LastError = routing.StateQueued, at(70), time.Time{}, "502 Bad Gateway"
	}, sending, lease)
	if err != nil {
		t.Fatalf("requeue: %v", err)
	}
	want := *claimed[0]
	want.State, want.NextAttemptAt, want.LeaseUntil, want.LastError, want.UpdatedAt = routing.StateQueued, at(70), time.Time{}, "502 Bad Gateway", now
	if stored, _ := s.Delivery(ctx, "push"); !sameDelivery(got, &want) || !sameDelivery(stored, &want) {
		t.Fatalf("after requeue %+v (stored %+v)\nwant %+v", got, stored, want)
	}
	// Queued is in from: no lease check.
	if _, err := update("push", func(d *routing.Delivery) {
		d.State, d.Remote, d.NextAttemptAt = routing.StateDelivered, "remote-7", time.Time{}
	}, []routing.DeliveryState{routing.StateQueued, routing.StateSending}, time.Time{}); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	if d, _ := s.Delivery(ctx, "push"); d.State != routing.StateDelivered || d.Remote != "remote-7" || !d.NextAttemptAt.Equal(at(70)) {
		t.Fatalf("delivered %+v", d)
	}
	// Pull: queued → pulled → acked.
	for _, step := range []struct{ from, to routing.DeliveryState }{{routing.StateQueued, routing.StatePulled}, {routing.StatePulled, routing.StateAcked}} {
		if _, err := update("pull", func(d *routing.Delivery) { d.State = step.to }, []routing.DeliveryState{step.from}, time.Time{}); err != nil {
			t.Fatalf("%s → %s: %v", step.from, step.to, err)
		}
	}
	if n := verifyChain(t, s); n != 3+4 {
		t.Fatalf("chain of %d events, want 7", n)
	}
}

func testDocumentEvents(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	a, b := Doc("A", 1), Doc("B", 2)
	MustAccept(t, s, a, Del("A-1", "", h53, routing.RoutePull))
	MustAccept(t, s, b, Del("B-1", "", h53, routing.RoutePull))
	st := &routing.Document{ID: "S", Kind: envelope.KindStatus, From: h53, EdxmlID: a.EdxmlID, StatusCode: envelope.StatusArrived,
		Ref: "A", Digest: archive.Sum([]byte("S")), ReceivedAt: at(9)}
	MustAccept(t, s, st)
	rev := Doc("R", 3)
	rev.Business, rev.Ref = envelope.BusinessRevocation, "A"
	MustAccept(t, s, rev)
	if err := s.AppendEvents(ctx, &archive.Event{Kind: "document.read", Document: "A"}, &archive.Event{Kind: "auth.refused"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.DocumentEvents(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for i, e := range got {
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Fatalf("not in chain order: %d after %d", e.Seq, got[i-1].Seq)
		}
		seen = append(seen, e.Document+":"+e.Kind)
	}
	want := []string{"A:document.accepted", "A:delivery.queued", "S:document.accepted", "R:document.accepted", "A:document.read"}
	if !slices.Equal(seen, want) {
		t.Fatalf("DocumentEvents(A) = %v\nwant %v", seen, want)
	}
	if got, err := s.DocumentEvents(ctx, "nothing"); err != nil || len(got) != 0 {
		t.Fatalf("DocumentEvents(nothing) = %v, %v", got, err)
	}
	verifyChain(t, s)
}

func testConfig(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := open(t, store.Options{Now: func() time.Time { return now }})
	version := func() int64 {
		t.Helper()
		v, err := s.ConfigVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := version()
	grew := func(what string) {
		t.Helper()
		if nv := version(); nv <= v {
			t.Fatalf("%s: version %d, was %d", what, nv, v)
		} else {
			v = nv
		}
	}
	stayed := func(what string) {
		t.Helper()
		if nv := version(); nv != v {
			t.Fatalf("%s: version %d, was %d", what, nv, v)
		}
	}
	const actor = "cli:test"
	fp := agencyids.FingerprintOf([]byte("cert"))
	agencies := []agencyids.Agency{
		{Code: h53, Name: "UBND tỉnh Tây Ninh", AltCode: "H53", ValidFrom: time.Date(2016, 1, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))},
		{Code: "000.00.13.H53", Name: "Sở TTTT", Parent: h53, Endpoint: "https://so.example/edoc", CertFingerprints: []agencyids.Fingerprint{fp}},
		{Code: "000.00.12.H53", Name: "Sở cũ", Parent: h53, ValidTo: time.Date(2025, 7, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600)), Successor: "000.00.13.H53"},
	}
	if has, err := s.HasAgencies(ctx); err != nil || has {
		t.Fatalf("HasAgencies of an empty store = %v, %v", has, err)
	}
	if err := s.SaveAgencies(ctx, agencies, actor); err != nil {
		t.Fatalf("SaveAgencies: %v", err)
	}
	grew("SaveAgencies")
	if saved, err := s.SaveAgenciesIfEmpty(ctx, agencies[:1], actor); err != nil || saved {
		t.Fatalf("SaveAgenciesIfEmpty on a directory = %v, %v", saved, err)
	}
	stayed("SaveAgenciesIfEmpty refused")
	renamed := agencies[1]
	renamed.Name = "Sở Thông tin và Truyền thông"
	if err := s.SaveAgencies(ctx, []agencyids.Agency{renamed}, actor); err != nil {
		t.Fatal(err)
	}
	grew("rename")
	if err := s.SaveAgencies(ctx, []agencyids.Agency{{Code: "bad", Name: "x"}}, actor); !errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("bad code: %v", err)
	}
	stayed("refused agency")

	members := []routing.Member{
		{Code: "000.00.13.H53", Mode: routing.ModePush, PushURL: "https://so.example/edoc", Signature: routing.SignatureAll},
		{Code: h53}, // defaults: pull, required
	}
	for _, m := range members {
		if err := s.PutMember(ctx, m, actor); err != nil {
			t.Fatalf("PutMember %s: %v", m.Code, err)
		}
		grew("PutMember")
	}
	for _, m := range []routing.Member{
		{Code: "bad"}, {Code: h41, Mode: routing.ModePush}, {Code: h41, Mode: "carrier"}, {Code: h41, Signature: "never"},
		{Code: h41, Mode: routing.ModePush, PushURL: "ftp://x"},
	} {
		if err := s.PutMember(ctx, m, actor); !errors.Is(err, store.ErrBadArgument) {
			t.Errorf("PutMember(%+v) = %v, want ErrBadArgument", m, err)
		}
	}
	stayed("refused members")
	m, err := s.Member(ctx, h53)
	if err != nil || m.Mode != routing.ModePull || m.Signature != routing.SignatureRequired || !m.CreatedAt.Equal(now) {
		t.Fatalf("Member = %+v, %v", m, err)
	}
	if _, err := s.Member(ctx, h41); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("Member of a stranger: %v", err)
	}

	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n")
	peers := []routing.Peer{{Name: "national", URL: "https://axis.example:8443", Token: "edt_secret", CAPEM: ca}, {Name: "inbound-only"}}
	for _, p := range peers {
		if err := s.PutPeer(ctx, p, actor); err != nil {
			t.Fatalf("PutPeer: %v", err)
		}
		grew("PutPeer")
	}
	// A peer on the national axis's SDK protocol: its systemId and sealed secret.
	upstream := routing.Peer{Name: "vxp-axis", Kind: routing.PeerVXP, URL: "https://axis.example/XrdAdapter/adapter", SystemID: "00.53.W00", Token: "sealed"}
	if err := s.PutPeer(ctx, upstream, actor); err != nil {
		t.Fatalf("PutPeer(vxp): %v", err)
	}
	grew("PutPeer(vxp)")
	if p, err := s.Peer(ctx, "vxp-axis"); err != nil || p.Kind != routing.PeerVXP || p.SystemID != upstream.SystemID || p.Token != "sealed" || p.URL != upstream.URL {
		t.Errorf("Peer(vxp-axis) = %+v, %v", p, err)
	}
	if p, err := s.Peer(ctx, "national"); err != nil || p.Kind != routing.PeerEdocgw || p.SystemID != "" {
		t.Errorf("Peer(national) = %+v, %v; want kind edocgw", p, err)
	}
	for _, p := range []routing.Peer{{Name: ""}, {Name: "bad name"}, {Name: "x", URL: "not a url"}, {Name: "x", CAPEM: []byte("junk")},
		{Name: "x", Kind: "soap"}, {Name: "x", Kind: routing.PeerVXP, URL: "https://a.example", Token: "s"},
		{Name: "x", Kind: routing.PeerVXP, URL: "https://a.example", SystemID: "sys"}, {Name: "x", Kind: routing.PeerVXP, SystemID: "sys", Token: "s"},
		{Name: "x", URL: "https://a.example", SystemID: "sys"}} {
		if err := s.PutPeer(ctx, p, actor); !errors.Is(err, store.ErrBadArgument) {
			t.Errorf("PutPeer(%+v) = %v, want ErrBadArgument", p, err)
		}
	}
	routes := []routing.Route{{Pattern: "*", Peer: "national"}, {Pattern: "H41", Peer: "national"}, {Pattern: "G09", Peer: "national"},
		{Pattern: "000.00.00.G17", Peer: "inbound-only"}}
	for _, r := range routes {
		if err := s.PutRoute(ctx, r, actor); err != nil {
			t.Fatalf("PutRoute %s: %v", r.Pattern, err)
		}
		grew("PutRoute")
	}
	for _, r := range []routing.Route{{Pattern: "H4", Peer: "national"}, {Pattern: "h41", Peer: "national"}, {Pattern: "000.00.00.H4X", Peer: "national"},
		{Pattern: "", Peer: "national"}, {Pattern: "H14", Peer: "nobody"}} {
		if err := s.PutRoute(ctx, r, actor); !errors.Is(err, store.ErrBadArgument) {
			t.Errorf("PutRoute(%+v) = %v, want ErrBadArgument", r, err)
		}
	}
	stayed("refused routes")
	if err := s.DeleteRoute(ctx, "G09", actor); err != nil {
		t.Fatalf("DeleteRoute: %v", err)
	}
	grew("DeleteRoute")
	if err := s.DeleteRoute(ctx, "G09", actor); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("DeleteRoute again: %v", err)
	}
	stayed("DeleteRoute of nothing")

	c, err := s.Config(ctx)
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if c.Version != v {
		t.Errorf("Config.Version %d, ConfigVersion %d", c.Version, v)
	}
	if len(c.Agencies) != 3 || c.Agencies[0].Code != "000.00.00.H53" || c.Agencies[1].Code != "000.00.12.H53" || c.Agencies[2].Name != renamed.Name {
		t.Fatalf("Config.Agencies = %+v", c.Agencies)
	}
	for _, a := range c.Agencies {
		var w agencyids.Agency
		for _, x := range append(agencies, renamed) {
			if x.Code == a.Code {
				w = x
			}
		}
		if a.Name != w.Name || a.AltCode != w.AltCode || a.Parent != w.Parent || !a.ValidFrom.Equal(w.ValidFrom) || !a.ValidTo.Equal(w.ValidTo) ||
			a.Successor != w.Successor || a.Endpoint != w.Endpoint || !slices.Equal(a.CertFingerprints, w.CertFingerprints) {
			t.Errorf("agency read back as %+v\nwant %+v", a, w)
		}
	}
	if err := agencyids.NewDirectory().Load(c.Agencies); err != nil {
		t.Errorf("stored directory does not load: %v", err)
	}
	if len(c.Members) != 2 || c.Members[0].Code != h53 || c.Members[1].PushURL != members[0].PushURL || c.Members[1].Signature != routing.SignatureAll {
		t.Errorf("Config.Members = %+v", c.Members)
	}
	if len(c.Peers) != 3 || c.Peers[0].Name != "inbound-only" || c.Peers[0].CAPEM != nil || c.Peers[1].Token != "edt_secret" ||
		string(c.Peers[1].CAPEM) != string(ca) || c.Peers[1].URL != peers[0].URL || !c.Peers[1].CreatedAt.Equal(now) {
		t.Errorf("Config.Peers = %+v", c.Peers)
	}
	var pats []string
	for _, r := range c.Routes {
		pats = append(pats, r.Pattern+">"+r.Peer)
	}
	if !slices.Equal(pats, []string{"*>national", "000.00.00.G17>inbound-only", "H41>national"}) {
		t.Errorf("Config.Routes = %v", pats)
	}
	if ps, err := s.Peers(ctx); err != nil || len(ps) != 3 {
		t.Errorf("Peers = %v, %v", ps, err)
	}
	if rs, err := s.Routes(ctx); err != nil || len(rs) != 3 {
		t.Errorf("Routes = %v, %v", rs, err)
	}
	if p, err := s.Peer(ctx, "nobody"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("Peer(nobody) = %v, %v", p, err)
	}
	// A first import only fills an empty directory.
	fresh := open(t, store.Options{})
	if saved, err := fresh.SaveAgenciesIfEmpty(ctx, agencies, actor); err != nil || !saved {
		t.Fatalf("SaveAgenciesIfEmpty = %v, %v", saved, err)
	}
	if as, err := fresh.Agencies(ctx); err != nil || len(as) != 3 {
		t.Fatalf("Agencies after the first import = %d, %v", len(as), err)
	}
	// Every change is audited.
	kinds := map[string]int{}
	for e, err := range s.AuditAll(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Actor != actor {
			t.Errorf("event %d by %q", e.Seq, e.Actor)
		}
		kinds[e.Kind]++
	}
	wantKinds := map[string]int{store.KindAgencySaved: 2, store.KindMemberSaved: 2, store.KindPeerSaved: 3, store.KindRouteSaved: 4, store.KindRouteRemoved: 1}
	if fmt.Sprint(kinds) != fmt.Sprint(wantKinds) {
		t.Errorf("events %v, want %v", kinds, wantKinds)
	}
	verifyChain(t, s)
}

func testCredentials(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const actor = "cli:test"
	if err := s.PutPeer(ctx, routing.Peer{Name: "national"}, actor); err != nil {
		t.Fatal(err)
	}
	type issued struct {
		tok string
		c   store.Credential
	}
	var all []issued
	for _, c := range []store.Credential{
		{Role: routing.RoleAgency, Agency: h53},
		{Role: routing.RoleAgency, Agency: h53, Name: "second DMS"},
		{Role: routing.RoleAgency, Agency: h41},
		{Role: routing.RoleHub, Peer: "national"},
		{Role: routing.RoleAuditor, Name: "kiem-toan"},
		{Role: routing.RoleAdmin, Name: "root"},
	} {
		tok, h, err := authtoken.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Hash = h
		v, _ := s.ConfigVersion(ctx)
		if err := s.CreateCredential(ctx, c, actor); err != nil {
			t.Fatalf("CreateCredential %+v: %v", c, err)
		}
		if nv, _ := s.ConfigVersion(ctx); nv <= v {
			t.Errorf("version %d after CreateCredential, was %d", nv, v)
		}
		all = append(all, issued{tok, c})
	}
	_, h, _ := authtoken.New(nil)
	for _, c := range []store.Credential{
		{Role: routing.RoleAgency, Agency: h53},                      // no hash
		{Hash: h, Role: routing.RoleAgency},                          // no agency
		{Hash: h, Role: routing.RoleHub, Peer: "nobody"},             // unknown peer
		{Hash: h, Role: routing.RoleAdmin},                           // no name
		{Hash: h, Role: "superuser", Name: "x"},                      // no such role
		{Hash: h, Role: routing.RoleAuditor, Name: "x", Agency: h53}, // mixed
		{Hash: all[0].c.Hash, Role: routing.RoleAgency, Agency: h41}, // hash taken
	} {
		if err := s.CreateCredential(ctx, c, actor); err == nil {
			t.Errorf("CreateCredential(%+v) succeeded", c)
		}
	}
	for _, is := range all {
		p, err := s.LookupToken(ctx, authtoken.Of(is.tok+"\n"))
		want := routing.Principal{Role: is.c.Role, Agency: is.c.Agency, Peer: is.c.Peer, Name: is.c.Name, Via: "token"}
		if err != nil || p != want {
			t.Errorf("LookupToken = %+v, %v; want %+v", p, err, want)
		}
	}
	if _, err := s.LookupToken(ctx, h); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	revoke := []struct {
		role    routing.Role
		subject string
		n       int
		want    error
	}{
		{routing.RoleAgency, string(h53), 2, nil},
		{routing.RoleAgency, string(h53), 0, routing.ErrNotFound},
		{routing.RoleHub, "national", 1, nil},
		{routing.RoleAdmin, "kiem-toan", 0, routing.ErrNotFound}, // an auditor, not an admin
		{routing.RoleAuditor, "kiem-toan", 1, nil},
		{"superuser", "x", 0, store.ErrBadArgument},
	}
	for _, tc := range revoke {
		n, err := s.RevokeCredentials(ctx, tc.role, tc.subject, actor)
		if n != tc.n || !errors.Is(err, tc.want) {
			t.Errorf("RevokeCredentials(%s, %s) = %d, %v; want %d, %v", tc.role, tc.subject, n, err, tc.n, tc.want)
		}
	}
	for i, is := range all {
		_, err := s.LookupToken(ctx, authtoken.Of(is.tok))
		if live := i == 2 || i == 5; live != (err == nil) || (!live && !errors.Is(err, routing.ErrNotFound)) {
			t.Errorf("token %d (%s) after revocations: %v", i, is.c.Role, err)
		}
	}
	kinds := map[string]int{}
	for e, err := range s.AuditAll(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		kinds[e.Kind]++
	}
	if kinds[store.KindTokenCreated] != 6 || kinds[store.KindTokenRevoked] != 3 {
		t.Errorf("events %v", kinds)
	}
	verifyChain(t, s)
}

// testClosed checks that a store that cannot reach its database says so,
// with an error that is neither a duplicate nor a bad argument.
func testClosed(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	s.Close()
	doc := Doc("doc", 1)
	err := s.Accept(ctx, doc, nil, accepted(doc))
	var dup *routing.DuplicateError
	if err == nil || errors.As(err, &dup) || errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("Accept on a closed store = %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping on a closed store succeeded")
	}
}

// testUpdateDeliveries: the batch read and update of routing's AckMany.
// Each update is applied or refused on its own (a conflict or a missing
// delivery writes nothing of its own), and one batch is one transaction.
func testUpdateDeliveries(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{Now: func() time.Time { return at(500) }})
	doc := Doc("doc", 1)
	MustAccept(t, s, doc, Del("a", "", h41, routing.RoutePull), Del("b", "", g22, routing.RoutePull), Del("c", "", h53, routing.RoutePush))

	got, err := s.DeliveryDocuments(ctx, []string{"a", "nothing", "c", "a"})
	if err != nil || len(got) != 2 || got["a"].Delivery.Recipient != h41 || got["a"].Document.ID != doc.ID || got["c"].Delivery.Route != routing.RoutePush {
		t.Fatalf("DeliveryDocuments: %+v, %v", got, err)
	}
	if got, err := s.DeliveryDocuments(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("DeliveryDocuments of none: %+v, %v", got, err)
	}

	events := count(t, s, "audit_events")
	ack := func(id string, from routing.DeliveryState) routing.DeliveryUpdate {
		return routing.DeliveryUpdate{
			Delivery: &routing.Delivery{ID: id, State: routing.StateAcked},
			From:     []routing.DeliveryState{from},
			Events:   []*archive.Event{{Kind: "delivery.acked", Delivery: id, Document: doc.ID}},
		}
	}
	updates := []routing.DeliveryUpdate{ack("a", routing.StateQueued), ack("c", routing.StatePulled), ack("nothing", routing.StateQueued), ack("b", routing.StateQueued)}
	errs, err := s.UpdateDeliveries(ctx, updates)
	if err != nil || len(errs) != 4 {
		t.Fatalf("UpdateDeliveries: %v, %v", errs, err)
	}
	for i, want := range []error{nil, routing.ErrStateConflict, routing.ErrNotFound, nil} {
		if (want == nil) != (errs[i] == nil) || (want != nil && !errors.Is(errs[i], want)) {
			t.Errorf("update %d: %v, want %v", i, errs[i], want)
		}
	}
	for _, id := range []string{"a", "b"} {
		if d, _ := s.Delivery(ctx, id); d.State != routing.StateAcked || !d.UpdatedAt.Equal(at(500)) {
			t.Errorf("%s after the batch: %+v", id, d)
		}
	}
	if d := updates[0].Delivery; d.Recipient != h41 || d.State != routing.StateAcked {
		t.Errorf("update 0 left %+v, want the stored delivery", d)
	}
	if d, _ := s.Delivery(ctx, "c"); d.State != routing.StateQueued {
		t.Errorf("c, refused, is %s", d.State)
	}
	if n := count(t, s, "audit_events"); n != events+2 {
		t.Errorf("%d events appended, want 2 (a and b)", n-events)
	}
	if _, err := s.UpdateDeliveries(ctx, []routing.DeliveryUpdate{ack("a", routing.StatePulled), {Delivery: &routing.Delivery{ID: "b", State: "lost"}, From: []routing.DeliveryState{routing.StateAcked}}}); !errors.Is(err, store.ErrBadArgument) {
		t.Errorf("a bad update: %v, want ErrBadArgument for the batch", err)
	}
	if n := verifyChain(t, s); n != events+2 {
		t.Fatalf("chain of %d events, want %d", n, events+2)
	}
}

// testUpdateDeliveriesPages: pages of updates as a page fetch and a page
// acknowledgement make them, longer than one statement takes on SQLite,
// each row with values of its own, a delivery named twice in a page, one
// missing and one in another state: every update has the effect and the
// result it would have alone, in order.
func testUpdateDeliveriesPages(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{Now: func() time.Time { return at(500) }})
	doc := Doc("doc", 1)
	var ds []*routing.Delivery
	for i := range 40 {
		ds = append(ds, Del(fmt.Sprintf("d%02d", i), "", h41, routing.RoutePull))
	}
	MustAccept(t, s, doc, ds...)
	events := count(t, s, "audit_events")

	update := func(id string, to, from routing.DeliveryState, i int) routing.DeliveryUpdate {
		d := &routing.Delivery{ID: id, State: to, Remote: fmt.Sprintf("remote %d", i), LastError: fmt.Sprintf("note %d", i), LeaseUntil: at(600 + i)}
		if i%2 == 1 {
			d.NextAttemptAt = at(700 + i)
		}
		return routing.DeliveryUpdate{Delivery: d, From: []routing.DeliveryState{from},
			Events: []*archive.Event{{Kind: "delivery." + string(to), Delivery: id, Document: doc.ID}}}
	}
	// Fetch d00–d34 (d07 twice, a missing one after d20), then
	// acknowledge d00–d19 and d35, which was not fetched.
	var page []routing.DeliveryUpdate
	var want []error
	for i := range 35 {
		page = append(page, update(ds[i].ID, routing.StatePulled, routing.StateQueued, i))
		want = append(want, nil)
		switch i {
		case 7:
			page = append(page, update(ds[i].ID, routing.StatePulled, routing.StateQueued, 99))
			want = append(want, routing.ErrStateConflict)
		case 20:
			page = append(page, update("missing", routing.StatePulled, routing.StateQueued, 98))
			want = append(want, routing.ErrNotFound)
		}
	}
	for i := range 20 {
		page = append(page, update(ds[i].ID, routing.StateAcked, routing.StatePulled, 100+i))
		want = append(want, nil)
	}
	page = append(page, update(ds[35].ID, routing.StateAcked, routing.StatePulled, 120))
	want = append(want, routing.ErrStateConflict)

	intended := make([]routing.Delivery, len(page)) // page's deliveries become the rows
	for i, u := range page {
		intended[i] = *u.Delivery
	}
	errs, err := s.UpdateDeliveries(ctx, page)
	if err != nil || len(errs) != len(page) {
		t.Fatalf("UpdateDeliveries: %d results, %v", len(errs), err)
	}
	applied := 0
	for i, w := range want {
		if (w == nil) != (errs[i] == nil) || (w != nil && !errors.Is(errs[i], w)) {
			t.Errorf("update %d (%s): %v, want %v", i, page[i].Delivery.ID, errs[i], w)
		}
		if w == nil {
			applied++
		}
	}
	// The last update of each delivery that applied decides what is
	// stored; an update's delivery is the row as it left it.
	last := map[string]int{}
	for i, u := range page {
		if errs[i] == nil {
			last[u.Delivery.ID] = i
			if u.Delivery.Recipient != h41 || u.Delivery.Document != doc.ID {
				t.Errorf("update %d left %+v, want the stored row", i, u.Delivery)
			}
		}
	}
	for i, d := range ds {
		got, err := s.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		j, ok := last[d.ID]
		if !ok {
			if got.State != routing.StateQueued || got.Remote != "" || !got.UpdatedAt.Equal(at(0)) {
				t.Errorf("%s, not updated, is %+v", d.ID, got)
			}
			continue
		}
		u := intended[j]
		wantNext := at(0)
		if !u.NextAttemptAt.IsZero() {
			wantNext = u.NextAttemptAt
		}
		if got.State != u.State || got.Remote != u.Remote || got.LastError != u.LastError ||
			!got.LeaseUntil.Equal(u.LeaseUntil) || !got.NextAttemptAt.Equal(wantNext) || !got.UpdatedAt.Equal(at(500)) {
			t.Errorf("delivery %d is %+v, want the values of %+v", i, got, u)
		}
		if *page[j].Delivery != *got {
			t.Errorf("delivery %d: the update returned %+v, the store holds %+v", i, page[j].Delivery, got)
		}
	}
	if n := count(t, s, "audit_events"); n != events+int64(applied) {
		t.Errorf("%d events appended, want %d", n-events, applied)
	}
	if n := verifyChain(t, s); n != events+int64(applied) {
		t.Fatalf("chain of %d events, want %d", n, events+int64(applied))
	}
}

// testStatusSenders: StatusSenders finds the status packets of a code
// about a document, by their sender, for one document and for a page's.
func testStatusSenders(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	a, b := Doc("A", 1), Doc("B", 2)
	MustAccept(t, s, a)
	MustAccept(t, s, b)
	status := func(id string, from agencyids.Code, code envelope.StatusCode, ref string) {
		MustAccept(t, s, &routing.Document{ID: id, Kind: envelope.KindStatus, From: from, EdxmlID: a.EdxmlID, StatusCode: code,
			Ref: ref, Digest: archive.Sum([]byte(id)), ReceivedAt: at(5)})
	}
	status("S1", h53, envelope.StatusArrived, "A")
	status("S2", h41, envelope.StatusRejected, "A")
	status("S3", h53, envelope.StatusRejected, "B")
	status("S4", g22, envelope.StatusArrived, "A")

	for _, tc := range []struct {
		doc  string
		from agencyids.Code
		code envelope.StatusCode
		want bool
	}{
		{"A", h53, envelope.StatusArrived, true},
		{"A", h41, envelope.StatusArrived, false},
		{"A", h41, envelope.StatusRejected, true},
		{"B", h53, envelope.StatusArrived, false},
		{"B", h53, envelope.StatusRejected, true},
		{"none", h53, envelope.StatusArrived, false},
	} {
		senders, err := s.StatusSenders(ctx, []string{tc.doc}, tc.code)
		if got := slices.Contains(senders[tc.doc], tc.from); err != nil || got != tc.want {
			t.Errorf("%s in StatusSenders([%s], %02d) = %v, %v; want %v", tc.from, tc.doc, int(tc.code), got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		docs []string
		code envelope.StatusCode
		want map[string][]agencyids.Code
	}{
		{[]string{"A", "B", "none"}, envelope.StatusArrived, map[string][]agencyids.Code{"A": {g22, h53}}},
		{[]string{"A", "B"}, envelope.StatusRejected, map[string][]agencyids.Code{"A": {h41}, "B": {h53}}},
		{[]string{"B"}, envelope.StatusArrived, map[string][]agencyids.Code{}},
		{nil, envelope.StatusArrived, map[string][]agencyids.Code{}},
	} {
		got, err := s.StatusSenders(ctx, tc.docs, tc.code)
		for _, senders := range got {
			slices.Sort(senders)
		}
		if err != nil || got == nil || !maps.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("StatusSenders(%v, %02d) = %v, %v; want %v", tc.docs, int(tc.code), got, err, tc.want)
		}
	}
}
