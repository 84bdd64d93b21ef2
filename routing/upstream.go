package routing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// An Upstream forwards originals to peer hubs that speak a protocol other
// than edocgw's own (PeerVXP: the national axis's SDK protocol). The hub
// calls it from its delivery worker with the peer's HTTP client (its CA
// trusted), the document and its original, unchanged.
//
// It returns the peer's id for the packet once the peer holds it (also
// when the peer says it had it already). An error is retried with backoff
// unless it wraps ErrPermanent.
type Upstream interface {
	Forward(ctx context.Context, c *http.Client, p Peer, doc *Document, original io.Reader) (remote string, err error)
}

// ErrPermanent marks an error no retry can fix (the peer refuses the
// packet itself): the delivery is dead at once.
var ErrPermanent = errors.New("permanent")

// Permanent wraps err with ErrPermanent.
func Permanent(err error) error { return fmt.Errorf("%w (%w)", err, ErrPermanent) }

// PeerClient returns the HTTP client the hub uses for a peer: redirects
// refused, the peer's CA trusted besides the system roots.
func (h *Hub) PeerClient(p Peer) (*http.Client, error) { return h.clients.peer(p) }

// forwardUpstream delivers through the Upstream registered for p.Kind.
func (h *Hub) forwardUpstream(ctx context.Context, p Peer, doc *Document, original io.Reader) outcome {
	up := h.o.Upstreams[p.Kind]
	if up == nil {
		return outcome{permanent: true, err: fmt.Errorf("peer hub %s speaks %q, which this gateway is not configured for", p.Name, p.Kind)}
	}
	c, err := h.clients.peer(p)
	if err != nil {
		return outcome{permanent: true, err: err}
	}
	remote, err := up.Forward(ctx, c, p, doc, original)
	if err != nil {
		return outcome{permanent: errors.Is(err, ErrPermanent) || permanentTransport(err), err: err}
	}
	return outcome{remote: remote}
}
