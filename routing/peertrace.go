package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// peerTraceTimeout bounds the reads of peers' traces for one trace.
	peerTraceTimeout = 3 * time.Second
	// peerQuiet is how long a peer that did not answer a trace is not
	// asked again: a hub that is down costs one trace the wait, not every
	// view of every trace.
	peerQuiet = 30 * time.Second
)

// peerSilence remembers the peers that did not answer a trace request.
type peerSilence struct {
	mu     sync.Mutex
	byPeer map[string]silent
}

type silent struct {
	until time.Time
	err   string
}

// check returns the failure recorded for peer that still stands at now.
func (ps *peerSilence) check(peer string, now time.Time) (silent, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	s, ok := ps.byPeer[peer]
	if ok && !now.Before(s.until) {
		delete(ps.byPeer, peer)
		ok = false
	}
	return s, ok
}

func (ps *peerSilence) record(peer string, now time.Time, err error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.byPeer == nil {
		ps.byPeer = map[string]silent{}
	}
	ps.byPeer[peer] = silent{until: now.Add(peerQuiet), err: err.Error()}
}

// addPeerSteps adds to each recipient this hub forwarded to an edocgw peer
// the steps that peer reports for it (design §9: one timeline across
// hubs), read with this hub's token from the peer's trace of its copy;
// each such step names the peer in Hub. A peer that does not answer in
// time leaves PeerError instead, and is not asked again for peerQuiet.
// A peer's trace of one copy serves every recipient it carries. They are
// not this hub's records: an export bundle holds this hub's steps only.
func (h *Hub) addPeerSteps(ctx context.Context, t *Trace) {
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, peerTraceTimeout)
	defer cancel()
	type answer struct {
		t   *Trace
		err error
	}
	asked := map[[2]string]answer{} // by peer and its document id
	for i := range t.Recipients {
		r := &t.Recipients[i]
		p, ok := cfg.peers[r.Peer]
		if r.Route != RoutePeer || r.Remote == "" || !ok || p.URL == "" || (p.Kind != "" && p.Kind != PeerEdocgw) {
			continue
		}
		key := [2]string{p.Name, r.Remote}
		a, ok := asked[key]
		if !ok {
			now := h.now()
			if s, quiet := h.peerSilence.check(p.Name, now); quiet {
				a.err = fmt.Errorf("%s (not asked again until %s)", s.err, s.until.Format(time.RFC3339))
			} else if a.t, a.err = h.peerTrace(ctx, p, r.Remote); a.err != nil && !answered(a.err) {
				h.peerSilence.record(p.Name, now, a.err)
			}
			asked[key] = a
		}
		if a.err != nil {
			r.PeerError = a.err.Error()
			continue
		}
		pt := a.t
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
		return nil, peerAnswerError{fmt.Errorf("peer hub %s answered %d for its trace", p.Name, resp.StatusCode)}
	}
	var t Trace
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&t); err != nil {
		return nil, peerAnswerError{fmt.Errorf("peer hub %s: its trace: %w", p.Name, err)}
	}
	return &t, nil
}

// peerAnswerError is a peer's refusal: it is up, and is asked again next
// time.
type peerAnswerError struct{ error }

func (e peerAnswerError) Unwrap() error { return e.error }

// answered reports whether err came from a peer that answered.
func answered(err error) bool {
	var pa peerAnswerError
	return errors.As(err, &pa)
}
