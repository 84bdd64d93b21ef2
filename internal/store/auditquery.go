package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// The store answers the hub's audit queries.
var _ routing.AuditReader = (*Store)(nil)

// QueryAudit returns up to f.Limit events with Seq > f.AfterSeq that match
// every set field of f, in Seq order (see routing.AuditFilter): Document,
// Delivery, Agency and Actor exactly; Kind exactly, or as a prefix when it
// ends with "."; From <= At < To. Times are compared to the microsecond,
// as they are stored. A limit outside 1..routing.AuditMaxLimit is
// ErrBadArgument.
func (s *Store) QueryAudit(ctx context.Context, f routing.AuditFilter) ([]*archive.Event, error) {
	if f.Limit < 1 || f.Limit > routing.AuditMaxLimit {
		return nil, fmt.Errorf("%w: audit query limit %d", ErrBadArgument, f.Limit)
	}
	q, args := s.auditQuery(f)
	out, err := s.events(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query audit events: %w", err)
	}
	return out, nil
}

// The values every document writes to the log (migration 00012): the
// actor and kind indexes leave them out, and a filter on one of them reads
// the log in seq order, where such events are never far apart. The
// conditions are those of the partial indexes, word for word.
const (
	denseActor     = "hub"
	denseActorCond = "actor <> 'hub'"
	denseKindsCond = "kind NOT IN ('delivery.acked', 'delivery.arrived', 'delivery.forwarded', 'delivery.pulled', " +
		"'delivery.pushed', 'delivery.queued', 'document.accepted', 'document.archived', 'status.received')"
)

// denseKinds is the list of denseKindsCond.
var denseKinds = []string{"delivery.acked", "delivery.arrived", "delivery.forwarded", "delivery.pulled",
	"delivery.pushed", "delivery.queued", "document.accepted", "document.archived", "status.received"}

// auditQuery builds the query of f. Each filter has an index (00001,
// 00003, 00012), on (column, seq) but for document, whose events are few,
// so that a page is read in seq order; the conditions of the partial ones
// are repeated word for word, as SQLite uses a partial index only then.
// A filter on a dense actor or kind has no index: the log itself, read
// in seq order, is its index.
func (s *Store) auditQuery(f routing.AuditFilter) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"seq > " + arg(f.AfterSeq)}
	for _, c := range []struct{ column, value string }{
		{"document", f.Document}, {"delivery", f.Delivery}, {"agency", string(f.Agency)},
	} {
		if c.value != "" {
			where = append(where, c.column+" <> '' AND "+c.column+" = "+arg(c.value))
		}
	}
	if f.Actor != "" {
		if f.Actor != denseActor {
			where = append(where, denseActorCond)
		}
		where = append(where, "actor = "+arg(f.Actor))
	}
	if f.Kind != "" {
		// Bytewise on PostgreSQL too (the collation of audit_events_kind),
		// so that a prefix is the range [prefix, prefix with "." -> "/").
		kind := "kind"
		if s.dialect == Postgres {
			kind = `kind COLLATE "C"`
		}
		prefix, isPrefix := strings.CutSuffix(f.Kind, ".")
		matches := func(k string) bool { return k == f.Kind || isPrefix && f.Kind <= k && k < prefix+"/" }
		if !slices.ContainsFunc(denseKinds, matches) {
			where = append(where, denseKindsCond)
		}
		if isPrefix {
			where = append(where, kind+" >= "+arg(f.Kind)+" AND "+kind+" < "+arg(prefix+"/"))
		} else {
			where = append(where, kind+" = "+arg(f.Kind))
		}
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(s.timeArg(ceilMicro(f.From))))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(s.timeArg(ceilMicro(f.To))))
	}
	q := "SELECT " + auditColumns + " FROM audit_events WHERE " + strings.Join(where, " AND ") +
		" ORDER BY seq LIMIT " + arg(f.Limit)
	return q, args
}

// ceilMicro rounds t up to the microsecond: for a stored time a (whole
// microseconds), a >= t and a < t mean a >= ceilMicro(t) and a < ceilMicro(t).
func ceilMicro(t time.Time) time.Time {
	if c := t.Truncate(time.Microsecond); !c.Equal(t) {
		return c.Add(time.Microsecond)
	}
	return t
}
