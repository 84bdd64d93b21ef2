package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/routing"
)

// Direction selects a clerk's documents by the part its agency played.
type Direction string

// The directions of a DocumentQuery.
const (
	DirAll      Direction = ""
	DirSent     Direction = "sent"
	DirReceived Direction = "received"
)

// MaxScope bounds the agencies of one DocumentQuery.
const MaxScope = 1000

// DocumentQuery selects documents (not status packets) for the console.
// Scope is required: a document matches only if one of its agencies sent
// it (DirSent), got a delivery of it (DirReceived), or either (DirAll).
type DocumentQuery struct {
	Scope     []agencyids.Code
	Direction Direction
	// Number matches "number/notation" (substring, case-insensitive).
	Number string
	// Subject is a substring of the subject, case-insensitive.
	Subject string
	// Counterpart is the other party: a recipient of a sent document, the
	// sender of a received one.
	Counterpart agencyids.Code
	// From <= ReceivedAt < To; zero leaves its side open.
	From, To time.Time
	// State keeps documents with a delivery (to the scope, for received
	// ones) in this state.
	State routing.DeliveryState
	// Before is the cursor: only ids below it (newest first).
	Before string
	Limit  int // 1–200
}

// ConsoleDocument is a document as the console lists it.
type ConsoleDocument struct {
	Document routing.Document
	// Sent says the scope sent it; otherwise it received it.
	Sent bool
	// Deliveries are all of a sent document's, or the scope's own of a
	// received one.
	Deliveries []*routing.Delivery
}

// SearchDocuments returns up to q.Limit documents q selects, newest first.
func (s *Store) SearchDocuments(ctx context.Context, q DocumentQuery) ([]ConsoleDocument, error) {
	switch {
	case len(q.Scope) == 0 || len(q.Scope) > MaxScope:
		return nil, fmt.Errorf("%w: scope of %d agencies (1–%d)", ErrBadArgument, len(q.Scope), MaxScope)
	case q.Limit < 1 || q.Limit > 200:
		return nil, fmt.Errorf("%w: limit %d", ErrBadArgument, q.Limit)
	case q.Direction != DirAll && q.Direction != DirSent && q.Direction != DirReceived:
		return nil, fmt.Errorf("%w: direction %q", ErrBadArgument, q.Direction)
	case q.State != "" && !validState(q.State):
		return nil, fmt.Errorf("%w: state %q", ErrBadArgument, q.State)
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	in := make([]string, len(q.Scope))
	for i, c := range q.Scope {
		in[i] = arg(string(c))
	}
	scope := "(" + strings.Join(in, ", ") + ")"
	like := "LIKE"
	if s.dialect == Postgres {
		like = "ILIKE"
	}
	sent := "d.sender IN " + scope
	own := "r.recipient IN " + scope
	var counterpart string
	if q.Counterpart != "" {
		c := arg(string(q.Counterpart))
		sent += " AND EXISTS (SELECT 1 FROM deliveries x WHERE x.document = d.id AND x.recipient = " + c + ")"
		counterpart = " AND d.sender = " + c
	}
	if q.State != "" {
		st := arg(string(q.State))
		sent += " AND EXISTS (SELECT 1 FROM deliveries x WHERE x.document = d.id AND x.state = " + st + ")"
		own += " AND r.state = " + st
	}
	recv := "EXISTS (SELECT 1 FROM deliveries r WHERE r.document = d.id AND " + own + ")" + counterpart
	where := []string{"d.kind = 'document'"}
	switch q.Direction {
	case DirSent:
		where = append(where, "("+sent+")")
	case DirReceived:
		where = append(where, "("+recv+")")
	default:
		where = append(where, "(("+sent+") OR ("+recv+"))")
	}
	if q.Number != "" {
		where = append(where, "(d.number || '/' || d.notation) "+like+" "+arg(likePattern(q.Number))+" ESCAPE '\\'")
	}
	if q.Subject != "" {
		where = append(where, "d.subject "+like+" "+arg(likePattern(q.Subject))+" ESCAPE '\\'")
	}
	if !q.From.IsZero() {
		where = append(where, "d.received_at >= "+arg(s.timeArg(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "d.received_at < "+arg(s.timeArg(q.To)))
	}
	if q.Before != "" {
		where = append(where, "d.id < "+arg(q.Before))
	}
	query := "SELECT " + prefixed("d", documentColumns) + " FROM documents d WHERE " + strings.Join(where, " AND ") +
		" ORDER BY d.id DESC LIMIT " + arg(q.Limit)
	docs, err := s.documents(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search documents: %w", err)
	}
	inScope := map[agencyids.Code]bool{}
	for _, c := range q.Scope {
		inScope[c] = true
	}
	out := make([]ConsoleDocument, 0, len(docs))
	for _, d := range docs {
		dels, err := s.Deliveries(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		cd := ConsoleDocument{Document: *d, Sent: inScope[d.From]}
		for _, x := range dels {
			if cd.Sent || inScope[x.Recipient] {
				cd.Deliveries = append(cd.Deliveries, x)
			}
		}
		out = append(out, cd)
	}
	return out, nil
}

// likePattern is a LIKE pattern for a substring, with the wildcards of s
// escaped (by '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
