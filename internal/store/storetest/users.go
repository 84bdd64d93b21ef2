package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

func runUsers(t *testing.T, open Open) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("UserLogin", func(t *testing.T) { testUserLogin(t, open) })
	t.Run("UserSearchDocuments", func(t *testing.T) { testSearchDocuments(t, open) })
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// kinds returns the kinds of the audit events after seq.
func kinds(t testing.TB, s *store.Store, after int64) []string {
	t.Helper()
	events, err := s.AuditEvents(context.Background(), after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

func testUsers(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const pw = "mật khẩu đủ dài"
	if err := s.CreateUser(ctx, store.User{Name: "lan", Role: store.UserClerk, Agency: h53}, pw, "cli:test"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		u    store.User
		pw   string
	}{
		{"exists", store.User{Name: "lan", Role: store.UserClerk, Agency: h53}, pw},
		{"bad name", store.User{Name: "Lan Anh", Role: store.UserClerk, Agency: h53}, pw},
		{"clerk without agency", store.User{Name: "a", Role: store.UserClerk}, pw},
		{"clerk with bad agency", store.User{Name: "a", Role: store.UserClerk, Agency: "not a code"}, pw},
		{"auditor with agency", store.User{Name: "a", Role: store.UserAuditor, Agency: h53}, pw},
		{"unknown role", store.User{Name: "a", Role: "boss"}, pw},
		{"short password", store.User{Name: "a", Role: store.UserAuditor}, "ngắn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CreateUser(ctx, tt.u, tt.pw, "cli:test"); !errors.Is(err, store.ErrBadArgument) {
				t.Fatalf("CreateUser = %v, want ErrBadArgument", err)
			}
		})
	}
	u, err := s.User(ctx, "lan")
	if err != nil || u.Role != store.UserClerk || u.Agency != h53 || u.FailedLogins != 0 || !u.LockedUntil.IsZero() || u.CreatedAt.IsZero() {
		t.Fatalf("User = %+v, %v", u, err)
	}
	if _, err := s.User(ctx, "nobody"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("User(nobody) = %v", err)
	}
	events, err := s.AuditEvents(ctx, 0, 100)
	if err != nil || len(events) != 1 || events[0].Kind != store.KindUserCreated || events[0].Actor != "cli:test" || events[0].Agency != h53 {
		t.Fatalf("events = %v, %v", events, err)
	}
	if strings.Contains(string(events[0].Details), "mật") {
		t.Fatalf("the password is in the log: %s", events[0].Details)
	}
	verifyChain(t, s)
}

func testUserLogin(t *testing.T, open Open) {
	ctx := context.Background()
	c := &clock{t: at(0)}
	s := open(t, store.Options{Now: c.now})
	const pw = "mật khẩu đủ dài"
	if err := s.CreateUser(ctx, store.User{Name: "lan", Role: store.UserClerk, Agency: h53}, pw, "cli:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "nobody", pw, "10.0.0.1", time.Hour); !errors.Is(err, store.ErrBadLogin) {
		t.Fatalf("unknown user: %v", err)
	}
	for i := 1; i < store.MaxFailedLogins; i++ {
		if _, err := s.Login(ctx, "lan", "sai mật khẩu", "10.0.0.1", time.Hour); !errors.Is(err, store.ErrBadLogin) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if u, _ := s.User(ctx, "lan"); u.FailedLogins != store.MaxFailedLogins-1 {
		t.Fatalf("failed logins = %d", u.FailedLogins)
	}
	// The 5th failure locks; then even the right password is refused.
	if _, err := s.Login(ctx, "lan", "sai mật khẩu", "10.0.0.1", time.Hour); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("5th failure: %v", err)
	}
	if _, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("locked: %v", err)
	}
	c.add(store.LockoutPeriod - time.Second)
	if _, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("still locked: %v", err)
	}
	c.add(time.Second)
	sess, err := s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour)
	if err != nil {
		t.Fatalf("after the lock-out: %v", err)
	}
	if sess.Token == "" || sess.CSRF == "" || sess.Token == sess.CSRF || sess.User.Name != "lan" || !sess.ExpiresAt.Equal(c.now().Add(time.Hour)) {
		t.Fatalf("session = %+v", sess)
	}
	got, err := s.LookupSession(ctx, sess.Token)
	if err != nil || got.User.Name != "lan" || got.User.Agency != h53 || got.CSRF != sess.CSRF {
		t.Fatalf("LookupSession = %+v, %v", got, err)
	}
	// The token itself is not stored.
	if n := countWhere(t, s, "sessions", "csrf = $1", sess.CSRF); n != 1 {
		t.Fatalf("%d sessions", n)
	}
	if n := countWhere(t, s, "sessions", "hash = $1", []byte(sess.Token)); n != 0 {
		t.Fatal("the session token is stored in clear")
	}
	for _, bad := range []string{"", "x", sess.CSRF, strings.Repeat("a", 200)} {
		if _, err := s.LookupSession(ctx, bad); !errors.Is(err, store.ErrNoSession) {
			t.Fatalf("LookupSession(%q) = %v", bad, err)
		}
	}
	c.add(time.Hour)
	if _, err := s.LookupSession(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("expired session: %v", err)
	}
	sess, err = s.Login(ctx, "lan", pw, "10.0.0.1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupSession(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	if err := s.Logout(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("logout twice: %v", err)
	}
	want := []string{store.KindUserCreated, store.KindLoginFailed, store.KindLoginFailed, store.KindLoginFailed, store.KindLoginFailed,
		store.KindLoginFailed, store.KindLoginFailed, store.KindLoginLocked, store.KindLoginFailed, store.KindLoginFailed,
		store.KindLoginSucceeded, store.KindLoginSucceeded, store.KindLogout}
	if got := kinds(t, s, 0); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	verifyChain(t, s)
}

func countWhere(t testing.TB, s *store.Store, table, where string, arg any) int64 {
	t.Helper()
	var n int64
	if err := s.InTx(context.Background(), func(tx store.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+where, arg).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func testSearchDocuments(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const unit = agencyids.Code("000.00.01.G22")
	// 1: G22 → H53; 2: H41 → G22 unit (dead); 3: H53 → H41; 4: G22 → H41, H53.
	d1 := Doc("01D1", 1)
	d2 := Doc("01D2", 2)
	d2.From, d2.Number, d2.Notation, d2.Subject, d2.EdxmlID = h41, "7", "UBND-VP_X", "Kế hoạch 100% số hoá", ""
	d3 := Doc("01D3", 3)
	d3.From, d3.EdxmlID, d3.Subject = h53, "", "Báo cáo quý"
	d4 := Doc("01D4", 4)
	MustAccept(t, s, d1, Del("01E1", "01D1", h53, routing.RoutePull))
	dead := Del("01E2", "01D2", unit, routing.RoutePush)
	dead.State = routing.StateDead
	MustAccept(t, s, d2, dead)
	MustAccept(t, s, d3, Del("01E3", "01D3", h41, routing.RoutePull))
	MustAccept(t, s, d4, Del("01E4", "01D4", h41, routing.RoutePull), Del("01E5", "01D4", h53, routing.RoutePeer))

	g22Scope := []agencyids.Code{g22, unit}
	tests := []struct {
		name string
		q    store.DocumentQuery
		want []string
	}{
		{"all of G22 and its unit", store.DocumentQuery{Scope: g22Scope}, []string{"01D4", "01D2", "01D1"}},
		{"sent", store.DocumentQuery{Scope: g22Scope, Direction: store.DirSent}, []string{"01D4", "01D1"}},
		{"received", store.DocumentQuery{Scope: g22Scope, Direction: store.DirReceived}, []string{"01D2"}},
		{"H41 sees its own only", store.DocumentQuery{Scope: []agencyids.Code{h41}}, []string{"01D4", "01D3", "01D2"}},
		{"H53", store.DocumentQuery{Scope: []agencyids.Code{h53}}, []string{"01D4", "01D3", "01D1"}},
		{"an outsider sees nothing", store.DocumentQuery{Scope: []agencyids.Code{"000.00.00.A01"}}, nil},
		{"number", store.DocumentQuery{Scope: g22Scope, Number: "1/vpcp"}, []string{"01D1"}},
		{"number with wildcards", store.DocumentQuery{Scope: g22Scope, Number: "_X"}, []string{"01D2"}},
		{"a wildcard is literal", store.DocumentQuery{Scope: g22Scope, Number: "%"}, nil},
		{"subject", store.DocumentQuery{Scope: g22Scope, Subject: "100%"}, []string{"01D2"}},
		{"subject out of scope", store.DocumentQuery{Scope: g22Scope, Subject: "Báo cáo"}, nil},
		{"counterpart of sent", store.DocumentQuery{Scope: g22Scope, Counterpart: h41}, []string{"01D4", "01D2"}},
		{"counterpart of received", store.DocumentQuery{Scope: g22Scope, Direction: store.DirReceived, Counterpart: h41}, []string{"01D2"}},
		{"date range", store.DocumentQuery{Scope: g22Scope, From: at(2), To: at(4)}, []string{"01D2"}},
		{"state", store.DocumentQuery{Scope: g22Scope, State: routing.StateDead}, []string{"01D2"}},
		{"state of sent", store.DocumentQuery{Scope: g22Scope, State: routing.StateQueued}, []string{"01D4", "01D1"}},
		{"cursor and limit", store.DocumentQuery{Scope: g22Scope, Before: "01D4", Limit: 1}, []string{"01D2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.q.Limit == 0 {
				tt.q.Limit = 50
			}
			docs, err := s.SearchDocuments(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				got = append(got, d.Document.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// A received document shows only the scope's own deliveries.
	docs, err := s.SearchDocuments(ctx, store.DocumentQuery{Scope: []agencyids.Code{h41}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d := docs[0]; d.Document.ID != "01D4" || d.Sent || len(d.Deliveries) != 1 || d.Deliveries[0].Recipient != h41 {
		t.Fatalf("received 01D4 = %+v", d)
	}
	if d := docs[2]; d.Document.ID != "01D2" || !d.Sent || len(d.Deliveries) != 1 {
		t.Fatalf("sent 01D2 = %+v", d)
	}
	for _, q := range []store.DocumentQuery{{Limit: 10}, {Scope: g22Scope}, {Scope: g22Scope, Limit: 10, Direction: "up"},
		{Scope: g22Scope, Limit: 10, State: "lost"}} {
		if _, err := s.SearchDocuments(ctx, q); !errors.Is(err, store.ErrBadArgument) {
			t.Fatalf("SearchDocuments(%+v) = %v", q, err)
		}
	}
}
