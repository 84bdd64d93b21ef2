package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// peerTraceTimeout bounds the reads of peers' traces for one trace.
const peerTraceTimeout = 3 * time.Second

// addPeerSteps adds to each recipient this hub forwarded to an edocgw peer
// the steps that peer reports for it (design §9: one timeline across
// hubs), read with this hub's token from the peer's trace of its copy;
// each such step names the peer in Hub. A peer that does not answer in
// time leaves PeerError instead. They are not this hub's records: an
// export bundle holds this hub's steps only.
func (h *Hub) addPeerSteps(ctx context.Context, t *Trace) {
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, peerTraceTimeout)
	defer cancel()
	for i := range t.Recipients {
		r := &t.Recipients[i]
		p, ok := cfg.peers[r.Peer]
		if r.Route != RoutePeer || r.Remote == "" || !ok || p.URL == "" || (p.Kind != "" && p.Kind != PeerEdocgw) {
			continue
		}
		pt, err := h.peerTrace(ctx, p, r.Remote)
		if err != nil {
			r.PeerError = err.Error()
			continue
		}
		for _, pr := range pt.Recipients {
			if pr.Agency != r.Agency {
				continue
			}
			for _, s := range pr.Steps {
				if s.Step == "status" || s.Hub != "" {
					continue // statuses come back as packets; only the peer's own steps
				}
				s.Hub = p.Name
				r.Steps = append(r.Steps, s)
			}
		}
		slices.SortStableFunc(r.Steps, func(a, b Step) int { return a.At.Compare(b.At) })
	}
}

// peerTrace reads a peer's trace of its document id.
func (h *Hub) peerTrace(ctx context.Context, p Peer, id string) (*Trace, error) {
	c, err := h.clients.peer(p)
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(p.URL, "/") + "/v1/documents/" + url.PathEscape(id) + "/trace"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(p.Token))
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("peer hub %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("peer hub %s answered %d for its trace", p.Name, resp.StatusCode)
	}
	var t Trace
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&t); err != nil {
		return nil, fmt.Errorf("peer hub %s: its trace: %w", p.Name, err)
	}
	return &t, nil
}
