package routing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

// TestPeerTraceDownIsNotAskedAgain: a peer hub that takes a forwarded
// document but drops the connection when asked for its trace costs one
// trace a request, with PeerError on both recipients it carries; the
// traces of the next 30 seconds do not ask it, and say so; after that it
// is asked again.
func TestPeerTraceDownIsNotAskedAgain(t *testing.T) {
	fixturePKI(t)
	var traces atomic.Int32
	peer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/documents":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"id":"remote-1"}`))
		case strings.HasSuffix(r.URL.Path, "/trace"):
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close() // down, as far as the caller can tell
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer peer.Close()
	var skew atomic.Int64
	e := newEnv(t, "", func(o *routing.Options) {
		o.Transport = countTraces{peer.Client().Transport, &traces}
		o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	ctx := context.Background()
	if err := e.store.PutPeer(ctx, routing.Peer{Name: "province", Kind: routing.PeerEdocgw, URL: peer.URL}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"G17", "H53"} {
		if err := e.store.PutRoute(ctx, routing.Route{Pattern: pattern, Peer: "province"}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	e.hub.Reload()
	stop := e.runWorker()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{g17, h53}}))
	for _, r := range rc.Recipients {
		waitState(t, e, r.DeliveryID, routing.StateDelivered)
	}
	stop()

	peerErrors := func(want int32) []string {
		t.Helper()
		tr := e.trace(agencyP(g22), rc.ID)
		if n := traces.Load(); n != want {
			t.Fatalf("the peer was asked for its trace %d times; want %d", n, want)
		}
		var out []string
		for _, c := range []agencyids.Code{g17, h53} {
			r := recipient(t, tr, c)
			if r.Remote != "remote-1" || r.PeerError == "" {
				t.Fatalf("%s: remote %q, peer error %q", c, r.Remote, r.PeerError)
			}
			out = append(out, r.PeerError)
		}
		return out
	}
	first := peerErrors(1) // one request for the two recipients
	if strings.Contains(first[0], "not asked again") {
		t.Errorf("first trace: %q", first[0])
	}
	skew.Store(int64(20 * time.Second))
	if again := peerErrors(1); !strings.Contains(again[0], "not asked again until") || !strings.Contains(again[1], "not asked again until") {
		t.Errorf("within 30 s: %q", again)
	}
	skew.Store(int64(31 * time.Second))
	if later := peerErrors(2); strings.Contains(later[0], "not asked again") {
		t.Errorf("after 30 s: %q", later[0])
	}
}

// countTraces counts the requests for a trace that the hub makes.
type countTraces struct {
	http.RoundTripper
	n *atomic.Int32
}

func (c countTraces) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/trace") {
		c.n.Add(1)
	}
	return c.RoundTripper.RoundTrip(r)
}
