package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// runRetention runs the tests of retention, purge and snapshots.
func runRetention(t *testing.T, open Open) {
	t.Run("RetentionSetting", func(t *testing.T) { testRetentionSetting(t, open) })
	t.Run("RetentionPurge", func(t *testing.T) { testPurge(t, open) })
	t.Run("RetentionSnapshot", func(t *testing.T) { testSnapshot(t, open) })
}

func testRetentionSetting(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if d, err := s.Retention(ctx); err != nil || d != 3650*store.Day {
		t.Fatalf("Retention of a new store = %v, %v; want 3650 days", d, err)
	}
	tests := []struct {
		name    string
		d       time.Duration
		wantErr bool
		prev    int64
	}{
		{"one year", 365 * store.Day, false, 3650},
		{"permanent", 0, false, 365},
		{"negative", -store.Day, true, 0},
		{"not whole days", 36 * time.Hour, true, 0},
		{"back to ten years", 3650 * store.Day, false, 0},
	}
	for _, tt := range tests {
		before := count(t, s, "audit_events")
		err := s.SetRetention(ctx, tt.d, "cli:admin")
		if tt.wantErr {
			if !errors.Is(err, store.ErrBadArgument) {
				t.Errorf("%s: SetRetention = %v, want ErrBadArgument", tt.name, err)
			}
			if n := count(t, s, "audit_events"); n != before {
				t.Errorf("%s: a refused SetRetention appended %d events", tt.name, n-before)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: SetRetention: %v", tt.name, err)
		}
		if d, err := s.Retention(ctx); err != nil || d != tt.d {
			t.Errorf("%s: Retention = %v, %v; want %v", tt.name, d, err, tt.d)
		}
		es, err := s.AuditEvents(ctx, before, 10)
		if err != nil || len(es) != 1 {
			t.Fatalf("%s: %d events after SetRetention, %v", tt.name, len(es), err)
		}
		var det struct{ Days, PreviousDays int64 }
		if e := es[0]; e.Kind != store.KindRetentionSet || e.Actor != "cli:admin" || json.Unmarshal(e.Details, &det) != nil ||
			det.Days != int64(tt.d/store.Day) || (tt.prev != 0 && det.PreviousDays != tt.prev) {
			t.Errorf("%s: event %s by %s %s", tt.name, e.Kind, e.Actor, e.Details)
		}
	}
	verifyChain(t, s)
}

// oldDoc is a document received on day i of 2010 with the digest of data.
func oldDoc(id string, i int, day time.Time, data string) *routing.Document {
	d := Doc(id, i)
	d.ReceivedAt, d.Digest = day, archive.Sum([]byte(data))
	return d
}

func testPurge(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := open(t, store.Options{Now: func() time.Time { return now }})
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 8, 0, 0, 0, time.UTC) }
	docs := []*routing.Document{
		oldDoc("P1", 1, day(2010, 1, 1), "A"),
		oldDoc("P2", 2, day(2010, 1, 2), "B"),
		oldDoc("P4", 4, day(2010, 1, 3), "C"), // same time as P3: by id
		oldDoc("P3", 3, day(2010, 1, 3), "C"),
		oldDoc("N1", 5, day(2026, 1, 1), "C"), // still retained: C stays
		oldDoc("N2", 6, day(2026, 2, 1), "D"),
	}
	for _, d := range docs {
		MustAccept(t, s, d)
	}
	keep, err := s.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := now.Add(-keep)
	ids := func(ds []routing.Document) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	candidates := func(after *routing.Document, limit int) []routing.Document {
		t.Helper()
		ds, err := s.PurgeCandidates(ctx, before, after, limit)
		if err != nil {
			t.Fatalf("PurgeCandidates: %v", err)
		}
		return ds
	}
	all := candidates(nil, 100)
	if got := ids(all); !slices.Equal(got, []string{"P1", "P2", "P3", "P4"}) {
		t.Fatalf("PurgeCandidates = %v", got)
	}
	if !sameDocument(&all[0], docs[0]) {
		t.Errorf("candidate %+v\nwant %+v", all[0], docs[0])
	}
	// Paging.
	var paged []string
	var last *routing.Document
	for {
		page := candidates(last, 2)
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		last = &page[len(page)-1]
	}
	if !slices.Equal(paged, ids(all)) {
		t.Errorf("paged candidates %v, want %v", paged, ids(all))
	}
	if _, err := s.PurgeCandidates(ctx, before, nil, 0); !errors.Is(err, store.ErrBadArgument) {
		t.Errorf("PurgeCandidates limit 0: %v", err)
	}

	inUse := []struct {
		data string
		want bool
	}{{"A", false}, {"B", false}, {"C", true}, {"D", true}, {"never stored", false}}
	for _, tt := range inUse {
		if got, err := s.DigestInUse(ctx, archive.Sum([]byte(tt.data)), before); err != nil || got != tt.want {
			t.Errorf("DigestInUse(%s) = %v, %v; want %v", tt.data, got, err, tt.want)
		}
	}

	purge := func(d *routing.Document) error {
		e, err := store.PurgedEvent(d, "cli:admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.MarkPurged(ctx, d.ID, now, []*archive.Event{e})
	}
	n := count(t, s, "audit_events")
	if err := purge(docs[0]); err != nil {
		t.Fatalf("MarkPurged: %v", err)
	}
	if at, err := s.PurgedAt(ctx, "P1"); err != nil || !at.Equal(now) {
		t.Errorf("PurgedAt(P1) = %v, %v; want %v", at, err, now)
	}
	if at, err := s.PurgedAt(ctx, "N1"); err != nil || !at.IsZero() {
		t.Errorf("PurgedAt(N1) = %v, %v; want zero", at, err)
	}
	if _, err := s.PurgedAt(ctx, "nothing"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("PurgedAt(nothing) = %v, want ErrNotFound", err)
	}
	es, err := s.AuditEvents(ctx, n, 10)
	if err != nil || len(es) != 1 {
		t.Fatalf("%d events after MarkPurged, %v", len(es), err)
	}
	var det struct{ Digest, ReceivedAt string }
	if e := es[0]; e.Kind != store.KindPurged || e.Document != "P1" || e.Agency != docs[0].From ||
		json.Unmarshal(e.Details, &det) != nil || det.Digest != docs[0].Digest.String() || det.ReceivedAt != "2010-01-01T08:00:00Z" {
		t.Errorf("purge event %s %s %s", e.Kind, e.Document, e.Details)
	}
	if got := ids(candidates(nil, 100)); !slices.Equal(got, []string{"P2", "P3", "P4"}) {
		t.Errorf("candidates after a purge: %v", got)
	}
	// The document and its events stay.
	if d, err := s.Document(ctx, "P1"); err != nil || !sameDocument(d, docs[0]) {
		t.Errorf("Document(P1) after the purge = %+v, %v", d, err)
	}

	refused := []struct {
		name string
		mark func() error
		want error
	}{
		{"again", func() error { return purge(docs[0]) }, routing.ErrStateConflict},
		{"unknown", func() error { return purge(Doc("nothing", 99)) }, routing.ErrNotFound},
		{"still retained", func() error { return purge(docs[4]) }, store.ErrBadArgument},
		{"no time", func() error { return s.MarkPurged(ctx, "P2", time.Time{}, nil) }, store.ErrBadArgument},
		{"bad event", func() error {
			return s.MarkPurged(ctx, "P2", now, []*archive.Event{{Document: "P2"}})
		}, store.ErrBadArgument},
		{"permanent", func() error {
			if err := s.SetRetention(ctx, 0, "cli:admin"); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.SetRetention(ctx, keep, "cli:admin"); err != nil {
					t.Fatal(err)
				}
			}()
			return purge(docs[1])
		}, store.ErrBadArgument},
	}
	for _, tt := range refused {
		before := count(t, s, "audit_events")
		if err := tt.mark(); !errors.Is(err, tt.want) {
			t.Errorf("%s: MarkPurged = %v, want %v", tt.name, err, tt.want)
		}
		if n := count(t, s, "audit_events") - before; n != 0 && tt.name != "permanent" {
			t.Errorf("%s: a refused MarkPurged appended %d events", tt.name, n)
		}
	}
	if at, err := s.PurgedAt(ctx, "P2"); err != nil || !at.IsZero() {
		t.Errorf("P2 marked purged by a refused MarkPurged: %v, %v", at, err)
	}
	if total, purged, err := s.DocumentCounts(ctx); err != nil || total != 6 || purged != 1 {
		t.Errorf("DocumentCounts = %d, %d, %v; want 6, 1", total, purged, err)
	}
	verifyChain(t, s)
}

func testSnapshot(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	path := filepath.Join(t.TempDir(), "snapshot.db")
	if s.Dialect() != store.SQLite {
		if err := s.Snapshot(ctx, path); !errors.Is(err, store.ErrBadArgument) {
			t.Errorf("Snapshot of %s: %v, want ErrBadArgument", s.Dialect(), err)
		}
		return
	}
	for i := range 5 {
		MustAccept(t, s, Doc(string(rune('a'+i)), i))
	}
	if err := s.Snapshot(ctx, path); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := s.Snapshot(ctx, path); !errors.Is(err, store.ErrBadArgument) {
		t.Errorf("Snapshot over an existing file: %v, want ErrBadArgument", err)
	}
	MustAccept(t, s, Doc("later", 9))
	snap, err := store.Open(ctx, "sqlite:"+path, store.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if total, _, err := snap.DocumentCounts(ctx); err != nil || total != 5 {
		t.Errorf("the snapshot holds %d documents, %v; want 5", total, err)
	}
	if n := verifyChain(t, snap); n != 5 {
		t.Errorf("the snapshot's chain has %d events, want 5", n)
	}
}
