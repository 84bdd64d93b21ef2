package routing

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/signing"
)

// Options configure a Hub. Store, Blobs and Verifier are required.
type Options struct {
	Store Store
	Blobs archive.BlobStore
	// Verifier checks senders' signatures; the hub sets its Directory to
	// the current agency directory for each packet.
	Verifier *signing.Verifier
	// MaxPacket is the largest packet accepted (default 64 MiB).
	MaxPacket int64
	// SpoolDir holds request bodies larger than 1 MiB while they are
	// checked (default os.TempDir()).
	SpoolDir string
	// HubKey and HubCert sign pushed deliveries (the Edocgw-Signature
	// header); nil: pushes go unsigned.
	HubKey  crypto.Signer
	HubCert *x509.Certificate
	// PushRoots are the CAs trusted for members' push endpoints, besides
	// the system roots; nil: system roots.
	PushRoots *x509.CertPool
	// Retry policy of push and peer deliveries: the first retry after
	// RetryBase (default 2 s), doubling up to RetryMax (default 10 min),
	// with jitter; after DeadAfter (default 72 h) a delivery is dead.
	RetryBase, RetryMax, DeadAfter time.Duration
	// Lease is how long a worker holds a claimed delivery (default 2 min).
	Lease time.Duration
	// Workers is how many deliveries one process sends at once (default 8).
	Workers int
	// ConfigInterval is how often the hub looks for configuration changes
	// (default 1 s).
	ConfigInterval time.Duration
	// Registerer receives the hub's metrics; nil: none are registered.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
	// Rand is the source of ids and jitter (default crypto/rand).
	Rand io.Reader
	// Transport, if set, carries push and peer requests (tests); by
	// default each peer gets a transport trusting its CA.
	Transport http.RoundTripper
	// Upstreams forward to peers of other kinds than PeerEdocgw, by kind.
	Upstreams map[PeerKind]Upstream
}

// Hub accepts, routes and delivers packets.
type Hub struct {
	o           Options
	cfg         *configCache
	metrics     *metrics
	wake        chan struct{}
	clients     *clients
	peerSilence peerSilence // peers that did not answer a trace
}

// New returns a hub; call Run to deliver push and peer deliveries.
func New(o Options) (*Hub, error) {
	if o.Store == nil || o.Blobs == nil || o.Verifier == nil {
		return nil, errors.New("routing: Store, Blobs and Verifier are required")
	}
	if o.MaxPacket <= 0 {
		o.MaxPacket = 64 << 20
	}
	if o.SpoolDir == "" {
		o.SpoolDir = os.TempDir()
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 2 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 10 * time.Minute
	}
	if o.DeadAfter <= 0 {
		o.DeadAfter = 72 * time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.ConfigInterval <= 0 {
		o.ConfigInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	h := &Hub{
		o:       o,
		cfg:     &configCache{store: o.Store, interval: o.ConfigInterval, now: o.Now},
		metrics: newMetrics(o.Registerer),
		wake:    make(chan struct{}, 1),
	}
	h.clients = newClients(o.Transport, o.PushRoots)
	return h, nil
}

// Directory returns the current agency directory.
func (h *Hub) Directory() *agencyids.Directory {
	s, err := h.cfg.get(context.Background())
	if err != nil {
		return agencyids.NewDirectory()
	}
	return s.dir
}

// Reload makes the hub read its configuration again on next use.
func (h *Hub) Reload() { h.cfg.invalidate() }

func (h *Hub) now() time.Time { return h.o.Now().UTC().Truncate(time.Microsecond) }

func (h *Hub) id() (string, error) { return newID(h.o.Now(), h.o.Rand) }

// Accept runs the acceptance pipeline (design §2) on one packet: spool and
// limits, parse and validation, the signature policy, authorization,
// routing, the archive, and one transaction with the document, its
// deliveries and their audit events. Only a nil error means accepted.
// size is the declared length, or -1.
func (h *Hub) Accept(ctx context.Context, p Principal, body io.Reader, size int64) (*Receipt, error) {
	start := time.Now()
	rc, err := h.accept(ctx, p, body, size)
	h.metrics.observeAccept(rc, err, time.Since(start))
	if err != nil {
		var dup *DuplicateError
		if !errors.As(err, &dup) && !errors.Is(err, ErrUnavailable) {
			h.audit(ctx, &archive.Event{Kind: "document.rejected", Actor: p.Actor(), Agency: p.Agency,
				Details: detailsJSON(map[string]any{"reason": kindOf(err), "error": err.Error()})})
		}
		return nil, err
	}
	return rc, nil
}

func (h *Hub) accept(ctx context.Context, p Principal, body io.Reader, size int64) (*Receipt, error) {
	if p.Role != RoleAgency && p.Role != RoleHub {
		return nil, fmt.Errorf("%w: %s may not send packets", ErrForbidden, p.Role)
	}
	if size > h.o.MaxPacket {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, h.o.MaxPacket)
	}
	sp, err := newSpool(body, h.o.MaxPacket, 1<<20, size, h.o.SpoolDir)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	receivedAt := h.now()

	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, err
	}
	// The verifier's limits, no looser than MaxPacket: the verifier takes
	// this parse as its own.
	limits := h.o.Verifier.Limits
	if limits.MaxBytes <= 0 || limits.MaxBytes > h.o.MaxPacket {
		limits.MaxBytes = h.o.MaxPacket
	}
	pkt, err := envelope.ParseReaderAt(sp.ra, sp.size, envelope.Options{Limits: limits, Rand: h.o.Rand})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPacket, err)
	}
	var warnings []string
	// Local systems are held to the standard; what other hubs relay is
	// judged leniently, its deviations recorded.
	v := envelope.Validator{Lenient: p.Role == RoleHub, Now: h.o.Now, SkipPayloads: true}
	ws, err := v.Validate(pkt)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPacket, err)
	}
	for _, w := range ws {
		warnings = append(warnings, w.Error())
	}
	from := pkt.From().OrganID
	if !cfg.sendsFor(p, from) {
		return nil, fmt.Errorf("%w: %s may not send as %s", ErrForbidden, p.Actor(), from)
	}

	// The signature policy of the sender; a signature present is always
	// verified, and from then on only what it covers is used.
	sig := signatureNote{state: "unsigned"}
	policy := SignatureRequired
	if m, ok := cfg.member(from); ok && m.Signature != "" {
		policy = m.Signature
	}
	if pkt.Signature != nil {
		vf := *h.o.Verifier
		vf.Directory = cfg.dir
		if p.Role == RoleHub {
			// The relaying hub vouched for the sender; the chain is ours to check.
			vf.Directory = nil
		}
		var parsed *envelope.Packet
		if limits.MaxBytes <= envelope.DefaultLimits.MaxBytes || h.o.Verifier.Limits.MaxBytes >= limits.MaxBytes {
			parsed = pkt // parsed from these bytes, within the verifier's limits
		}
		res, err := vf.VerifyParsed(ctx, sp.ra, sp.size, parsed)
		if err != nil {
			if errors.Is(err, signing.ErrEnvelope) {
				return nil, fmt.Errorf("%w: %w", ErrInvalidPacket, err)
			}
			return nil, fmt.Errorf("%w: %w", ErrSignature, err)
		}
		if res.Packet.From().OrganID != from {
			return nil, fmt.Errorf("%w: signed sender %s differs from %s", ErrSignature, res.Packet.From().OrganID, from)
		}
		pkt = res.Packet
		sig = signatureNote{state: "verified", signer: res.Signer.Subject.String(), binding: res.Binding}
		warnings = append(warnings, res.Legacy...)
		warnings = append(warnings, res.Warnings...)
	} else {
		required := policy == SignatureAll || (policy == SignatureRequired && pkt.Kind() == envelope.KindDocument)
		if required {
			return nil, fmt.Errorf("%w: %s packets from %s must be signed", ErrSignatureRequired, pkt.Kind(), from)
		}
	}

	docID, err := h.id()
	if err != nil {
		return nil, err
	}
	doc := &Document{
		ID: docID, Kind: pkt.Kind(), From: from, EdxmlID: pkt.DocumentID(),
		Digest: sp.digest, Size: sp.size, Via: p.Actor(), ReceivedAt: receivedAt,
	}
	var plan *plan
	switch pkt.Kind() {
	case envelope.KindDocument:
		plan, err = h.planDocument(ctx, cfg, p, pkt, doc)
	case envelope.KindStatus:
		plan, err = h.planStatus(ctx, cfg, p, pkt, doc)
	default:
		err = fmt.Errorf("%w: neither a document nor a status packet", ErrInvalidPacket)
	}
	if err != nil {
		return nil, err
	}

	// A repeat is answered before anything is archived.
	if dup, err := h.o.Store.Duplicate(ctx, doc); err != nil {
		return nil, unavailable("database", err)
	} else if dup != nil {
		return nil, dup
	}
	// The original is archived before the transaction that acknowledges it.
	digest, n, err := h.o.Blobs.Put(ctx, sp.reader())
	if err != nil {
		return nil, unavailable("archive", err)
	}
	if digest != sp.digest || n != sp.size {
		return nil, unavailable("archive", fmt.Errorf("stored %s (%d bytes), read %s (%d bytes)", digest, n, sp.digest, sp.size))
	}
	archivedAt := h.now()

	events := []*archive.Event{
		{At: receivedAt, Kind: "document.accepted", Actor: p.Actor(), Agency: from, Document: doc.ID,
			Details: detailsJSON(map[string]any{
				"kind": doc.Kind.String(), "edxmlId": doc.EdxmlID, "number": doc.Number, "notation": doc.Notation,
				"business": int(doc.Business), "statusCode": statusString(doc.StatusCode), "ref": doc.Ref,
				"size": doc.Size, "digest": doc.Digest.String(), "signature": sig.state, "signer": sig.signer,
				"binding": sig.binding, "warnings": len(warnings), "recipients": doc.Recipients, "door": p.Via,
			})},
		{At: archivedAt, Kind: "document.archived", Actor: "hub", Agency: from, Document: doc.ID,
			Details: detailsJSON(map[string]any{"digest": doc.Digest.String(), "size": doc.Size})},
	}
	events = append(events, plan.events...)
	for _, d := range plan.deliveries {
		d.Document, d.CreatedAt, d.UpdatedAt = doc.ID, archivedAt, archivedAt
		if d.NextAttemptAt.IsZero() {
			d.NextAttemptAt = archivedAt
		}
		ev := &archive.Event{At: archivedAt, Kind: "delivery.queued", Actor: "hub", Agency: d.Recipient, Document: doc.ID, Delivery: d.ID,
			Details: detailsJSON(map[string]any{"route": d.Route, "peer": d.Peer})}
		if d.State == StateDead {
			ev.Kind = "delivery.dead"
			ev.Details = detailsJSON(map[string]any{"route": d.Route, "error": d.LastError, "permanent": true})
		}
		events = append(events, ev)
	}
	if err := h.o.Store.Accept(ctx, doc, plan.deliveries, events); err != nil {
		var dup *DuplicateError
		if errors.As(err, &dup) {
			return nil, dup
		}
		return nil, unavailable("database", err)
	}
	if plan.wakes {
		h.Wake()
	}
	return h.receipt(doc, plan, warnings), nil
}

// plan is what accepting a packet will commit besides the document.
type plan struct {
	deliveries []*Delivery
	events     []*archive.Event
	notes      map[agencyids.Code]string // recipients without a delivery here
	order      []agencyids.Code
	wakes      bool
}

type signatureNote struct{ state, signer, binding string }

// planDocument routes a document to each of its recipients and links a
// revocation, update or replacement to the document it changes.
func (h *Hub) planDocument(ctx context.Context, cfg *snapshot, p Principal, pkt *envelope.Packet, doc *Document) (*plan, error) {
	hdr := pkt.Document
	doc.Number, doc.Notation, doc.Subject = hdr.Code.Number, hdr.Code.Notation, hdr.Subject
	if pkt.Business != nil {
		doc.Business = pkt.Business.DocType
		ref := pkt.Business.DocumentID
		if doc.Business == envelope.BusinessReplacement && ref == "" && len(pkt.Business.Replacements) > 0 {
			ref = pkt.Business.Replacements[0].DocumentID
		}
		if ref == "" && doc.Business != envelope.BusinessNew && doc.Business != envelope.BusinessReplacement {
			ref = doc.EdxmlID
		}
		if ref != "" && doc.Business != envelope.BusinessNew {
			orig, err := h.findSent(ctx, ref, doc.From)
			if err != nil {
				return nil, err
			}
			if orig != nil {
				doc.Ref = orig.ID
			}
		}
	}
	pl := &plan{notes: map[agencyids.Code]string{}}
	for _, to := range pkt.Recipients() {
		if slices.Contains(doc.Recipients, to) {
			continue
		}
		doc.Recipients = append(doc.Recipients, to)
		if err := h.planDelivery(cfg, p, to, pl); err != nil {
			return nil, err
		}
	}
	if !slices.ContainsFunc(pl.deliveries, func(d *Delivery) bool { return d.State != StateDead }) {
		return nil, fmt.Errorf("%w: none of %v is reached through this hub", ErrNoRoute, doc.Recipients)
	}
	if doc.Ref != "" {
		kind := map[envelope.BusinessDocType]string{
			envelope.BusinessRevocation:  "document.revoked",
			envelope.BusinessUpdate:      "document.updated",
			envelope.BusinessReplacement: "document.replaced",
		}[doc.Business]
		if kind != "" {
			reason := ""
			if pkt.Business != nil {
				reason = pkt.Business.Reason
			}
			pl.events = append(pl.events, &archive.Event{At: doc.ReceivedAt, Kind: kind, Actor: p.Actor(), Agency: doc.From,
				Document: doc.Ref, Details: detailsJSON(map[string]any{"by": doc.ID, "reason": reason})})
		}
	}
	return pl, nil
}

// planStatus authorizes a status packet and routes it to the other party:
// a recipient's status (01–06, 15, 16) goes to the document's sender; a
// sender's recall request (13) to the recipient it names.
func (h *Hub) planStatus(ctx context.Context, cfg *snapshot, p Principal, pkt *envelope.Packet, doc *Document) (*plan, error) {
	st := pkt.Status
	doc.StatusCode = st.Code
	doc.Subject = st.Description
	if doc.EdxmlID == "" {
		return nil, fmt.Errorf("%w: status packet names no document (ResponseFor/DocumentId)", ErrInvalidPacket)
	}
	docs, err := h.o.Store.DocumentsByEdxmlID(ctx, doc.EdxmlID)
	if err != nil {
		return nil, unavailable("database", err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%w: no document %q is known here", ErrNoRoute, doc.EdxmlID)
	}
	var (
		orig *Document
		to   agencyids.Code
	)
	if st.Code.SentBySender() {
		// 13: from the document's sender, to one of its recipients.
		to = st.ResponseFor.OrganID
		for _, d := range originalsFirst(docs) {
			if d.From != doc.From {
				continue
			}
			dels, err := h.o.Store.Deliveries(ctx, d.ID)
			if err != nil {
				return nil, unavailable("database", err)
			}
			if slices.ContainsFunc(dels, func(x *Delivery) bool { return x.Recipient == to }) {
				orig = d
				break
			}
		}
		if orig == nil {
			return nil, fmt.Errorf("%w: %s did not send document %q to %s", ErrForbidden, doc.From, doc.EdxmlID, to)
		}
	} else {
		// 01–06, 15, 16: from a recipient, to the document's sender.
		for _, d := range originalsFirst(docs) {
			dels, err := h.o.Store.Deliveries(ctx, d.ID)
			if err != nil {
				return nil, unavailable("database", err)
			}
			if slices.ContainsFunc(dels, func(x *Delivery) bool { return x.Recipient == doc.From }) {
				orig = d
				break
			}
		}
		if orig == nil {
			return nil, fmt.Errorf("%w: %s is not a recipient of document %q", ErrForbidden, doc.From, doc.EdxmlID)
		}
		to = orig.From
	}
	doc.Ref = orig.ID
	doc.Recipients = []agencyids.Code{to}
	pl := &plan{notes: map[agencyids.Code]string{}}
	if err := h.planDelivery(cfg, p, to, pl); err != nil {
		return nil, err
	}
	if len(pl.deliveries) == 0 {
		// The other party is behind the hub that relayed the status: it
		// has it already; we keep it for our trace.
		pl.notes[to] = "status recorded; the other party is served by the relaying hub"
	}
	pl.events = append(pl.events, &archive.Event{At: doc.ReceivedAt, Kind: "status.received", Actor: p.Actor(), Agency: doc.From,
		Document: orig.ID, Details: detailsJSON(map[string]any{
			"code": statusString(st.Code), "from": doc.From, "to": to, "status": doc.ID, "description": st.Description,
		})})
	return pl, nil
}

// planDelivery adds one recipient's delivery (or a note) to pl.
func (h *Hub) planDelivery(cfg *snapshot, p Principal, to agencyids.Code, pl *plan) error {
	pl.order = append(pl.order, to)
	d, ok := cfg.route(to)
	if ok && d.kind == RoutePeer && p.Role == RoleHub && d.peer == p.Peer {
		pl.notes[to] = "served by the sending hub " + p.Peer
		return nil
	}
	id, err := h.id()
	if err != nil {
		return err
	}
	del := &Delivery{ID: id, Recipient: to, State: StateQueued}
	if !ok {
		// Permanent: no retry can find a route the configuration lacks.
		del.Route, del.State, del.LastError = RoutePull, StateDead, fmt.Sprintf("no route to %s: not a member and no route matches", to)
		pl.deliveries = append(pl.deliveries, del)
		return nil
	}
	del.Route, del.Peer = d.kind, d.peer
	if d.kind != RoutePull {
		pl.wakes = true
	}
	pl.deliveries = append(pl.deliveries, del)
	return nil
}

// findSent returns the newest document with EdxmlID id sent by from, or nil.
func (h *Hub) findSent(ctx context.Context, id string, from agencyids.Code) (*Document, error) {
	docs, err := h.o.Store.DocumentsByEdxmlID(ctx, id)
	if err != nil {
		return nil, unavailable("database", err)
	}
	for _, d := range originalsFirst(docs) {
		if d.From == from {
			return d, nil
		}
	}
	return nil, nil
}

// originalsFirst orders documents sharing one DocumentId as a status or a
// lifecycle packet should look for the one it means: original documents
// (new, replacement), newest first, then revocations and updates, which
// repeat the DocumentId of what they change.
func originalsFirst(docs []*Document) []*Document {
	out := make([]*Document, 0, len(docs))
	for _, d := range slices.Backward(docs) {
		if d.Business == envelope.BusinessNew || d.Business == envelope.BusinessReplacement {
			out = append(out, d)
		}
	}
	for _, d := range slices.Backward(docs) {
		if d.Business != envelope.BusinessNew && d.Business != envelope.BusinessReplacement {
			out = append(out, d)
		}
	}
	return out
}

func (h *Hub) receipt(doc *Document, pl *plan, warnings []string) *Receipt {
	rc := &Receipt{
		ID: doc.ID, Kind: doc.Kind.String(), From: doc.From, EdxmlID: doc.EdxmlID, StatusCode: statusString(doc.StatusCode),
		Ref: doc.Ref, Digest: doc.Digest, Size: doc.Size, ReceivedAt: doc.ReceivedAt, Warnings: warnings,
		Recipients: []RecipientReceipt{},
	}
	byRecipient := map[agencyids.Code]*Delivery{}
	for _, d := range pl.deliveries {
		byRecipient[d.Recipient] = d
	}
	for _, to := range pl.order {
		r := RecipientReceipt{Agency: to, Note: pl.notes[to]}
		if d := byRecipient[to]; d != nil {
			r.DeliveryID, r.Route, r.Peer, r.State = d.ID, d.Route, d.Peer, d.State
			if d.State == StateDead {
				r.Note = d.LastError
			}
		}
		rc.Recipients = append(rc.Recipients, r)
	}
	return rc
}

// audit appends events that record no other change; a failure is logged,
// not returned (the request it belongs to has already been answered or
// refused).
func (h *Hub) audit(ctx context.Context, events ...*archive.Event) {
	if err := h.o.Store.AppendEvents(context.WithoutCancel(ctx), events...); err != nil {
		h.o.Logger.Error("audit append failed", "err", err, "kind", events[0].Kind)
	}
}

// Refused audits a request refused at the HTTP layer.
func (h *Hub) Refused(ctx context.Context, actor, what, why string) {
	h.metrics.refused.Inc()
	h.audit(ctx, &archive.Event{Kind: "auth.refused", Actor: actor, Details: detailsJSON(map[string]any{"request": what, "reason": why})})
}

func statusString(c envelope.StatusCode) string {
	if c == 0 {
		return ""
	}
	return fmt.Sprintf("%02d", int(c))
}

// kindOf names an error's class for metrics and the audit log.
func kindOf(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{ErrForbidden, "forbidden"}, {ErrTooLarge, "too-large"}, {ErrInvalidPacket, "invalid-envelope"},
		{ErrSignatureRequired, "signature-required"}, {ErrSignature, "signature-invalid"}, {ErrNoRoute, "no-route"},
		{ErrUnavailable, "unavailable"}, {ErrNotFound, "not-found"}, {ErrStateConflict, "conflict"}, {ErrBadRequest, "bad-request"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	var dup *DuplicateError
	if errors.As(err, &dup) {
		return "duplicate"
	}
	return "internal"
}

// detailsJSON encodes audit details; a map of plain values cannot fail.
func detailsJSON(m map[string]any) json.RawMessage {
	for k, v := range m {
		if v == "" || v == nil {
			delete(m, k)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("routing: audit details: %v", err))
	}
	return b
}
