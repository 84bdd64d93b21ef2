package server_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/routing"
)

// A flood of bad tokens from one address costs the audit log ten events,
// then one a refill: the rest are answered 429 with Retry-After and
// counted in the next event. Valid tokens from the same address still
// work.
func TestFailedAuthenticationsAreRateLimited(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	e := newEnv(t, func(c *server.Config) { c.Now = func() time.Time { return time.Unix(0, now.Load()) } })
	bad, _, err := authtoken.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	try := func() response {
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/v1/inbox", nil)
		req.Header.Set("Authorization", "Bearer "+bad)
		return send(t, e.ts.Client(), req)
	}
	refused := func() int {
		e.hub.mu.Lock()
		defer e.hub.mu.Unlock()
		return len(e.hub.refused)
	}
	for i := range 10 {
		if r := try(); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %s", i+1, r)
		}
	}
	for i := range 5 {
		r := try()
		if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(r.body), "too-many-failures") || r.Header.Get("Retry-After") == "" {
			t.Fatalf("attempt %d past the limit: %s (Retry-After %q)", 11+i, r, r.Header.Get("Retry-After"))
		}
	}
	if n := refused(); n != 10 {
		t.Fatalf("%d refusals audited, want 10", n)
	}
	if r := e.do(t, routing.RoleAgency, http.MethodGet, "/v1/inbox", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("a valid token from the same address: %s", r)
	}
	now.Add(int64(7 * time.Second)) // one refill
	if r := try(); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after a refill: %s", r)
	}
	e.hub.mu.Lock()
	last := e.hub.refused[len(e.hub.refused)-1]
	e.hub.mu.Unlock()
	if !strings.Contains(last.why, "5 more refused from this address") {
		t.Fatalf("the next audited refusal does not count the others: %q", last.why)
	}
	if r := try(); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the refill is spent: %s", r)
	}
}
