package routing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/edocgw/edocgw/archive"
)

// Wake makes Run look for due deliveries now.
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run delivers push and peer deliveries until ctx is done: it claims due
// deliveries (several processes may run it on one database), sends each,
// and records the outcome: delivered, a retry with backoff, or dead.
func (h *Hub) Run(ctx context.Context) error {
	sem := make(chan struct{}, h.o.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	idle := 500 * time.Millisecond
	for {
		free := cap(sem) - len(sem)
		var claimed []*Delivery
		if free > 0 {
			var err error
			claimed, err = h.o.Store.Claim(ctx, h.now(), h.o.Lease, free)
			if err != nil && ctx.Err() == nil {
				h.o.Logger.Warn("claim deliveries", "err", err)
			}
		}
		for _, d := range claimed {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				h.deliver(ctx, d)
			}()
		}
		if len(claimed) > 0 && len(claimed) == free {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		case <-time.After(idle):
		}
	}
}

// outcome is what one attempt came to.
type outcome struct {
	remote    string
	permanent bool
	err       error
}

// deliver makes one attempt at a claimed delivery and records it.
func (h *Hub) deliver(ctx context.Context, d *Delivery) {
	claimed := d.LeaseUntil
	start := time.Now()
	o := h.attempt(ctx, d)
	if ctx.Err() != nil && o.err != nil {
		return // shutting down: the lease runs out and another claim retries
	}
	now := h.now()
	ev := &archive.Event{At: now, Actor: "hub", Agency: d.Recipient, Document: d.Document, Delivery: d.ID}
	d.UpdatedAt, d.LeaseUntil = now, time.Time{}
	switch {
	case o.err == nil:
		d.State, d.LastError, d.Remote = StateDelivered, "", o.remote
		ev.Kind = "delivery.pushed"
		ev.Details = detailsJSON(map[string]any{"attempt": d.Attempts})
		if d.Route == RoutePeer {
			ev.Kind = "delivery.forwarded"
			ev.Details = detailsJSON(map[string]any{"attempt": d.Attempts, "peer": d.Peer, "remote": o.remote})
		}
	case o.permanent || now.Sub(horizonStart(d)) >= h.o.DeadAfter:
		d.State, d.LastError = StateDead, o.err.Error()
		ev.Kind = "delivery.dead"
		ev.Details = detailsJSON(map[string]any{"attempt": d.Attempts, "error": o.err.Error(), "permanent": o.permanent})
	default:
		d.State, d.LastError = StateQueued, o.err.Error()
		d.NextAttemptAt = now.Add(h.backoff(d.Attempts))
		ev.Kind = "delivery.attempt-failed"
		ev.Details = detailsJSON(map[string]any{"attempt": d.Attempts, "error": o.err.Error(), "next": d.NextAttemptAt.Format(time.RFC3339)})
	}
	h.metrics.observeDelivery(d, time.Since(start))
	err := h.o.Store.UpdateDelivery(context.WithoutCancel(ctx), d, []DeliveryState{StateSending}, claimed, []*archive.Event{ev})
	if err != nil {
		// The lease passed and another worker took over, or the database is
		// away: the claim expires and the delivery is tried again.
		h.o.Logger.Warn("record delivery outcome", "delivery", d.ID, "err", err)
	}
}

// horizonStart is when a delivery's retry horizon began: its creation,
// or the operator's last requeue.
func horizonStart(d *Delivery) time.Time {
	if d.RequeuedAt.After(d.CreatedAt) {
		return d.RequeuedAt
	}
	return d.CreatedAt
}

// backoff is the wait before attempt n+1: RetryBase·2^(n-1), capped at
// RetryMax, with "equal jitter" (half fixed, half random).
func (h *Hub) backoff(n int) time.Duration {
	d := h.o.RetryBase
	for i := 1; i < n && d < h.o.RetryMax; i++ {
		d *= 2
	}
	d = min(d, h.o.RetryMax)
	var b [8]byte
	if _, err := io.ReadFull(h.o.Rand, b[:]); err != nil {
		return d
	}
	half := d / 2
	return half + time.Duration(binary.BigEndian.Uint64(b[:])%uint64(half+1))
}

func (h *Hub) attempt(ctx context.Context, d *Delivery) outcome {
	doc, err := h.o.Store.Document(ctx, d.Document)
	if err != nil {
		return outcome{err: fmt.Errorf("read document: %w", err)}
	}
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return outcome{err: err}
	}
	blob, err := h.o.Blobs.Open(ctx, doc.Digest)
	if err != nil {
		return outcome{err: fmt.Errorf("open original: %w", err)}
	}
	defer blob.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	switch d.Route {
	case RoutePush:
		m, ok := cfg.member(d.Recipient)
		if !ok || m.Mode != ModePush || m.PushURL == "" {
			return outcome{permanent: true, err: fmt.Errorf("%s has no push endpoint", d.Recipient)}
		}
		return h.push(ctx, m.PushURL, d, doc, blob)
	case RoutePeer:
		p, ok := cfg.peers[d.Peer]
		if !ok || p.URL == "" {
			return outcome{permanent: true, err: fmt.Errorf("peer hub %q is not configured with a URL", d.Peer)}
		}
		if p.Kind != "" && p.Kind != PeerEdocgw {
			return h.forwardUpstream(ctx, p, doc, blob)
		}
		return h.forward(ctx, p, blob)
	}
	return outcome{permanent: true, err: fmt.Errorf("route %q is not delivered by the worker", d.Route)}
}

// pushSignedString is what the Edocgw-Signature header signs.
func pushSignedString(delivery, document string, digest archive.Digest, ts string) string {
	return "edocgw-push-v1\n" + delivery + "\n" + document + "\n" + digest.String() + "\n" + ts
}

// push POSTs the original to a member's endpoint. 2xx delivers; a 4xx
// other than 408 and 429 is permanent; anything else is retried.
func (h *Hub) push(ctx context.Context, url string, d *Delivery, doc *Document, blob archive.Blob) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, io.NopCloser(blob))
	if err != nil {
		return outcome{permanent: true, err: fmt.Errorf("push endpoint %q: %w", url, err)}
	}
	req.ContentLength = doc.Size
	ts := h.o.Now().UTC().Format(time.RFC3339)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Edocgw-Delivery-Id", d.ID)
	req.Header.Set("Edocgw-Document-Id", d.Document)
	req.Header.Set("Edocgw-Timestamp", ts)
	req.Header.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(doc.Digest[:])+":")
	if h.o.HubKey != nil {
		sum := sha256.Sum256([]byte(pushSignedString(d.ID, d.Document, doc.Digest, ts)))
		sig, err := h.o.HubKey.Sign(h.o.Rand, sum[:], crypto.SHA256)
		if err != nil {
			return outcome{err: fmt.Errorf("sign push: %w", err)}
		}
		req.Header.Set("Edocgw-Signature", base64.StdEncoding.EncodeToString(sig))
		if h.o.HubCert != nil {
			req.Header.Set("Edocgw-Signer", base64.StdEncoding.EncodeToString(h.o.HubCert.Raw))
		}
	}
	resp, err := h.clients.push().Do(req)
	if err != nil {
		return outcome{permanent: permanentTransport(err), err: fmt.Errorf("push to %s: %w", url, err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return statusOutcome(resp.StatusCode, "push endpoint", "")
}

// forward POSTs the original, unchanged, to a peer hub's API.
func (h *Hub) forward(ctx context.Context, p Peer, blob archive.Blob) outcome {
	url := strings.TrimRight(p.URL, "/") + "/v1/documents"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, io.NopCloser(blob))
	if err != nil {
		return outcome{permanent: true, err: fmt.Errorf("peer %s: %w", p.Name, err)}
	}
	req.ContentLength = blob.Size()
	req.Header.Set("Content-Type", "application/xml")
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(p.Token))
	}
	c, err := h.clients.peer(p)
	if err != nil {
		return outcome{permanent: true, err: err}
	}
	resp, err := c.Do(req)
	if err != nil {
		return outcome{permanent: permanentTransport(err), err: fmt.Errorf("forward to %s: %w", p.Name, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var answer struct {
		ID      string `json:"id"`
		FirstID string `json:"firstId"`
		Type    string `json:"type"`
		Detail  string `json:"detail"`
	}
	_ = json.Unmarshal(body, &answer)
	switch {
	case resp.StatusCode == http.StatusAccepted:
		return outcome{remote: answer.ID}
	case resp.StatusCode == http.StatusConflict && answer.FirstID != "":
		// The peer has it already (an earlier attempt whose answer we lost).
		return outcome{remote: answer.FirstID}
	}
	why := answer.Type
	if i := strings.LastIndexByte(why, '/'); i >= 0 {
		why = why[i+1:]
	}
	if answer.Detail != "" {
		why += ": " + answer.Detail
	}
	return statusOutcome(resp.StatusCode, "peer hub "+p.Name, why)
}

func statusOutcome(code int, who, why string) outcome {
	if code >= 200 && code < 300 {
		return outcome{}
	}
	err := fmt.Errorf("%s answered %d %s", who, code, http.StatusText(code))
	if why != "" {
		err = fmt.Errorf("%s answered %d (%s)", who, code, why)
	}
	permanent := code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
	return outcome{permanent: permanent, err: err}
}

// permanentTransport reports transport errors no retry can fix: a
// certificate the endpoint presents that we do not trust.
func permanentTransport(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		tve *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &tve)
}

// clients keeps one HTTP client for pushes and one per peer (its CA).
type clients struct {
	transport http.RoundTripper
	pushRoots *x509.CertPool

	mu      sync.Mutex
	pushC   *http.Client
	byPeer  map[string]*http.Client
	peerKey map[string]string
}

func newClients(t http.RoundTripper, pushRoots *x509.CertPool) *clients {
	return &clients{transport: t, pushRoots: pushRoots, byPeer: map[string]*http.Client{}, peerKey: map[string]string{}}
}

func newTransport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
}

func (c *clients) push() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pushC == nil {
		t := c.transport
		if t == nil {
			t = newTransport(c.pushRoots)
		}
		c.pushC = &http.Client{Transport: t, CheckRedirect: noRedirect}
	}
	return c.pushC
}

func (c *clients) peer(p Peer) (*http.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := p.URL + "\x00" + string(p.CAPEM)
	if cl, ok := c.byPeer[p.Name]; ok && c.peerKey[p.Name] == key {
		return cl, nil
	}
	t := c.transport
	if t == nil {
		var roots *x509.CertPool
		if len(bytes.TrimSpace(p.CAPEM)) > 0 {
			var err error
			if roots, err = x509.SystemCertPool(); err != nil {
				roots = x509.NewCertPool()
			}
			if !roots.AppendCertsFromPEM(p.CAPEM) {
				return nil, fmt.Errorf("peer %s: its CA holds no PEM certificate", p.Name)
			}
		}
		t = newTransport(roots)
	}
	cl := &http.Client{Transport: t, CheckRedirect: noRedirect}
	c.byPeer[p.Name], c.peerKey[p.Name] = cl, key
	return cl, nil
}

// noRedirect refuses redirects: a POST of an original goes where it was
// configured to, or nowhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
