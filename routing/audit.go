package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
)

// AuditMaxLimit is the most events one audit query returns.
const AuditMaxLimit = 1000

// maxAuditField bounds each string field of an AuditFilter, in bytes.
const maxAuditField = 256

// AuditFilter selects audit events: those that match every set field, with
// Seq > AfterSeq, in Seq order, at most Limit of them.
type AuditFilter struct {
	Document string         // hub document id
	Delivery string         // delivery id
	Agency   agencyids.Code // the event's agency, as recorded
	Actor    string         // Principal.Actor, "hub", "anonymous" …
	// Kind is an exact kind ("delivery.acked"), or a prefix when it ends
	// with "." ("delivery." matches every delivery.* kind).
	Kind string
	// From <= At < To; a zero time leaves its side open.
	From, To time.Time
	// AfterSeq is the cursor: only events with Seq > AfterSeq.
	AfterSeq int64
	// Limit is 1..AuditMaxLimit.
	Limit int
}

// Validate checks f; its errors wrap ErrBadRequest.
func (f AuditFilter) Validate() error {
	switch {
	case f.Limit < 1 || f.Limit > AuditMaxLimit:
		return fmt.Errorf("%w: limit %d is not 1–%d", ErrBadRequest, f.Limit, AuditMaxLimit)
	case f.AfterSeq < 0:
		return fmt.Errorf("%w: cursor %d is negative", ErrBadRequest, f.AfterSeq)
	case !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From):
		return fmt.Errorf("%w: to (%s) is not after from (%s)", ErrBadRequest, f.To.Format(time.RFC3339Nano), f.From.Format(time.RFC3339Nano))
	}
	for _, v := range []struct{ name, value string }{
		{"document", f.Document}, {"delivery", f.Delivery}, {"agency", string(f.Agency)}, {"actor", f.Actor}, {"kind", f.Kind},
	} {
		if len(v.value) > maxAuditField || !utf8.ValidString(v.value) {
			return fmt.Errorf("%w: %s is longer than %d bytes or not UTF-8", ErrBadRequest, v.name, maxAuditField)
		}
	}
	return nil
}

// details records f in the audit event of the read that used it.
func (f AuditFilter) details(returned int) json.RawMessage {
	m := map[string]any{
		"document": f.Document, "delivery": f.Delivery, "agency": string(f.Agency), "actor": f.Actor, "kind": f.Kind,
		"from": auditTime(f.From), "to": auditTime(f.To), "limit": f.Limit, "returned": returned,
	}
	if f.AfterSeq > 0 {
		m["after"] = f.AfterSeq
	}
	return detailsJSON(m)
}

// auditTime is t in RFC 3339 (UTC), "" for the zero time.
func auditTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// AuditReader queries the audit log (internal/store implements it). It is
// not part of Store: a store without it makes AuditEvents unavailable.
type AuditReader interface {
	// QueryAudit returns the events f selects, in Seq order; f is valid.
	QueryAudit(ctx context.Context, f AuditFilter) ([]*archive.Event, error)
}

// AuditPage is one page of GET /v1/audit/events.
type AuditPage struct {
	Events []AuditEvent `json:"events"`
	// Next is the cursor of the following page (the last Seq, in decimal)
	// when this page is full; empty otherwise.
	Next string `json:"next,omitempty"`
}

// AuditEvent is an archive.Event as the API sends it: every field, so
// that an auditor can recompute Hash (digests in lower-case hex).
type AuditEvent struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor"`
	Agency   agencyids.Code  `json:"agency"`
	Document string          `json:"document"`
	Delivery string          `json:"delivery"`
	Details  json.RawMessage `json:"details"` // a JSON object, as hashed
	Prev     archive.Digest  `json:"prev"`
	Hash     archive.Digest  `json:"hash"`
}

func auditEvent(e *archive.Event) AuditEvent {
	d := e.Details
	if len(d) == 0 {
		d = json.RawMessage("{}")
	}
	return AuditEvent{Seq: e.Seq, At: e.At, Kind: e.Kind, Actor: e.Actor, Agency: e.Agency, Document: e.Document,
		Delivery: e.Delivery, Details: d, Prev: e.Prev, Hash: e.Hash}
}

// AuditEvents returns the audit events f selects, for an auditor only, and
// records the read itself (kind "audit.read", details: the filter).
func (h *Hub) AuditEvents(ctx context.Context, p Principal, f AuditFilter) (*AuditPage, error) {
	if p.Role != RoleAuditor {
		h.audit(ctx, &archive.Event{At: h.now(), Kind: "auth.refused", Actor: p.Actor(), Agency: p.Agency,
			Details: detailsJSON(map[string]any{"request": "audit events", "reason": "not an auditor"})})
		return nil, fmt.Errorf("%w: only an auditor reads the audit log", ErrForbidden)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	r, ok := h.o.Store.(AuditReader)
	if !ok {
		return nil, unavailable("audit log", errors.New("the store cannot query the audit log"))
	}
	events, err := r.QueryAudit(ctx, f)
	if err != nil {
		return nil, unavailable("database", err)
	}
	page := &AuditPage{Events: make([]AuditEvent, 0, len(events))}
	for _, e := range events {
		page.Events = append(page.Events, auditEvent(e))
	}
	if len(events) == f.Limit {
		page.Next = strconv.FormatInt(events[len(events)-1].Seq, 10)
	}
	h.audit(ctx, &archive.Event{At: h.now(), Kind: "audit.read", Actor: p.Actor(), Details: f.details(len(events))})
	return page, nil
}
