package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// auditLog is the log testQueryAudit queries: seq i+1 is auditLog[i], at
// at(sec), with details {"i": i+1}.
var auditLog = []struct {
	kind, actor        string
	agency             agencyids.Code
	document, delivery string
	sec                int
}{
	{"document.accepted", "agency:" + string(g22), g22, "d1", "", 0},  // 1
	{"delivery.queued", "hub", h53, "d1", "dl1", 0},                   // 2
	{"delivery.queued", "hub", h41, "d1", "dl2", 1},                   // 3
	{"delivery.pulled", "agency:" + string(h53), h53, "d1", "dl1", 2}, // 4
	{"auth.refused", "anonymous", "", "", "", 3},                      // 5
	{"document.accepted", "agency:" + string(g22), g22, "d2", "", 4},  // 6
	{"delivery.queued", "hub", h53, "d2", "dl3", 4},                   // 7
	{"delivery.acked", "agency:" + string(h53), h53, "d1", "dl1", 5},  // 8
	{"delivery", "hub", "", "", "", 6},                                // 9: no dot, not of "delivery."
	{"delivery/x", "hub", "", "", "", 6},                              // 10: the end of the "delivery." range
	{"deliveryx.y", "hub", "", "", "", 7},                             // 11
	{"audit.read", "auditor:kiemtoan", "", "", "", 8},                 // 12
}

func testQueryAudit(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	var events []*archive.Event
	for i, l := range auditLog {
		events = append(events, &archive.Event{At: at(l.sec), Kind: l.kind, Actor: l.actor, Agency: l.agency,
			Document: l.document, Delivery: l.delivery, Details: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i+1))})
	}
	Append(t, s, events[:6]...)
	Append(t, s, events[6:]...)

	half := 500 * time.Nanosecond // below the stored precision
	ict := time.FixedZone("ICT", 7*3600)
	all := seqs(1, 12)
	tests := []struct {
		name string
		f    routing.AuditFilter
		want []int64
	}{
		{"no filter", routing.AuditFilter{}, all},
		{"document", routing.AuditFilter{Document: "d1"}, []int64{1, 2, 3, 4, 8}},
		{"delivery", routing.AuditFilter{Delivery: "dl1"}, []int64{2, 4, 8}},
		{"agency", routing.AuditFilter{Agency: h53}, []int64{2, 4, 7, 8}},
		{"actor", routing.AuditFilter{Actor: "hub"}, []int64{2, 3, 7, 9, 10, 11}},
		{"actor not hub", routing.AuditFilter{Actor: "agency:" + string(g22)}, []int64{1, 6}},
		{"kind exact", routing.AuditFilter{Kind: "delivery.queued"}, []int64{2, 3, 7}},
		{"kind exact, not dense", routing.AuditFilter{Kind: "audit.read"}, []int64{12}},
		{"kind prefix, none dense", routing.AuditFilter{Kind: "auth."}, []int64{5}},
		{"kind prefix, none dense, nothing", routing.AuditFilter{Kind: "archive."}, nil},
		{"kind exact without dot", routing.AuditFilter{Kind: "delivery"}, []int64{9}},
		{"kind prefix", routing.AuditFilter{Kind: "delivery."}, []int64{2, 3, 4, 7, 8}},
		{"kind prefix of two levels", routing.AuditFilter{Kind: "document."}, []int64{1, 6}},
		{"kind prefix is not a wildcard", routing.AuditFilter{Kind: "deliver."}, nil},
		{"kind unknown", routing.AuditFilter{Kind: "nothing"}, nil},
		{"no such document", routing.AuditFilter{Document: "d9"}, nil},
		{"from is inclusive", routing.AuditFilter{From: at(4)}, seqs(6, 12)},
		{"to is exclusive", routing.AuditFilter{To: at(4)}, seqs(1, 5)},
		{"from and to", routing.AuditFilter{From: at(1), To: at(5)}, seqs(3, 7)},
		{"from in another zone", routing.AuditFilter{From: at(4).In(ict)}, seqs(6, 12)},
		{"from below a microsecond after", routing.AuditFilter{From: at(4).Add(half)}, seqs(8, 12)},
		{"to below a microsecond after", routing.AuditFilter{To: at(4).Add(half)}, seqs(1, 7)},
		{"from after the last", routing.AuditFilter{From: at(9)}, nil},
		{"after", routing.AuditFilter{AfterSeq: 10}, []int64{11, 12}},
		{"after the last", routing.AuditFilter{AfterSeq: 12}, nil},
		{"limit", routing.AuditFilter{Limit: 3}, []int64{1, 2, 3}},
		{"document and kind", routing.AuditFilter{Document: "d1", Kind: "delivery."}, []int64{2, 3, 4, 8}},
		{"agency, actor and kind", routing.AuditFilter{Agency: h53, Actor: "hub", Kind: "delivery.queued"}, []int64{2, 7}},
		{"delivery and time", routing.AuditFilter{Delivery: "dl1", From: at(1), To: at(5)}, []int64{4}},
		{"every filter", routing.AuditFilter{Document: "d1", Delivery: "dl1", Agency: h53, Actor: "hub", Kind: "delivery.",
			From: at(0), To: at(1), AfterSeq: 1, Limit: 10}, []int64{2}},
		{"every filter, after the match", routing.AuditFilter{Document: "d1", Delivery: "dl1", Agency: h53, Actor: "hub", Kind: "delivery.",
			From: at(0), To: at(1), AfterSeq: 2, Limit: 10}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.Limit == 0 {
				tc.f.Limit = routing.AuditMaxLimit
			}
			got, err := s.QueryAudit(ctx, tc.f)
			if err != nil {
				t.Fatalf("QueryAudit(%+v): %v", tc.f, err)
			}
			if gs := eventSeqs(got); !slices.Equal(gs, tc.want) {
				t.Fatalf("QueryAudit(%+v) = %v, want %v", tc.f, gs, tc.want)
			}
			for _, g := range got {
				w := events[g.Seq-1]
				if !g.At.Equal(w.At) || g.At.Location() != time.UTC || g.Kind != w.Kind || g.Actor != w.Actor || g.Agency != w.Agency ||
					g.Document != w.Document || g.Delivery != w.Delivery || string(g.Details) != string(w.Details) ||
					g.Prev != w.Prev || g.Hash != w.Hash {
					t.Errorf("event %d read back as\n%+v\nwant\n%+v", g.Seq, g, w)
				}
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		for _, f := range []routing.AuditFilter{{}, {Kind: "delivery."}, {Actor: "hub"}, {Document: "d1", From: at(1)}} {
			full := f
			full.Limit = routing.AuditMaxLimit
			want, err := s.QueryAudit(ctx, full)
			if err != nil {
				t.Fatal(err)
			}
			for _, limit := range []int{1, 2, 5} {
				var got []int64
				page := f
				page.Limit = limit
				for pages := 0; ; pages++ {
					es, err := s.QueryAudit(ctx, page)
					if err != nil {
						t.Fatal(err)
					}
					if len(es) > limit || pages > len(auditLog) {
						t.Fatalf("%+v: page of %d events", page, len(es))
					}
					got = append(got, eventSeqs(es)...)
					if len(es) < limit {
						break
					}
					page.AfterSeq = es[len(es)-1].Seq
				}
				if !slices.Equal(got, eventSeqs(want)) {
					t.Errorf("%+v by %d: %v, want %v", f, limit, got, eventSeqs(want))
				}
			}
		}
	})

	t.Run("limit bounds", func(t *testing.T) {
		for _, limit := range []int{0, -1, routing.AuditMaxLimit + 1} {
			if _, err := s.QueryAudit(ctx, routing.AuditFilter{Limit: limit}); !errors.Is(err, store.ErrBadArgument) {
				t.Errorf("limit %d: err = %v, want ErrBadArgument", limit, err)
			}
		}
		for _, limit := range []int{1, routing.AuditMaxLimit} {
			if got, err := s.QueryAudit(ctx, routing.AuditFilter{Limit: limit}); err != nil || len(got) != min(limit, len(auditLog)) {
				t.Errorf("limit %d: %d events, %v", limit, len(got), err)
			}
		}
	})
}

// seqs is first, first+1, …, last.
func seqs(first, last int64) []int64 {
	var out []int64
	for q := first; q <= last; q++ {
		out = append(out, q)
	}
	return out
}

func eventSeqs(es []*archive.Event) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}
