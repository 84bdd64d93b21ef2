package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/tsa"
	"github.com/edocgw/edocgw/envelope"
)

// Operators' actions on deliveries, and the auditor's record and chain
// verification, as the web console uses them.

// MaxReason bounds a cancellation's reason, in characters.
const MaxReason = 500

// ErrBeingSent is the ErrStateConflict of a delivery a worker is sending
// at this moment: asked again a little later, the answer may differ.
var ErrBeingSent = fmt.Errorf("%w: being sent at this moment", ErrStateConflict)

// Resend sends a dead delivery again: its route is planned anew from the
// current configuration (a delivery that died for want of a route or an
// endpoint goes once an admin has fixed that), it is queued due now with
// its attempts counted afresh, and the worker is woken. p authorizes: an
// agency (a clerk's) for the documents it or a unit below it sent, an
// admin for any; actor names the person in the audit log
// ("delivery.requeued", in the same transaction). A delivery that is not
// dead is ErrStateConflict; a recipient that still has no route ErrNoRoute.
func (h *Hub) Resend(ctx context.Context, p Principal, id, actor string) (*DeliveryInfo, error) {
	d, doc, err := h.actionable(ctx, p, id, "resend")
	if err != nil {
		return nil, err
	}
	if d.State != StateDead {
		return nil, fmt.Errorf("%w: delivery %s is %s; only a dead delivery is resent", ErrStateConflict, id, d.State)
	}
	h.Reload() // an admin may have just fixed the route
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, err
	}
	dec, ok := cfg.route(d.Recipient)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %s is not a member and no route matches it", ErrNoRoute, d.Recipient)
	case dec.kind == RoutePeer && doc.Via == "hub:"+dec.peer:
		return nil, fmt.Errorf("%w: %s is reached through %s, the hub the document came from", ErrNoRoute, d.Recipient, dec.peer)
	}
	now := h.now()
	prev := *d
	d.Route, d.Peer, d.State, d.Attempts = dec.kind, dec.peer, StateQueued, 0
	d.NextAttemptAt, d.LeaseUntil, d.LastError, d.RequeuedAt = now, time.Time{}, "", now
	note := "route " + string(dec.kind)
	if dec.peer != "" {
		note += " via " + dec.peer
	}
	ev := &archive.Event{At: now, Kind: "delivery.requeued", Actor: actorOr(actor, p), Agency: d.Recipient, Document: d.Document,
		Delivery: d.ID, Details: detailsJSON(map[string]any{
			"route": dec.kind, "peer": dec.peer, "as": p.Actor(), "note": note,
			"previousRoute": prev.Route, "previousPeer": prev.Peer, "previousAttempts": prev.Attempts, "previousError": prev.LastError,
		})}
	if err := h.o.Store.RequeueDelivery(ctx, d, []DeliveryState{StateDead}, []*archive.Event{ev}); err != nil {
		return nil, storeError(err)
	}
	if d.Route != RoutePull {
		h.Wake()
	}
	return deliveryInfo(d), nil
}

// Cancel withdraws a delivery that is queued, dead, or fetched but not
// acknowledged: it becomes cancelled, audited ("delivery.cancelled" with
// the reason, 1–MaxReason characters) in the same transaction. Who may is
// as for Resend. A delivery being sent at this moment, or already done, is
// ErrStateConflict.
func (h *Hub) Cancel(ctx context.Context, p Principal, id, actor, reason string) (*DeliveryInfo, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReason || !utf8.ValidString(reason) {
		return nil, fmt.Errorf("%w: a reason of 1–%d characters is required", ErrBadRequest, MaxReason)
	}
	d, _, err := h.actionable(ctx, p, id, "cancel")
	if err != nil {
		return nil, err
	}
	switch d.State {
	case StateQueued, StateDead, StatePulled:
	case StateSending:
		return nil, fmt.Errorf("%w: delivery %s; try again shortly", ErrBeingSent, id)
	default:
		return nil, fmt.Errorf("%w: delivery %s is %s and can no longer be cancelled", ErrStateConflict, id, d.State)
	}
	now := h.now()
	from := d.State
	d.State, d.LeaseUntil, d.UpdatedAt = StateCancelled, time.Time{}, now
	ev := &archive.Event{At: now, Kind: "delivery.cancelled", Actor: actorOr(actor, p), Agency: d.Recipient, Document: d.Document,
		Delivery: d.ID, Details: detailsJSON(map[string]any{"reason": reason, "from": from, "as": p.Actor(), "note": reason})}
	if err := h.o.Store.UpdateDelivery(ctx, d, []DeliveryState{from}, time.Time{}, []*archive.Event{ev}); err != nil {
		if cur, err2 := h.o.Store.Delivery(ctx, id); errors.Is(err, ErrStateConflict) && err2 == nil && cur.State == StateSending {
			return nil, fmt.Errorf("%w: delivery %s; try again shortly", ErrBeingSent, id) // a worker claimed it meanwhile
		}
		return nil, storeError(err)
	}
	return deliveryInfo(d), nil
}

// actionable returns a delivery p may resend or cancel, with its document.
// Others' deliveries are ErrNotFound (ErrForbidden for a recipient, who
// knows of it), audited.
func (h *Hub) actionable(ctx context.Context, p Principal, id, what string) (*Delivery, *Document, error) {
	if p.Role != RoleAgency && p.Role != RoleAdmin {
		h.audit(ctx, &archive.Event{At: h.now(), Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency, Delivery: id,
			Details: detailsJSON(map[string]any{"request": what, "reason": string(p.Role) + " may not act on deliveries"})})
		return nil, nil, fmt.Errorf("%w: %s may not %s deliveries", ErrForbidden, p.Role, what)
	}
	if !validID(id) {
		return nil, nil, fmt.Errorf("delivery %q: %w", id, ErrNotFound)
	}
	d, err := h.o.Store.Delivery(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, unavailable("database", err)
	}
	doc, err := h.document(ctx, d.Document)
	if err != nil {
		return nil, nil, err
	}
	if p.Role == RoleAdmin {
		return d, doc, nil
	}
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	if cfg.sendsFor(p, doc.From) {
		return d, doc, nil
	}
	recipient := sameAgency(cfg, d.Recipient, p.Agency)
	// By delivery only: the document's trace stays the document's story.
	h.audit(ctx, &archive.Event{At: h.now(), Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency, Delivery: d.ID,
		Details: detailsJSON(map[string]any{"request": what, "reason": "not the sender", "document": doc.ID})})
	if recipient {
		return nil, nil, fmt.Errorf("%w: only the sender %s acts on delivery %s", ErrForbidden, doc.From, id)
	}
	return nil, nil, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
}

// actorOr is actor, or p's own name in the log when actor is empty.
func actorOr(actor string, p Principal) string {
	if actor != "" {
		return actor
	}
	return p.Actor()
}

// storeError keeps the store's ErrStateConflict and ErrNotFound and makes
// anything else ErrUnavailable.
func storeError(err error) error {
	if errors.Is(err, ErrStateConflict) || errors.Is(err, ErrNotFound) {
		return err
	}
	return unavailable("database", err)
}

// Record is an auditor's view of a document: what the hub knows of it,
// every recipient's delivery, every audit event (its own and those of the
// packets that refer to it), and its original verified again.
type Record struct {
	Document   TraceDocument  `json:"document"`
	Deliveries []DeliveryInfo `json:"deliveries"`
	Events     []AuditEvent   `json:"events"`
	Trace      *Trace         `json:"trace"`
	// Verification is nil when the original is no longer archived
	// (Gone says why).
	Verification *VerificationReport `json:"verification,omitempty"`
	Gone         string              `json:"gone,omitempty"`
}

// Record returns a document's full record to an auditor, and audits the
// read ("audit.read").
func (h *Hub) Record(ctx context.Context, p Principal, id string) (*Record, error) {
	if p.Role != RoleAuditor {
		h.audit(ctx, &archive.Event{At: h.now(), Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency, Document: id,
			Details: detailsJSON(map[string]any{"request": "record", "reason": "not an auditor"})})
		return nil, fmt.Errorf("%w: only an auditor reads a document's record", ErrForbidden)
	}
	doc, dels, events, tr, err := h.traced(ctx, p, id)
	if err != nil {
		return nil, err
	}
	rec := &Record{Document: traceDocument(doc), Trace: tr, Deliveries: make([]DeliveryInfo, 0, len(dels)),
		Events: make([]AuditEvent, 0, len(events))}
	for _, d := range dels {
		rec.Deliveries = append(rec.Deliveries, *deliveryInfo(d))
	}
	for _, e := range events {
		rec.Events = append(rec.Events, auditEvent(e))
	}
	raw, err := h.verificationReport(ctx, doc, events)
	switch {
	case errors.Is(err, ErrGone):
		rec.Gone = err.Error()
	case err != nil:
		return nil, err
	default:
		var rep VerificationReport
		if err := json.Unmarshal(raw, &rep); err != nil {
			return nil, err
		}
		rec.Verification = &rep
	}
	h.audit(ctx, &archive.Event{At: h.now(), Kind: "audit.read", Actor: p.Actor(), Document: doc.ID,
		Details: detailsJSON(map[string]any{"document": doc.ID, "view": "record", "returned": len(events)})})
	return rec, nil
}

// ChainReader is what VerifyAudit needs of the store beyond Store
// (internal/store implements it); without it VerifyAudit is unavailable.
type ChainReader interface {
	// AuditAll streams the whole chain in order.
	AuditAll(ctx context.Context) iter.Seq2[*archive.Event, error]
	// Checkpoints returns every signed checkpoint, in Seq order.
	Checkpoints(ctx context.Context) ([]archive.Checkpoint, error)
	// Documents returns up to limit documents with ID > after, in ID order.
	Documents(ctx context.Context, after string, limit int) ([]*Document, error)
	// PurgedAt is when a document's original was purged (zero: it was not).
	PurgedAt(ctx context.Context, id string) (time.Time, error)
	// LastAuditEvent returns the newest event of kind (ErrNotFound: none).
	LastAuditEvent(ctx context.Context, kind string) (*archive.Event, error)
}

// KindAuditVerified is the audit event of a chain verification; its
// details are the AuditVerification.
const KindAuditVerified = "audit.verified"

// maxBadOriginals bounds the documents an AuditVerification names.
const maxBadOriginals = 20

// AuditVerification is the outcome of VerifyAudit, as recorded.
type AuditVerification struct {
	At time.Time `json:"at"`
	By string    `json:"by"`
	OK bool      `json:"ok"`
	// Events is how many events the chain held, Head its last hash.
	Events int64          `json:"events"`
	Head   archive.Digest `json:"head"`
	// Checkpoints verified with the hub certificate, Timestamped those
	// whose RFC 3161 token verified too.
	Checkpoints int `json:"checkpoints"`
	Timestamped int `json:"timestamped"`
	// Originals: whether they were re-hashed, how many, how many purged
	// after their retention, and the documents whose original failed.
	OriginalsChecked bool     `json:"originalsChecked"`
	Originals        int      `json:"originals"`
	Purged           int      `json:"purged"`
	BadOriginals     []string `json:"badOriginals,omitempty"`
	// BrokenAt is the first event (or checkpoint) that failed, Problem what.
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// VerifyAudit verifies the audit chain the way `edocgw audit verify` does:
// each checkpoint's signature with the hub certificate (and its timestamp,
// if any), the chain against them, and with originals every original
// re-hashed. An auditor only. The result is recorded ("audit.verified")
// and returned; a broken chain is a result (OK false), not an error.
func (h *Hub) VerifyAudit(ctx context.Context, p Principal, originals bool) (*AuditVerification, error) {
	if p.Role != RoleAuditor {
		h.audit(ctx, &archive.Event{At: h.now(), Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency,
			Details: detailsJSON(map[string]any{"request": "verify audit chain", "reason": "not an auditor"})})
		return nil, fmt.Errorf("%w: only an auditor verifies the audit chain", ErrForbidden)
	}
	cr, ok := h.o.Store.(ChainReader)
	if !ok {
		return nil, unavailable("audit log", errors.New("the store cannot stream the audit chain"))
	}
	if h.o.HubCert == nil {
		return nil, fmt.Errorf("%w: the hub has no certificate to verify checkpoints with", ErrUnavailable)
	}
	v := &AuditVerification{By: p.Actor(), OriginalsChecked: originals}
	if err := h.verifyAudit(ctx, cr, v); err != nil {
		return nil, err
	}
	v.OK = v.Problem == "" && len(v.BadOriginals) == 0
	v.At = h.now()
	det, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if err := h.o.Store.AppendEvents(ctx, &archive.Event{At: v.At, Kind: KindAuditVerified, Actor: p.Actor(), Details: det}); err != nil {
		return nil, unavailable("database", err)
	}
	return v, nil
}

func (h *Hub) verifyAudit(ctx context.Context, cr ChainReader, v *AuditVerification) error {
	cps, err := cr.Checkpoints(ctx)
	if err != nil {
		return unavailable("database", err)
	}
	for _, c := range cps {
		if err := c.Verify(h.o.HubCert.PublicKey); err != nil {
			v.BrokenAt, v.Problem = c.Seq, fmt.Sprintf("checkpoint %d: %v", c.Seq, err)
			return nil
		}
		if len(c.Timestamp) > 0 {
			if _, err := tsa.Verify(c.Timestamp, tsa.Digest(c.Signature), nil); err != nil {
				v.BrokenAt, v.Problem = c.Seq, fmt.Sprintf("timestamp of checkpoint %d: %v", c.Seq, err)
				return nil
			}
			v.Timestamped++
		}
		v.Checkpoints++
	}
	head, last, err := archive.VerifyChain(cr.AuditAll(ctx), cps...)
	v.Head, v.Events = head, last
	var ce *archive.ChainError
	switch {
	case errors.As(err, &ce):
		v.BrokenAt, v.Problem = ce.Seq, ce.Error()
		return nil
	case err != nil:
		return unavailable("database", err)
	}
	if !v.OriginalsChecked {
		return nil
	}
	seen := map[archive.Digest]error{}
	for after := ""; ; {
		docs, err := cr.Documents(ctx, after, 500)
		if err != nil {
			return unavailable("database", err)
		}
		for _, d := range docs {
			after = d.ID
			res, done := seen[d.Digest]
			if !done {
				res = h.rehash(ctx, d.Digest)
				seen[d.Digest] = res
			}
			if errors.Is(res, archive.ErrNotFound) {
				// Removed by the audited purge: its metadata and events stay.
				if at, err := cr.PurgedAt(ctx, d.ID); err == nil && !at.IsZero() {
					v.Purged++
					continue
				}
			}
			if res != nil {
				if len(v.BadOriginals) < maxBadOriginals {
					v.BadOriginals = append(v.BadOriginals, d.ID)
				}
				if v.Problem == "" {
					v.Problem = fmt.Sprintf("original of document %s (sha256 %s): %v", d.ID, d.Digest, res)
				}
				continue
			}
			v.Originals++
		}
		if len(docs) < 500 {
			return nil
		}
	}
}

// rehash reads an original to the end: the blob store checks its digest.
func (h *Hub) rehash(ctx context.Context, d archive.Digest) error {
	b, err := h.o.Blobs.Open(ctx, d)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = io.Copy(io.Discard, b)
	return err
}

// LastVerification returns the newest recorded VerifyAudit result, to an
// auditor; ErrNotFound when the chain was never verified here.
func (h *Hub) LastVerification(ctx context.Context, p Principal) (*AuditVerification, error) {
	if p.Role != RoleAuditor {
		return nil, fmt.Errorf("%w: only an auditor reads verification results", ErrForbidden)
	}
	cr, ok := h.o.Store.(ChainReader)
	if !ok {
		return nil, unavailable("audit log", errors.New("the store cannot read the audit chain"))
	}
	e, err := cr.LastAuditEvent(ctx, KindAuditVerified)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("no verification recorded: %w", ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("database", err)
	}
	var v AuditVerification
	if err := json.Unmarshal(e.Details, &v); err != nil {
		return nil, fmt.Errorf("audit event %d: %w", e.Seq, err)
	}
	return &v, nil
}

// AttachmentInfo describes one attachment of a document's original.
type AttachmentInfo struct {
	Index       int    `json:"index"` // from 0, in the packet's order
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

// Attachments lists the attachments of a document's original to whoever
// may read the document (Trace's rules); a status packet has none.
func (h *Hub) Attachments(ctx context.Context, p Principal, id string) ([]AttachmentInfo, error) {
	doc, _, _, err := h.visible(ctx, p, id)
	if err != nil {
		return nil, err
	}
	pkt, blob, err := h.parseOriginal(ctx, doc)
	if err != nil {
		return nil, err
	}
	defer blob.Close()
	out := make([]AttachmentInfo, 0, len(pkt.Attachments))
	for i, a := range pkt.Attachments {
		out = append(out, AttachmentInfo{Index: i, Name: a.Name, Description: a.Description, ContentType: a.ContentType})
	}
	return out, nil
}

// OpenAttachment opens the decoded payload of attachment n of a document's
// original for whoever may read the document, and records the access
// ("document.read" with the attachment). The reader closes the original.
func (h *Hub) OpenAttachment(ctx context.Context, p Principal, id string, n int) (*AttachmentInfo, io.ReadCloser, error) {
	doc, _, _, err := h.visible(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	pkt, blob, err := h.parseOriginal(ctx, doc)
	if err != nil {
		return nil, nil, err
	}
	if n < 0 || n >= len(pkt.Attachments) {
		blob.Close()
		return nil, nil, fmt.Errorf("document %s has no attachment %d: %w", id, n, ErrNotFound)
	}
	a := pkt.Attachments[n]
	r, err := a.Open()
	if err != nil {
		blob.Close()
		return nil, nil, fmt.Errorf("%w: attachment %d of %s: %w", ErrInvalidPacket, n, id, err)
	}
	if err := h.o.Store.AppendEvents(ctx, &archive.Event{At: h.now(), Kind: "document.read", Actor: p.Actor(), Agency: p.Agency, Document: doc.ID,
		Details: detailsJSON(map[string]any{"attachment": n, "name": a.Name})}); err != nil {
		blob.Close()
		return nil, nil, unavailable("database", err)
	}
	info := &AttachmentInfo{Index: n, Name: a.Name, Description: a.Description, ContentType: a.ContentType}
	return info, readCloser{r, func() error { r.Close(); return blob.Close() }}, nil
}

// parseOriginal opens and parses a document's original; the caller closes
// the blob, from which the attachments read.
func (h *Hub) parseOriginal(ctx context.Context, doc *Document) (*envelope.Packet, archive.Blob, error) {
	blob, err := h.o.Blobs.Open(ctx, doc.Digest)
	if err != nil {
		return nil, nil, originalError(doc, err)
	}
	pkt, err := envelope.ParseReaderAt(blob, blob.Size(), envelope.Options{Limits: envelope.Limits{MaxBytes: h.o.MaxPacket}, Rand: h.o.Rand})
	if err != nil {
		blob.Close()
		return nil, nil, fmt.Errorf("%w: the original of %s: %w", ErrInvalidPacket, doc.ID, err)
	}
	return pkt, blob, nil
}

// readCloser is a reader with its own Close.
type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
