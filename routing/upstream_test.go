package routing_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

// upstreamFunc is a routing.Upstream that records what it was given.
type upstreamFunc struct {
	mu    sync.Mutex
	calls int
	got   []byte
	peer  routing.Peer
	doc   *routing.Document
	fn    func(n int) (string, error)
}

func (u *upstreamFunc) Forward(_ context.Context, c *http.Client, p routing.Peer, doc *routing.Document, original io.Reader) (string, error) {
	b, err := io.ReadAll(original)
	if err != nil || c == nil {
		return "", fmt.Errorf("read: %v, client %v", err, c)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	u.got, u.peer, u.doc = b, p, doc
	return u.fn(u.calls)
}

// A peer of another kind is reached through the Upstream registered for
// it: retried on an error, dead at once on a permanent one, dead when no
// Upstream speaks its kind.
func TestForwardUpstream(t *testing.T) {
	fixturePKI(t)
	axis := routing.Peer{Name: "axis", Kind: routing.PeerVXP, URL: "https://axis.example/XrdAdapter/adapter", SystemID: "00.53.W00", Token: "sealed"}
	for _, c := range []struct {
		name     string
		up       *upstreamFunc
		state    routing.DeliveryState
		attempts int
	}{
		{"delivered after a retry", &upstreamFunc{fn: func(n int) (string, error) {
			if n == 1 {
				return "", errors.New("connection refused")
			}
			return "68edb8c8c2dcb14db773ce44", nil
		}}, routing.StateDelivered, 2},
		{"refused: dead at once", &upstreamFunc{fn: func(int) (string, error) {
			return "", routing.Permanent(errors.New("ErrorCode 2004"))
		}}, routing.StateDead, 1},
		{"no upstream for the kind", nil, routing.StateDead, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "", func(o *routing.Options) {
				if c.up != nil {
					o.Upstreams = map[routing.PeerKind]routing.Upstream{routing.PeerVXP: c.up}
				}
			})
			ctx := context.Background()
			if err := e.store.PutPeer(ctx, axis, "test"); err != nil {
				t.Fatal(err)
			}
			if err := e.store.PutRoute(ctx, routing.Route{Pattern: "G17", Peer: "axis"}, "test"); err != nil {
				t.Fatal(err)
			}
			e.hub.Reload()
			stop := e.runWorker()
			doc := e.signed(g22, hubtest.Doc{To: []agencyids.Code{g17}})
			rc := e.accept(agencyP(g22), doc)
			waitState(t, e, rc.Recipients[0].DeliveryID, c.state)
			stop()
			r := recipient(t, e.trace(agencyP(g22), rc.ID), g17)
			if r.Attempts != c.attempts || r.Peer != "axis" {
				t.Fatalf("%s after %d attempts via %q: %q", r.State, r.Attempts, r.Peer, r.LastError)
			}
			if c.up == nil {
				if r.LastError == "" {
					t.Fatal("no error recorded")
				}
				return
			}
			if string(c.up.got) != string(doc) || c.up.peer.SystemID != axis.SystemID || c.up.doc.ID != rc.ID {
				t.Fatalf("the upstream got %d bytes, peer %+v, document %+v", len(c.up.got), c.up.peer, c.up.doc)
			}
			if c.state == routing.StateDelivered && r.Remote != "68edb8c8c2dcb14db773ce44" {
				t.Fatalf("remote %q", r.Remote)
			}
		})
	}
}
