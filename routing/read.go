package routing

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
)

// Inbox lists the caller's pending pull deliveries after the cursor.
func (h *Hub) Inbox(ctx context.Context, p Principal, after string, limit int) (*InboxPage, error) {
	if p.Role != RoleAgency {
		return nil, fmt.Errorf("%w: only an agency has an inbox", ErrForbidden)
	}
	if after != "" && !validID(after) {
		return nil, fmt.Errorf("%w: bad cursor", ErrBadRequest)
	}
	if limit <= 0 || limit > 1000 {
		return nil, fmt.Errorf("%w: limit %d", ErrBadRequest, limit)
	}
	items, err := h.o.Store.Inbox(ctx, p.Agency, after, limit)
	if err != nil {
		return nil, unavailable("database", err)
	}
	page := &InboxPage{Items: make([]InboxEntry, 0, len(items))}
	for _, it := range items {
		d, doc := it.Delivery, it.Document
		page.Items = append(page.Items, InboxEntry{
			DeliveryID: d.ID, DocumentID: doc.ID, Kind: doc.Kind.String(), From: doc.From, EdxmlID: doc.EdxmlID,
			Number: doc.Number, Notation: doc.Notation, Subject: doc.Subject, StatusCode: statusString(doc.StatusCode),
			Business: int(doc.Business), Ref: doc.Ref, Size: doc.Size, Digest: doc.Digest, State: d.State, QueuedAt: d.CreatedAt,
		})
	}
	if len(items) == limit {
		page.Next = items[len(items)-1].Delivery.ID
	}
	return page, nil
}

// recipientDelivery returns the delivery id if it is addressed to the
// calling agency; anything else is ErrNotFound, so that ids of others'
// deliveries reveal nothing.
func (h *Hub) recipientDelivery(ctx context.Context, p Principal, id string) (*Delivery, *Document, error) {
	if p.Role != RoleAgency {
		return nil, nil, fmt.Errorf("%w: only the recipient agency handles a delivery", ErrForbidden)
	}
	if !validID(id) {
		return nil, nil, fmt.Errorf("%w: delivery %q", ErrNotFound, id)
	}
	d, doc, err := h.deliveryDocument(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := h.checkRecipient(ctx, cfg, p, d); err != nil {
		return nil, nil, err
	}
	return d, doc, nil
}

// checkRecipient returns ErrNotFound, and audits the refusal, unless d is
// addressed to the calling agency.
func (h *Hub) checkRecipient(ctx context.Context, cfg *snapshot, p Principal, d *Delivery) error {
	if sameAgency(cfg, d.Recipient, p.Agency) {
		return nil
	}
	h.audit(ctx, &archive.Event{Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency, Document: d.Document, Delivery: d.ID,
		Details: detailsJSON(map[string]any{"request": "delivery", "reason": "not the recipient"})})
	return fmt.Errorf("delivery %s: %w", d.ID, ErrNotFound)
}

// deliveryDocumentReader reads a delivery with its document in one query
// (internal/store implements it).
type deliveryDocumentReader interface {
	DeliveryDocument(ctx context.Context, id string) (*Delivery, *Document, error)
}

// deliveryDocument returns a delivery and its document.
func (h *Hub) deliveryDocument(ctx context.Context, id string) (*Delivery, *Document, error) {
	var (
		d   *Delivery
		doc *Document
		err error
	)
	if r, ok := h.o.Store.(deliveryDocumentReader); ok {
		d, doc, err = r.DeliveryDocument(ctx, id)
	} else if d, err = h.o.Store.Delivery(ctx, id); err == nil {
		doc, err = h.o.Store.Document(ctx, d.Document)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, unavailable("database", err)
	}
	return d, doc, nil
}

func sameAgency(cfg *snapshot, a, b agencyids.Code) bool {
	if a == b {
		return true
	}
	x, ok := cfg.dir.Lookup(a)
	return ok && (x.Code == b || x.AltCode == b)
}

// FetchDelivery opens a delivery's original for its recipient and records
// the access; the first fetch of a queued pull delivery marks it pulled.
func (h *Hub) FetchDelivery(ctx context.Context, p Principal, id string) (*DeliveryInfo, archive.Blob, error) {
	d, doc, err := h.recipientDelivery(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	blob, err := h.o.Blobs.Open(ctx, doc.Digest)
	if err != nil {
		return nil, nil, originalError(doc, err)
	}
	ev := &archive.Event{At: h.now(), Kind: "delivery.fetched", Actor: p.Actor(), Agency: d.Recipient, Document: d.Document, Delivery: d.ID}
	if d.State == StateQueued && d.Route == RoutePull {
		ev.Kind = "delivery.pulled"
		prev := *d
		d.State, d.UpdatedAt = StatePulled, ev.At
		err = h.o.Store.UpdateDelivery(ctx, d, []DeliveryState{StateQueued}, prev.LeaseUntil, []*archive.Event{ev})
		if errors.Is(err, ErrStateConflict) {
			// Another fetch won: it recorded the pull.
			*d = prev
			ev.Kind = "delivery.fetched"
			err = h.o.Store.AppendEvents(ctx, ev)
		}
	} else {
		err = h.o.Store.AppendEvents(ctx, ev)
	}
	if err != nil {
		blob.Close()
		return nil, nil, unavailable("database", err)
	}
	h.metrics.fetched.Inc()
	return deliveryInfo(d), digestBlob{blob, doc.Digest}, nil
}

// digestBlob tells the HTTP layer the original's digest (Repr-Digest).
type digestBlob struct {
	archive.Blob
	d archive.Digest
}

// Digest is the blob's SHA-256.
func (b digestBlob) Digest() archive.Digest { return b.d }

// Ack records that the recipient has taken a delivery. Acking twice is
// harmless. When the recipient has sent no status 01 for the document,
// the hub records it as arrived.
func (h *Hub) Ack(ctx context.Context, p Principal, id string) (*DeliveryInfo, error) {
	d, doc, err := h.recipientDelivery(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if d.State == StateAcked {
		return deliveryInfo(d), nil
	}
	now := h.now()
	events, err := h.ackEvents(ctx, p, d, doc, now, nil)
	if err != nil {
		return nil, err
	}
	prev := d.State
	d.State, d.UpdatedAt = StateAcked, now
	err = h.o.Store.UpdateDelivery(ctx, d, []DeliveryState{prev}, d.LeaseUntil, events)
	if errors.Is(err, ErrStateConflict) {
		return h.ackAgain(ctx, id, now, events)
	}
	if err != nil {
		return nil, unavailable("database", err)
	}
	h.metrics.acked.Inc()
	return deliveryInfo(d), nil
}

// ackEvents checks that d, not yet acked, may be acknowledged and returns
// the events of acknowledging it at now.
func (h *Hub) ackEvents(ctx context.Context, p Principal, d *Delivery, doc *Document, now time.Time, known statusSenders) ([]*archive.Event, error) {
	switch d.State {
	case StateQueued, StatePulled:
	default:
		return nil, fmt.Errorf("%w: delivery %s is %s", ErrStateConflict, d.ID, d.State)
	}
	if d.Route != RoutePull {
		return nil, fmt.Errorf("%w: delivery %s is a %s delivery", ErrStateConflict, d.ID, d.Route)
	}
	events := []*archive.Event{{At: now, Kind: "delivery.acked", Actor: p.Actor(), Agency: d.Recipient, Document: d.Document, Delivery: d.ID}}
	// Only a document arrives; a status packet delivered is just acked.
	if doc.Kind == envelope.KindDocument {
		var arrived bool
		if known != nil {
			arrived = slices.Contains(known[d.Document], d.Recipient)
		} else {
			var err error
			if arrived, err = h.hasStatus(ctx, d.Document, d.Recipient, envelope.StatusArrived); err != nil {
				return nil, err
			}
		}
		if !arrived {
			events = append(events, &archive.Event{At: now, Kind: "delivery.arrived", Actor: "hub", Agency: d.Recipient, Document: d.Document, Delivery: d.ID,
				Details: detailsJSON(map[string]any{"by": "ack", "note": "acknowledged without status 01: recorded as arrived"})})
		}
	}
	return events, nil
}

// ackAgain acknowledges delivery id after a concurrent fetch or ack moved
// it between the read and the write: it looks again.
func (h *Hub) ackAgain(ctx context.Context, id string, now time.Time, events []*archive.Event) (*DeliveryInfo, error) {
	cur, err := h.o.Store.Delivery(ctx, id)
	switch {
	case err != nil:
		return nil, unavailable("database", err)
	case cur.State == StateAcked:
		return deliveryInfo(cur), nil
	case cur.State != StatePulled && cur.State != StateQueued:
		return nil, fmt.Errorf("%w: delivery %s is %s", ErrStateConflict, id, cur.State)
	}
	cur.State, cur.UpdatedAt = StateAcked, now
	err = h.o.Store.UpdateDelivery(ctx, cur, []DeliveryState{StatePulled, StateQueued}, cur.LeaseUntil, events)
	if errors.Is(err, ErrStateConflict) {
		return nil, err
	}
	if err != nil {
		return nil, unavailable("database", err)
	}
	h.metrics.acked.Inc()
	return deliveryInfo(cur), nil
}

// MaxAckBatch bounds the deliveries of one AckMany.
const MaxAckBatch = 500

// AckResult is one delivery's outcome in AckMany: Info when acknowledged
// (now or before), else Err.
type AckResult struct {
	ID   string
	Info *DeliveryInfo
	Err  error
}

// batchAcker reads and updates many deliveries at once (internal/store
// implements it): AckMany then costs one read and one write transaction.
type batchAcker interface {
	// DeliveryDocuments returns the deliveries of ids found, each with
	// its document.
	DeliveryDocuments(ctx context.Context, ids []string) (map[string]InboxItem, error)
	// UpdateDeliveries applies each update as UpdateDelivery would, all in
	// one transaction; the error of each is its own (ErrStateConflict,
	// ErrNotFound), and one update's error leaves the others applied. A
	// non-nil error of its own means none was applied.
	UpdateDeliveries(ctx context.Context, updates []DeliveryUpdate) ([]error, error)
}

// DeliveryUpdate is one update of UpdateDeliveries, with UpdateDelivery's
// arguments.
type DeliveryUpdate struct {
	Delivery *Delivery
	From     []DeliveryState
	Claimed  time.Time
	Events   []*archive.Event
}

// AckMany acknowledges the deliveries ids of the caller as Ack does each,
// and returns their outcomes in the order of ids. A DMS that has stored a
// page of its inbox takes it in one request instead of one per delivery.
// Only an error that concerns them all (role, size, the database) is
// returned as such.
func (h *Hub) AckMany(ctx context.Context, p Principal, ids []string) ([]AckResult, error) {
	if err := checkBatch(p, ids, MaxAckBatch); err != nil {
		return nil, err
	}
	out := make([]AckResult, len(ids))
	ba, ok := h.o.Store.(batchAcker)
	if !ok {
		for i, id := range ids {
			out[i].ID = id
			out[i].Info, out[i].Err = h.Ack(ctx, p, id)
		}
		return out, nil
	}
	found, bad, err := h.readBatch(ctx, p, ba, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		out[i].ID, out[i].Err = id, bad[i]
	}
	now := h.now()
	arrived, err := h.arrivedAll(ctx, found, out)
	if err != nil {
		return nil, err
	}
	var (
		updates []DeliveryUpdate
		index   []int // of out, for each update
		planned = map[string]bool{}
	)
	for i := range out {
		r := &out[i]
		if r.Err != nil {
			continue
		}
		it := found[r.ID]
		d, doc := it.Delivery, it.Document
		if d.State == StateAcked || planned[d.ID] {
			continue // answered below, as the delivery then is
		}
		events, err := h.ackEvents(ctx, p, &d, &doc, now, arrived)
		if err != nil {
			r.Err = err
			continue
		}
		prev := d.State
		d.State, d.UpdatedAt = StateAcked, now
		planned[d.ID] = true
		updates = append(updates, DeliveryUpdate{Delivery: &d, From: []DeliveryState{prev}, Claimed: d.LeaseUntil, Events: events})
		index = append(index, i)
	}
	if len(updates) > 0 {
		errs, err := ba.UpdateDeliveries(ctx, updates)
		if err != nil {
			return nil, unavailable("database", err)
		}
		for k, u := range updates {
			r := &out[index[k]]
			switch {
			case errors.Is(errs[k], ErrStateConflict):
				r.Info, r.Err = h.ackAgain(ctx, r.ID, now, u.Events)
			case errs[k] != nil:
				r.Err = unavailable("database", errs[k])
			default:
				r.Info = deliveryInfo(u.Delivery)
				h.metrics.acked.Inc()
			}
		}
	}
	// Deliveries acked before, and ids named again: as the first answer.
	first := make(map[string]int, len(out))
	for i := range out {
		r := &out[i]
		j, seen := first[r.ID]
		switch {
		case !seen:
			first[r.ID] = i
		case r.Err == nil && r.Info == nil:
			r.Info, r.Err = out[j].Info, out[j].Err
			continue
		}
		if r.Err == nil && r.Info == nil {
			it := found[r.ID]
			r.Info = deliveryInfo(&it.Delivery)
		}
	}
	return out, nil
}

// checkBatch checks the caller and the size of a batch of ids.
func checkBatch(p Principal, ids []string, max int) error {
	if p.Role != RoleAgency {
		return fmt.Errorf("%w: only the recipient agency handles a delivery", ErrForbidden)
	}
	if len(ids) == 0 || len(ids) > max {
		return fmt.Errorf("%w: %d deliveries, 1–%d at once", ErrBadRequest, len(ids), max)
	}
	return nil
}

// readBatch reads the deliveries of ids, with their documents, in one
// query. bad holds, in the place of each id that is malformed, not found or
// not addressed to the caller (the refusal audited), its ErrNotFound; every
// other id is in found.
func (h *Hub) readBatch(ctx context.Context, p Principal, ba batchAcker, ids []string) (found map[string]InboxItem, bad []error, err error) {
	bad = make([]error, len(ids))
	var valid []string
	for i, id := range ids {
		if validID(id) {
			valid = append(valid, id)
		} else {
			bad[i] = fmt.Errorf("%w: delivery %q", ErrNotFound, id)
		}
	}
	if found, err = ba.DeliveryDocuments(ctx, valid); err != nil {
		return nil, nil, unavailable("database", err)
	}
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i, id := range ids {
		if bad[i] != nil {
			continue
		}
		it, ok := found[id]
		if !ok {
			bad[i] = fmt.Errorf("delivery %s: %w", id, ErrNotFound)
			continue
		}
		bad[i] = h.checkRecipient(ctx, cfg, p, &it.Delivery)
	}
	return found, bad, nil
}

// statusSenders maps documents to the agencies that sent a status about
// them (of one code), for every document asked.
type statusSenders map[string][]agencyids.Code

// statusesFinder answers hasStatus with one indexed read, for one document
// or a page of deliveries' (internal/store implements it): a status
// packet's row refers to the document it reports on and is committed with
// its status.received event.
type statusesFinder interface {
	StatusSenders(ctx context.Context, documents []string, code envelope.StatusCode) (map[string][]agencyids.Code, error)
}

// arrivedAll reads, for the documents of the deliveries AckMany may
// acknowledge, which agencies sent status 01 (arrived) about them; nil if
// the store answers one at a time (ackEvents then asks hasStatus).
func (h *Hub) arrivedAll(ctx context.Context, found map[string]InboxItem, out []AckResult) (statusSenders, error) {
	sf, ok := h.o.Store.(statusesFinder)
	if !ok {
		return nil, nil
	}
	var docs []string
	seen := map[string]bool{}
	for _, r := range out {
		if it, ok := found[r.ID]; ok && r.Err == nil && it.Document.Kind == envelope.KindDocument && !seen[it.Delivery.Document] {
			seen[it.Delivery.Document] = true
			docs = append(docs, it.Delivery.Document)
		}
	}
	known, err := sf.StatusSenders(ctx, docs, envelope.StatusArrived)
	if err != nil {
		return nil, unavailable("database", err)
	}
	return known, nil
}

// hasStatus reports whether agency sent a status with code about document.
func (h *Hub) hasStatus(ctx context.Context, document string, agency agencyids.Code, code envelope.StatusCode) (bool, error) {
	if sf, ok := h.o.Store.(statusesFinder); ok {
		senders, err := sf.StatusSenders(ctx, []string{document}, code)
		if err != nil {
			return false, unavailable("database", err)
		}
		return slices.Contains(senders[document], agency), nil
	}
	events, err := h.o.Store.DocumentEvents(ctx, document)
	if err != nil {
		return false, unavailable("database", err)
	}
	want := statusString(code)
	for _, e := range events {
		if e.Kind == "status.received" && e.Document == document && e.Agency == agency {
			var det struct{ Code string }
			if json.Unmarshal(e.Details, &det) == nil && det.Code == want {
				return true, nil
			}
		}
	}
	return false, nil
}

// document reads a document the caller already may see.
func (h *Hub) document(ctx context.Context, id string) (*Document, error) {
	doc, err := h.o.Store.Document(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("document %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("database", err)
	}
	return doc, nil
}

// visible returns the document if p may read it: its sender, a recipient
// with a delivery, an auditor, or a peer hub that relayed it or that it was
// forwarded to. Others get ErrNotFound. all reports whether p sees every
// recipient of its trace (a recipient sees only its own part).
func (h *Hub) visible(ctx context.Context, p Principal, id string) (doc *Document, dels []*Delivery, all bool, err error) {
	if !validID(id) {
		return nil, nil, false, fmt.Errorf("document %q: %w", id, ErrNotFound)
	}
	if p.Role != RoleAgency && p.Role != RoleHub && p.Role != RoleAuditor {
		return nil, nil, false, fmt.Errorf("%w: %s may not read documents", ErrForbidden, p.Role)
	}
	doc, err = h.document(ctx, id)
	if err != nil {
		return nil, nil, false, err
	}
	dels, err = h.o.Store.Deliveries(ctx, id)
	if err != nil {
		return nil, nil, false, unavailable("database", err)
	}
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	switch p.Role {
	case RoleAuditor:
		return doc, dels, true, nil
	case RoleAgency:
		if sameAgency(cfg, doc.From, p.Agency) {
			return doc, dels, true, nil
		}
		if slices.ContainsFunc(dels, func(d *Delivery) bool { return sameAgency(cfg, d.Recipient, p.Agency) }) {
			return doc, dels, false, nil
		}
	case RoleHub:
		if doc.Via == p.Actor() || slices.ContainsFunc(dels, func(d *Delivery) bool { return d.Route == RoutePeer && d.Peer == p.Peer }) {
			return doc, dels, true, nil
		}
	}
	h.audit(ctx, &archive.Event{Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency, Document: id,
		Details: detailsJSON(map[string]any{"request": "document", "reason": "neither sender nor recipient"})})
	return nil, nil, false, fmt.Errorf("document %s: %w", id, ErrNotFound)
}

// OpenDocument opens a document's original bytes for a party to it or an
// auditor, and records the access.
func (h *Hub) OpenDocument(ctx context.Context, p Principal, id string) (*TraceDocument, archive.Blob, error) {
	doc, _, _, err := h.visible(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	blob, err := h.o.Blobs.Open(ctx, doc.Digest)
	if err != nil {
		return nil, nil, originalError(doc, err)
	}
	if err := h.o.Store.AppendEvents(ctx, &archive.Event{At: h.now(), Kind: "document.read", Actor: p.Actor(), Agency: p.Agency, Document: doc.ID}); err != nil {
		blob.Close()
		return nil, nil, unavailable("database", err)
	}
	td := traceDocument(doc)
	return &td, blob, nil
}

// PrincipalForCert maps a verified TLS client certificate to the member
// agency it is bound to in the directory.
func (h *Hub) PrincipalForCert(ctx context.Context, cert *x509.Certificate) (Principal, error) {
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return Principal{}, err
	}
	for _, a := range cfg.dir.ByFingerprint(agencyids.FingerprintOf(cert.Raw)) {
		if m, ok := cfg.member(a.Code); ok && a.ActiveAt(h.o.Now()) {
			return Principal{Role: RoleAgency, Agency: m.Code, Via: "mtls"}, nil
		}
	}
	return Principal{}, fmt.Errorf("%w: certificate %s is bound to no member agency", ErrUnauthenticated, cert.Subject)
}

// Ready checks the database and the archive.
func (h *Hub) Ready(ctx context.Context) map[string]error {
	out := map[string]error{"database": h.o.Store.Ping(ctx)}
	// Opening a blob that does not exist reaches the store and comes back
	// ErrNotFound when it is healthy.
	b, err := h.o.Blobs.Open(ctx, archive.Digest{})
	switch {
	case err == nil:
		b.Close()
		out["archive"] = nil
	case errors.Is(err, archive.ErrNotFound):
		out["archive"] = nil
	default:
		out["archive"] = err
	}
	return out
}

func deliveryInfo(d *Delivery) *DeliveryInfo {
	return &DeliveryInfo{ID: d.ID, Document: d.Document, Recipient: d.Recipient, Route: d.Route, Peer: d.Peer, State: d.State,
		Attempts: d.Attempts, LastError: d.LastError, Remote: d.Remote, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func traceDocument(doc *Document) TraceDocument {
	return TraceDocument{ID: doc.ID, Kind: doc.Kind.String(), From: doc.From, EdxmlID: doc.EdxmlID, Number: doc.Number,
		Notation: doc.Notation, Subject: doc.Subject, Business: int(doc.Business), StatusCode: statusString(doc.StatusCode),
		Ref: doc.Ref, Digest: doc.Digest, Size: doc.Size, ReceivedAt: doc.ReceivedAt}
}

// originalError explains a failure to open an original: gone (purged after
// its retention, or lost, which audit verify reports) or unavailable.
func originalError(doc *Document, err error) error {
	if errors.Is(err, archive.ErrNotFound) {
		return fmt.Errorf("%w: the original of document %s (sha256 %s) is no longer archived", ErrGone, doc.ID, doc.Digest)
	}
	return unavailable("archive", err)
}
