package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// runActions runs the tests of what the web console needs of the store:
// operators' actions on deliveries, account management, idle sessions
// and the overview.
func runActions(t *testing.T, open Open) {
	t.Run("ActionRequeue", func(t *testing.T) { testRequeue(t, open) })
	t.Run("ActionLastAuditEvent", func(t *testing.T) { testLastAuditEvent(t, open) })
	t.Run("ActionIdleSession", func(t *testing.T) { testIdleSession(t, open) })
	t.Run("ActionManageUsers", func(t *testing.T) { testManageUsers(t, open) })
	t.Run("ActionOverview", func(t *testing.T) { testOverview(t, open) })
}

func testRequeue(t *testing.T, open Open) {
	ctx := context.Background()
	now := at(900)
	s := open(t, store.Options{Now: func() time.Time { return now }})
	dead := Del("dead", "", h53, routing.RoutePull)
	dead.State, dead.Attempts, dead.LastError = routing.StateDead, 3, "no route to 000.00.00.H53"
	MustAccept(t, s, Doc("doc", 1), dead, Del("queued", "", h41, routing.RoutePush))
	requeue := func(id string, f func(d *routing.Delivery), from ...routing.DeliveryState) (*routing.Delivery, error) {
		d, err := s.Delivery(ctx, id)
		if err != nil {
			d = &routing.Delivery{ID: id, Route: routing.RoutePull, State: routing.StateQueued, NextAttemptAt: at(1)}
		}
		d.RequeuedAt = at(940)
		f(d)
		return d, s.RequeueDelivery(ctx, d, from, []*archive.Event{{Kind: "delivery.requeued", Delivery: id, Document: "doc"}})
	}
	toPush := func(d *routing.Delivery) {
		d.Route, d.State, d.Attempts, d.NextAttemptAt, d.LastError = routing.RoutePush, routing.StateQueued, 0, at(950), ""
	}
	refused := []struct {
		name string
		id   string
		f    func(d *routing.Delivery)
		from []routing.DeliveryState
		want error
	}{
		{"not in the expected state", "queued", toPush, []routing.DeliveryState{routing.StateDead}, routing.ErrStateConflict},
		{"unknown", "nothing", toPush, []routing.DeliveryState{routing.StateDead}, routing.ErrNotFound},
		{"from sending", "dead", toPush, []routing.DeliveryState{routing.StateSending}, store.ErrBadArgument},
		{"no from", "dead", toPush, nil, store.ErrBadArgument},
		{"bad route", "dead", func(d *routing.Delivery) { toPush(d); d.Route = "mail" }, []routing.DeliveryState{routing.StateDead}, store.ErrBadArgument},
		{"peer without a name", "dead", func(d *routing.Delivery) { toPush(d); d.Route = routing.RoutePeer }, []routing.DeliveryState{routing.StateDead}, store.ErrBadArgument},
		{"a name without peer", "dead", func(d *routing.Delivery) { toPush(d); d.Peer = "national" }, []routing.DeliveryState{routing.StateDead}, store.ErrBadArgument},
		{"no next attempt", "dead", func(d *routing.Delivery) { toPush(d); d.NextAttemptAt = time.Time{} }, []routing.DeliveryState{routing.StateDead}, store.ErrBadArgument},
		{"no requeue time", "dead", func(d *routing.Delivery) { toPush(d); d.RequeuedAt = time.Time{} }, []routing.DeliveryState{routing.StateDead}, store.ErrBadArgument},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			events := count(t, s, "audit_events")
			before, _ := s.Delivery(ctx, tc.id)
			if _, err := requeue(tc.id, tc.f, tc.from...); !errors.Is(err, tc.want) {
				t.Fatalf("RequeueDelivery = %v, want %v", err, tc.want)
			}
			if after, _ := s.Delivery(ctx, tc.id); before != nil && !sameDelivery(before, after) {
				t.Fatalf("written: %+v\nwas %+v", after, before)
			}
			if n := count(t, s, "audit_events"); n != events {
				t.Fatalf("%d events appended", n-events)
			}
		})
	}
	// The dead pull delivery goes again by push, due at once, counted afresh.
	got, err := requeue("dead", toPush, routing.StateDead)
	if err != nil {
		t.Fatalf("requeue: %v", err)
	}
	want := *dead
	want.Route, want.State, want.Attempts, want.NextAttemptAt, want.LastError, want.UpdatedAt = routing.RoutePush, routing.StateQueued, 0, at(950), "", now
	want.RequeuedAt = at(940) // the retry horizon starts again
	if stored, _ := s.Delivery(ctx, "dead"); !sameDelivery(got, &want) || !sameDelivery(stored, &want) {
		t.Fatalf("after requeue %+v (stored %+v)\nwant %+v", got, stored, want)
	}
	// A peer route names its peer.
	if _, err := requeue("queued", func(d *routing.Delivery) {
		d.Route, d.Peer, d.NextAttemptAt = routing.RoutePeer, "national", at(2000)
	}, routing.StateQueued); err != nil {
		t.Fatalf("requeue to a peer: %v", err)
	}
	if d, _ := s.Delivery(ctx, "queued"); d.Route != routing.RoutePeer || d.Peer != "national" || !d.NextAttemptAt.Equal(at(2000)) {
		t.Fatalf("peer route %+v", d)
	}
	// The worker claims the requeued one when due; a second requeue finds
	// it no longer dead.
	if claimed, err := s.Claim(ctx, at(951), time.Minute, 10); err != nil || !slices.Equal(ids(claimed), []string{"dead"}) {
		t.Fatalf("Claim = %v, %v", ids(claimed), err)
	}
	if _, err := requeue("dead", toPush, routing.StateDead); !errors.Is(err, routing.ErrStateConflict) {
		t.Fatalf("second requeue: %v", err)
	}
	if n := verifyChain(t, s); n != 3+2 {
		t.Fatalf("chain of %d events, want 5", n)
	}
}

func testLastAuditEvent(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if _, err := s.LastAuditEvent(ctx, "audit.verified"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("empty log: %v", err)
	}
	for i, kind := range []string{"audit.verified", "document.accepted", "audit.verified", "audit.verifiedx"} {
		e := Event(i)
		e.Kind = kind
		Append(t, s, e)
	}
	e, err := s.LastAuditEvent(ctx, "audit.verified")
	if err != nil || e.Seq != 3 || e.Kind != "audit.verified" {
		t.Fatalf("LastAuditEvent = %+v, %v", e, err)
	}
}

func testIdleSession(t *testing.T, open Open) {
	ctx := context.Background()
	c := &clock{t: at(0)}
	s := open(t, store.Options{Now: c.now})
	const pw = "mật khẩu đủ dài"
	if err := s.CreateUser(ctx, store.User{Name: "lan", Role: store.UserClerk, Agency: h53}, pw, "cli:test"); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Login(ctx, "lan", pw, "10.0.0.1", 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const idle = 30 * time.Minute
	// Each use within the idle time keeps the session, past its first 30 minutes.
	for range 4 {
		c.add(20 * time.Minute)
		if got, err := s.TouchSession(ctx, sess.Token, idle); err != nil || got.User.Name != "lan" || got.CSRF != sess.CSRF {
			t.Fatalf("TouchSession after 20 min: %+v, %v", got, err)
		}
	}
	if _, err := s.TouchSession(ctx, "forged", idle); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("forged token: %v", err)
	}
	seq := count(t, s, "audit_events")
	c.add(idle)
	if _, err := s.TouchSession(ctx, sess.Token, idle); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("idle session: %v", err)
	}
	if _, err := s.LookupSession(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("the idle session lives on: %v", err)
	}
	if got := kinds(t, s, seq); !slices.Equal(got, []string{store.KindSessionIdle}) {
		t.Fatalf("events %v", got)
	}
	// The absolute lifetime holds whatever the use.
	sess, err = s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c.add(20 * time.Minute)
		if _, err := s.TouchSession(ctx, sess.Token, idle); err != nil {
			t.Fatal(err)
		}
	}
	c.add(20 * time.Minute)
	if _, err := s.TouchSession(ctx, sess.Token, idle); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("expired session: %v", err)
	}
	verifyChain(t, s)
}

func testManageUsers(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const pw, pw2 = "mật khẩu đủ dài", "mật khẩu mới đủ dài"
	for _, u := range []store.User{{Name: "lan", Role: store.UserClerk, Agency: h53}, {Name: "an", Role: store.UserAdmin}} {
		if err := s.CreateUser(ctx, u, pw, "cli:test"); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Name != "an" || users[1].Name != "lan" || users[1].Agency != h53 || !users[1].DisabledAt.IsZero() {
		t.Fatalf("Users = %+v, %v", users, err)
	}
	sess, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	seq := count(t, s, "audit_events")
	// Disabling ends the sessions and refuses sign-in; twice is once.
	for range 2 {
		if err := s.SetUserDisabled(ctx, "lan", true, "admin:an"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LookupSession(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if _, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour); !errors.Is(err, store.ErrBadLogin) {
		t.Fatalf("disabled login: %v", err)
	}
	if u, _ := s.User(ctx, "lan"); u.DisabledAt.IsZero() {
		t.Fatal("not disabled")
	}
	if err := s.SetUserDisabled(ctx, "lan", false, "admin:an"); err != nil {
		t.Fatal(err)
	}
	sess, err = s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour)
	if err != nil {
		t.Fatalf("enabled login: %v", err)
	}
	// A new password lifts a lock-out and ends the sessions.
	for range store.MaxFailedLogins {
		_, _ = s.Login(ctx, "lan", "sai mật khẩu", "10.0.0.1", time.Hour)
	}
	if _, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("not locked: %v", err)
	}
	if err := s.SetUserPassword(ctx, "lan", "ngắn", "admin:an"); !errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("short password: %v", err)
	}
	if err := s.SetUserPassword(ctx, "lan", pw2, "admin:an"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupSession(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("a session outlives the new password: %v", err)
	}
	if _, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour); !errors.Is(err, store.ErrBadLogin) {
		t.Fatalf("old password: %v", err)
	}
	if _, err := s.Login(ctx, "lan", pw2, "10.0.0.1", time.Hour); err != nil {
		t.Fatalf("new password: %v", err)
	}
	for _, err := range []error{s.SetUserDisabled(ctx, "nobody", true, "admin:an"), s.SetUserPassword(ctx, "nobody", pw2, "admin:an")} {
		if !errors.Is(err, routing.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	}
	var managed []string
	events, err := s.AuditEvents(ctx, seq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		switch e.Kind {
		case store.KindUserDisabled, store.KindUserEnabled, store.KindUserPasswordReset:
			managed = append(managed, e.Kind)
			if e.Actor != "admin:an" || e.Agency != h53 || string(e.Details) != `{"user":"lan"}` {
				t.Fatalf("event %s: %s %s %s", e.Kind, e.Actor, e.Agency, e.Details)
			}
		}
	}
	if want := []string{store.KindUserDisabled, store.KindUserEnabled, store.KindUserPasswordReset}; !slices.Equal(managed, want) {
		t.Fatalf("events %v, want %v", managed, want)
	}
	verifyChain(t, s)
}

func testOverview(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	day0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	doc := func(id string, received time.Time, ds ...*routing.Delivery) {
		d := Doc(id, len(id)+int(received.Unix()%1000))
		d.ReceivedAt, d.EdxmlID, d.Number = received, "", id
		for _, x := range ds {
			x.CreatedAt, x.UpdatedAt, x.NextAttemptAt = received, received, received
		}
		MustAccept(t, s, d, ds...)
	}
	state := func(d *routing.Delivery, st routing.DeliveryState) *routing.Delivery { d.State = st; return d }
	// Day 0: two documents (one at 23:59 Vietnam time); day 2: one; a
	// status packet counts for nothing.
	doc("a", day0.Add(time.Hour), state(Del("a1", "", h53, routing.RoutePull), routing.StateAcked))
	doc("b", day0.Add(24*time.Hour-time.Minute), Del("b1", "", h53, routing.RoutePush), state(Del("b2", "", h41, routing.RoutePull), routing.StateDead))
	doc("c", day0.Add(49*time.Hour), Del("c1", "", h41, routing.RoutePull), state(Del("c2", "", h53, routing.RoutePush), routing.StateDead))
	st := Doc("s", 99)
	st.Kind, st.EdxmlID, st.Number, st.ReceivedAt = envelope.KindStatus, "x", "", day0.Add(50*time.Hour)
	MustAccept(t, s, st)
	if _, err := s.Overview(ctx, store.OverviewQuery{Since: day0, Days: 0}); !errors.Is(err, store.ErrBadArgument) {
		t.Fatalf("0 days: %v", err)
	}
	o, err := s.Overview(ctx, store.OverviewQuery{Since: day0, Days: 4, DeadLetters: 10})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for i, d := range o.Days {
		counts = append(counts, d.Documents)
		if !d.Day.Equal(day0.AddDate(0, 0, i)) {
			t.Fatalf("day %d is %v", i, d.Day)
		}
	}
	if !slices.Equal(counts, []int64{2, 0, 1, 0}) {
		t.Fatalf("documents per day %v", counts)
	}
	if o.Waiting != 2 || o.Dead != 2 {
		t.Fatalf("waiting %d dead %d", o.Waiting, o.Dead)
	}
	if o.Oldest == nil || o.Oldest.Delivery.ID != "b1" || o.Oldest.Document.ID != "b" || o.Oldest.Document.From != g22 {
		t.Fatalf("oldest %+v", o.Oldest)
	}
	var dead []string
	for _, x := range o.DeadLetters {
		dead = append(dead, x.Delivery.ID+"@"+x.Document.ID)
	}
	if !slices.Equal(dead, []string{"c2@c", "b2@b"}) {
		t.Fatalf("dead letters %v", dead)
	}
	// Nothing waiting: no oldest.
	for _, id := range []string{"b1", "c1"} {
		d, _ := s.Delivery(ctx, id)
		d.State = routing.StateCancelled
		if err := s.UpdateDelivery(ctx, d, []routing.DeliveryState{routing.StateQueued}, time.Time{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if o, err := s.Overview(ctx, store.OverviewQuery{Since: day0, Days: 1}); err != nil || o.Oldest != nil || o.Waiting != 0 || len(o.DeadLetters) != 0 {
		t.Fatalf("overview %+v, %v", o, err)
	}
}
