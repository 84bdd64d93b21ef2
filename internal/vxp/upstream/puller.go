package upstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// Hub is what the Puller needs of the hub (routing.Hub implements it).
type Hub interface {
	Accept(ctx context.Context, p routing.Principal, body io.Reader, size int64) (*routing.Receipt, error)
	PeerClient(p routing.Peer) (*http.Client, error)
}

// Store is what the Puller needs of the metadata store.
type Store interface {
	Peers(ctx context.Context) ([]routing.Peer, error)
	AppendEvents(ctx context.Context, events ...*archive.Event) error
	// TryLease and ReleaseLease keep two gateway processes on one
	// database from polling the same peer at once (internal/store).
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// KindPulled is the audit event of a packet pulled from a vxp peer and
// accepted: its document, the peer and the peer's docId.
const KindPulled = "upstream.pulled"

// Puller fetches the packets a vxp peer holds for this hub's agencies.
type Puller struct {
	Config
	Hub   Hub
	Store Store
	// Interval is the wait between polls (default 30 s).
	Interval time.Duration
	Logger   *slog.Logger
	// Holder names this Puller in the poll leases (default: random, once).
	Holder string

	holderOnce sync.Once
}

const (
	// maxRounds bounds the lists one poll reads per peer and message type.
	maxRounds = 20
	// pollLease is how long a poll holds a peer, renewed at each list: a
	// process that stops mid-poll leaves the peer to the others after it.
	pollLease = 5 * time.Minute
)

// holder returns p.Holder, made up once if empty.
func (p *Puller) holder() string {
	p.holderOnce.Do(func() {
		if p.Holder == "" {
			p.Holder = "puller-" + rand.Text()
		}
	})
	return p.Holder
}

// leaseName is the lease of a peer's poll.
func leaseName(peer routing.Peer) string { return "vxp-poll:" + peer.Name }

// Run polls every Interval until ctx is done.
func (p *Puller) Run(ctx context.Context) {
	every := p.Interval
	if every <= 0 {
		every = 30 * time.Second
	}
	for {
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log().Warn("vxp upstream poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (p *Puller) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// Poll reads each vxp peer's lists once, documents before statuses (so a
// status about a document pulled in the same poll finds it), and takes in
// every packet listed. A packet the hub accepts, or had already, is
// acknowledged done; one it refuses, fail; one it cannot take now (its
// store or archive away) stays listed for the next poll. A peer that
// another process is polling (its lease) is left to it: two processes
// would both take in what the peer lists, and a status 05, which may
// repeat, twice.
func (p *Puller) Poll(ctx context.Context) error {
	peers, err := p.Store.Peers(ctx)
	if err != nil {
		return fmt.Errorf("read peers: %w", err)
	}
	var errs []error
	for _, peer := range peers {
		if peer.Kind != routing.PeerVXP || peer.URL == "" {
			continue
		}
		if err := p.pollPeer(ctx, peer); err != nil {
			errs = append(errs, fmt.Errorf("peer %s: %w", peer.Name, err))
		}
	}
	return errors.Join(errs...)
}

// pollPeer polls one peer under its lease.
func (p *Puller) pollPeer(ctx context.Context, peer routing.Peer) error {
	held, err := p.Store.TryLease(ctx, leaseName(peer), p.holder(), pollLease)
	if err != nil || !held {
		return err // not held: another process polls it now
	}
	defer func() {
		if err := p.Store.ReleaseLease(context.WithoutCancel(ctx), leaseName(peer), p.holder()); err != nil {
			p.log().Warn("vxp upstream: release the poll lease", "peer", peer.Name, "err", err)
		}
	}()
	var errs []error
	for _, mt := range []string{"edoc", "status"} {
		if err := p.pollList(ctx, peer, mt); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", mt, err))
		}
	}
	return errors.Join(errs...)
}

// listed is an item of getReceivedEdocList as this hub reads it.
type listed struct {
	DocID string `json:"docId"`
}

func (p *Puller) pollList(ctx context.Context, peer routing.Peer, mt string) error {
	hc, err := p.Hub.PeerClient(peer)
	if err != nil {
		return err
	}
	for round := range maxRounds {
		if round > 0 {
			// Renew the lease; lost (expired and taken), stop.
			if held, err := p.Store.TryLease(ctx, leaseName(peer), p.holder(), pollLease); err != nil || !held {
				return err
			}
		}
		cl, err := p.client(hc, peer)
		if err != nil {
			return err
		}
		r, err := cl.GetReceivedEdocList(ctx, headers("servicetype", "eDoc", "messagetype", mt))
		if err != nil {
			return fmt.Errorf("getReceivedEdocList: %w", err)
		}
		if !r.OK() {
			return fmt.Errorf("getReceivedEdocList: ErrorCode %s %s", r.ErrorCode, r.ErrorDesc)
		}
		var items []listed
		if err := r.List(&items); err != nil {
			return fmt.Errorf("getReceivedEdocList: data: %w", err)
		}
		progressed := false
		var errs []error
		for _, it := range items {
			if it.DocID == "" {
				continue
			}
			done, err := p.pull(ctx, hc, peer, mt, it.DocID)
			if err != nil {
				errs = append(errs, fmt.Errorf("docId %s: %w", it.DocID, err))
			}
			progressed = progressed || done
		}
		if !progressed || ctx.Err() != nil {
			return errors.Join(errs...)
		}
	}
	return nil
}

// pull takes one listed packet in; done reports that it was acknowledged.
func (p *Puller) pull(ctx context.Context, hc *http.Client, peer routing.Peer, mt, docID string) (done bool, err error) {
	cl, err := p.client(hc, peer)
	if err != nil {
		return false, err
	}
	r, err := cl.GetEdoc(ctx, headers("docId", docID))
	if err != nil {
		return false, fmt.Errorf("getEdoc: %w", err)
	}
	if !r.OK() {
		return false, fmt.Errorf("getEdoc: ErrorCode %s %s", r.ErrorCode, r.ErrorDesc)
	}
	data, err := r.Edoc()
	if err != nil {
		return false, fmt.Errorf("getEdoc: %w", err)
	}
	principal := routing.Principal{Role: routing.RoleHub, Peer: peer.Name, Via: "vxp"}
	rc, err := p.Hub.Accept(ctx, principal, bytes.NewReader(data), int64(len(data)))
	var dup *routing.DuplicateError
	status, why := "done", ""
	switch {
	case err == nil:
		d, _ := json.Marshal(map[string]string{"peer": peer.Name, "remote": docID, "messagetype": mt})
		if aerr := p.Store.AppendEvents(context.WithoutCancel(ctx), &archive.Event{Kind: KindPulled, Actor: principal.Actor(),
			Agency: rc.From, Document: rc.ID, Details: d}); aerr != nil {
			p.log().Warn("vxp upstream: audit the pull", "document", rc.ID, "err", aerr)
		}
	case errors.As(err, &dup):
		// Taken in before: an acknowledgement lost, or another process.
	case errors.Is(err, routing.ErrUnavailable) || ctx.Err() != nil:
		return false, err // stays listed: the next poll tries again
	default:
		// Refused (and audited) by the pipeline: tell the axis.
		status, why = "fail", err.Error()
		p.log().Warn("vxp upstream: packet refused", "peer", peer.Name, "docId", docID, "err", err)
	}
	ack := []string{"docId", docID, "status", status}
	if why != "" {
		ack = append(ack, "description", clip(why, 500))
	}
	ur, err := cl.UpdateStatus(ctx, headers(ack...))
	if err != nil {
		return false, fmt.Errorf("updateStatus %s: %w", status, err)
	}
	if !ur.OK() {
		return false, fmt.Errorf("updateStatus %s: ErrorCode %s %s", status, ur.ErrorCode, ur.ErrorDesc)
	}
	return true, nil
}

// clip shortens s to n bytes at most, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
