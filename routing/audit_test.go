package routing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

var auditorP = routing.Principal{Role: routing.RoleAuditor, Name: "kiemtoan", Via: "token"}

func (e *env) auditEvents(f routing.AuditFilter) *routing.AuditPage {
	e.t.Helper()
	pg, err := e.hub.AuditEvents(context.Background(), auditorP, f)
	if err != nil {
		e.t.Fatalf("AuditEvents(%+v): %v", f, err)
	}
	return pg
}

func TestAuditEvents(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14}}))
	e.fetch(h41, recipient(t, e.trace(agencyP(g22), rc.ID), h41).DeliveryID)
	reads := 0 // successful AuditEvents calls so far

	// Every role but the auditor is refused, and the refusal audited.
	for _, p := range []routing.Principal{agencyP(g22), {Role: routing.RoleHub, Peer: "national"}, {Role: routing.RoleAdmin, Name: "root"}} {
		if _, err := e.hub.AuditEvents(ctx, p, routing.AuditFilter{Limit: 10}); !errors.Is(err, routing.ErrForbidden) {
			t.Errorf("%s: err = %v, want ErrForbidden", p.Actor(), err)
		}
	}
	refused := e.auditEvents(routing.AuditFilter{Kind: "auth.refused", Limit: 10})
	reads++
	if len(refused.Events) != 3 || refused.Events[2].Actor != "admin:root" || !strings.Contains(string(refused.Events[2].Details), `"request":"audit events"`) {
		t.Fatalf("refusals %+v", refused.Events)
	}

	// The document's events, as the store holds them.
	want, err := e.store.DocumentEvents(ctx, rc.ID)
	if err != nil {
		t.Fatal(err)
	}
	page := e.auditEvents(routing.AuditFilter{Document: rc.ID, Limit: 100})
	reads++
	if len(page.Events) != len(want) || len(want) < 5 || page.Next != "" {
		t.Fatalf("document page: %d events (next %q), want %d", len(page.Events), page.Next, len(want))
	}
	for i, g := range page.Events {
		w := want[i]
		if g.Seq != w.Seq || !g.At.Equal(w.At) || g.Kind != w.Kind || g.Actor != w.Actor || g.Agency != w.Agency ||
			g.Document != w.Document || g.Delivery != w.Delivery || string(g.Details) != string(w.Details) || g.Prev != w.Prev || g.Hash != w.Hash {
			t.Errorf("event %d is\n%+v\nwant\n%+v", i, g, w)
		}
	}
	// The wire form: every field, digests in hex, details an object.
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Events []map[string]json.RawMessage `json:"events"`
		Next   *string                      `json:"next"`
	}
	if err := json.Unmarshal(b, &wire); err != nil || wire.Next != nil {
		t.Fatalf("wire %s: %v", b, err)
	}
	for _, k := range []string{"seq", "at", "kind", "actor", "agency", "document", "delivery", "details", "prev", "hash"} {
		if _, ok := wire.Events[0][k]; !ok {
			t.Errorf("wire event lacks %q: %s", k, b)
		}
	}
	if h := string(wire.Events[1]["hash"]); h != `"`+want[1].Hash.String()+`"` || string(wire.Events[1]["prev"]) != `"`+want[0].Hash.String()+`"` {
		t.Errorf("hash %s prev %s", h, wire.Events[1]["prev"])
	}
	if d := wire.Events[0]["details"]; len(d) == 0 || d[0] != '{' {
		t.Errorf("details %s", d)
	}

	tests := []struct {
		name string
		f    routing.AuditFilter
		ok   func(routing.AuditEvent) bool
		min  int
	}{
		{"kind prefix", routing.AuditFilter{Kind: "delivery."}, func(ev routing.AuditEvent) bool { return strings.HasPrefix(ev.Kind, "delivery.") }, 3},
		{"actor", routing.AuditFilter{Actor: "agency:" + string(h41)}, func(ev routing.AuditEvent) bool { return ev.Actor == "agency:"+string(h41) }, 1},
		{"agency and kind", routing.AuditFilter{Agency: h14, Kind: "delivery.queued"},
			func(ev routing.AuditEvent) bool { return ev.Agency == h14 && ev.Kind == "delivery.queued" }, 1},
		{"from the future", routing.AuditFilter{From: time.Now().Add(time.Hour)}, nil, 0},
		{"to the past", routing.AuditFilter{To: time.Now().Add(-time.Hour)}, nil, 0},
	}
	for _, tc := range tests {
		tc.f.Limit = routing.AuditMaxLimit
		pg := e.auditEvents(tc.f)
		reads++
		if len(pg.Events) < tc.min || (tc.ok == nil && len(pg.Events) != 0) {
			t.Errorf("%s: %d events", tc.name, len(pg.Events))
		}
		for _, ev := range pg.Events {
			if !tc.ok(ev) {
				t.Errorf("%s: event %+v", tc.name, ev)
			}
		}
	}

	// Paging by Next gives the whole list.
	var got []int64
	f := routing.AuditFilter{Document: rc.ID, Limit: 2}
	for pages := 0; ; pages++ {
		pg := e.auditEvents(f)
		reads++
		for _, ev := range pg.Events {
			got = append(got, ev.Seq)
		}
		if pg.Next == "" {
			break
		}
		if len(pg.Events) != f.Limit || pg.Next != strconv.FormatInt(got[len(got)-1], 10) || pages > len(want) {
			t.Fatalf("page %d: %d events, next %q", pages, len(pg.Events), pg.Next)
		}
		if f.AfterSeq, err = strconv.ParseInt(pg.Next, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	var wantSeqs []int64
	for _, w := range want {
		wantSeqs = append(wantSeqs, w.Seq)
	}
	if !slices.Equal(got, wantSeqs) {
		t.Fatalf("paged %v, want %v", got, wantSeqs)
	}

	// Malformed filters.
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for name, f := range map[string]routing.AuditFilter{
		"limit 0":       {},
		"limit too big": {Limit: routing.AuditMaxLimit + 1},
		"negative":      {AfterSeq: -1, Limit: 1},
		"to before":     {From: t0, To: t0.Add(-time.Second), Limit: 1},
		"empty window":  {From: t0, To: t0, Limit: 1},
		"long kind":     {Kind: strings.Repeat("k", 257), Limit: 1},
		"bad utf-8":     {Actor: "\xff", Limit: 1},
	} {
		if _, err := e.hub.AuditEvents(ctx, auditorP, f); !errors.Is(err, routing.ErrBadRequest) {
			t.Errorf("%s: err = %v, want ErrBadRequest", name, err)
		}
	}

	// Every read is audited with its filter; refused ones are not reads.
	pg := e.auditEvents(routing.AuditFilter{Kind: "audit.read", Limit: routing.AuditMaxLimit})
	if len(pg.Events) != reads {
		t.Fatalf("%d audit.read events, want %d", len(pg.Events), reads)
	}
	first, second := pg.Events[0], pg.Events[1]
	if first.Actor != auditorP.Actor() || string(first.Details) != `{"kind":"auth.refused","limit":10,"returned":3}` ||
		string(second.Details) != fmt.Sprintf(`{"document":%q,"limit":100,"returned":%d}`, rc.ID, len(want)) {
		t.Errorf("audit.read events %+v, %+v", first, second)
	}
	if _, _, err := archive.VerifyChain(e.store.AuditAll(ctx)); err != nil {
		t.Fatal(err)
	}
}

// A store that cannot query the audit log makes the query unavailable.
func TestAuditEventsNoReader(t *testing.T) {
	e := newEnv(t, "", func(o *routing.Options) { o.Store = struct{ routing.Store }{o.Store} })
	if _, err := e.hub.AuditEvents(context.Background(), auditorP, routing.AuditFilter{Limit: 10}); !errors.Is(err, routing.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
