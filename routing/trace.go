package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
)

// Trace is a document's timeline for every recipient, built from its audit
// events: the log is the one record of what happened. A recipient sees its
// own part only; the sender, auditors and the hubs it passed see all.
func (h *Hub) Trace(ctx context.Context, p Principal, id string) (*Trace, error) {
	_, _, _, tr, err := h.traced(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if p.Role != RoleHub {
		// A peer asking gets this hub's steps only: no chains of calls.
		h.addPeerSteps(ctx, tr)
	}
	return tr, nil
}

// traced reads what p may see of document id (visible), its audit events,
// and builds its trace from them.
func (h *Hub) traced(ctx context.Context, p Principal, id string) (*Document, []*Delivery, []*archive.Event, *Trace, error) {
	doc, dels, all, err := h.visible(ctx, p, id)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	events, err := h.o.Store.DocumentEvents(ctx, doc.ID)
	if err != nil {
		return nil, nil, nil, nil, unavailable("database", err)
	}
	tr, err := h.trace(ctx, p, doc, dels, all, events)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return doc, dels, events, tr, nil
}

// trace builds the timeline of doc, which p may see (all: every recipient),
// from its deliveries and audit events.
func (h *Hub) trace(ctx context.Context, p Principal, doc *Document, dels []*Delivery, all bool, events []*archive.Event) (*Trace, error) {
	id := doc.ID
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, err
	}
	t := &Trace{Document: traceDocument(doc), Steps: []Step{}, Recipients: []TraceRecipient{}}
	byDelivery := map[string]*TraceRecipient{}
	byAgency := map[agencyids.Code]*TraceRecipient{}
	for _, d := range dels {
		if !all && !sameAgency(cfg, d.Recipient, p.Agency) {
			continue
		}
		t.Recipients = append(t.Recipients, TraceRecipient{
			Agency: d.Recipient, DeliveryID: d.ID, Route: d.Route, Peer: d.Peer, State: d.State,
			Attempts: d.Attempts, LastError: d.LastError, Remote: d.Remote, Steps: []Step{}, Statuses: []StatusEntry{},
		})
	}
	// Recipients the sending hub serves have no delivery here.
	for _, to := range doc.Recipients {
		if all && !containsRecipient(t.Recipients, to) && !containsDelivery(dels, to) {
			t.Recipients = append(t.Recipients, TraceRecipient{Agency: to, Steps: []Step{}, Statuses: []StatusEntry{}})
		}
	}
	for i := range t.Recipients {
		r := &t.Recipients[i]
		if r.DeliveryID != "" {
			byDelivery[r.DeliveryID] = r
		}
		byAgency[r.Agency] = r
	}
	for _, e := range events {
		if e.Document != id {
			continue // the status packet's own events
		}
		var det map[string]any
		_ = json.Unmarshal(e.Details, &det)
		str := func(k string) string { s, _ := det[k].(string); return s }
		s := Step{At: e.At, Actor: e.Actor}
		switch e.Kind {
		case "document.accepted", "document.archived", "document.revoked", "document.updated", "document.replaced", "document.read":
			s.Step = e.Kind[len("document."):]
			switch e.Kind {
			case "document.archived":
				s.Detail = "sha256 " + str("digest")
			case "document.revoked", "document.updated", "document.replaced":
				s.Detail = fmt.Sprintf("by %s %s", str("by"), str("reason"))
			case "document.accepted":
				s.Detail = "signature " + str("signature")
			}
			if e.Kind == "document.read" && !all {
				continue
			}
			t.Steps = append(t.Steps, s)
		case "upstream.pulled":
			// Taken from a peer hub's inbox (internal/vxp/upstream).
			s.Step, s.Detail = "pulled-from-peer", fmt.Sprintf("from %s, its id %s", str("peer"), str("remote"))
			t.Steps = append(t.Steps, s)
		case "status.received":
			code := str("code")
			from, to := agencyids.Code(str("from")), agencyids.Code(str("to"))
			n, _ := strconv.Atoi(code)
			c := envelope.StatusCode(n)
			entry := StatusEntry{Code: code, Name: c.NameEN(), NameVI: c.NameVI(), From: from, DocumentID: str("status"),
				Description: str("description"), At: e.At}
			party := from
			if c.SentBySender() {
				party = to
			}
			if r := byAgency[party]; r != nil {
				r.Statuses = append(r.Statuses, entry)
				r.Steps = append(r.Steps, Step{At: e.At, Step: "status", Actor: e.Actor, Detail: fmt.Sprintf("%s %s from %s", code, c.NameEN(), from)})
			} else if all {
				t.Steps = append(t.Steps, Step{At: e.At, Step: "status", Actor: e.Actor, Detail: fmt.Sprintf("%s %s from %s to %s", code, c.NameEN(), from, to)})
			}
		default:
			r := byDelivery[e.Delivery]
			if r == nil {
				continue
			}
			s.Step = stepName(e.Kind)
			s.Error = str("error")
			if a, ok := det["attempt"].(float64); ok {
				s.Attempt = int(a)
			}
			switch e.Kind {
			case "delivery.queued":
				s.Detail = "route " + str("route")
				if p := str("peer"); p != "" {
					s.Detail += " via " + p
				}
			case "delivery.forwarded":
				s.Detail = "accepted by the peer hub as " + str("remote")
			case "delivery.attempt-failed":
				s.Detail = "next attempt " + str("next")
			default:
				s.Detail = str("note")
			}
			r.Steps = append(r.Steps, s)
		}
	}
	return t, nil
}

// stepName is an event kind's step on a trace: "delivery.pushed" → "pushed".
func stepName(kind string) string {
	const p = "delivery."
	if len(kind) > len(p) && kind[:len(p)] == p {
		return kind[len(p):]
	}
	return kind
}

func containsRecipient(rs []TraceRecipient, a agencyids.Code) bool {
	for _, r := range rs {
		if r.Agency == a {
			return true
		}
	}
	return false
}

func containsDelivery(ds []*Delivery, a agencyids.Code) bool {
	for _, d := range ds {
		if d.Recipient == a {
			return true
		}
	}
	return false
}
