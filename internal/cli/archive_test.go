package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/archive/s3blob"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/testenv"
)

// purgeSeed is a document to accept with its original.
type purgeSeed struct {
	id       string
	received time.Time
	original string
}

func seedDay(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

// acceptOriginals stores each seed's original in blobs and accepts its
// document through the store, as the hub does; it returns their digests
// by id.
func acceptOriginals(t *testing.T, s *store.Store, blobs archive.BlobStore, seeds ...purgeSeed) map[string]archive.Digest {
	t.Helper()
	ctx := context.Background()
	out := map[string]archive.Digest{}
	for i, sd := range seeds {
		d, n, err := blobs.Put(ctx, strings.NewReader(sd.original))
		if err != nil {
			t.Fatal(err)
		}
		doc := storetest.Doc(sd.id, 1000+i)
		doc.EdxmlID, doc.Number = "", ""
		doc.ReceivedAt, doc.Digest, doc.Size = sd.received, d, n
		storetest.MustAccept(t, s, doc)
		out[sd.id] = d
	}
	return out
}

// readOriginal reads a blob to the end (verifying it).
func readOriginal(blobs archive.BlobStore, d archive.Digest) (string, error) {
	b, err := blobs.Open(context.Background(), d)
	if err != nil {
		return "", err
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	return string(got), err
}

// auditLength verifies the audit chain and returns its length.
func auditLength(t *testing.T, s *store.Store) int64 {
	t.Helper()
	_, last, err := archive.VerifyChain(s.AuditAll(context.Background()))
	if err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	return last
}

func TestArchivePurgeEmbedded(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	s := openStore(t, filepath.Join(data, "edocgw.db"))
	blobs, err := fsblob.New(filepath.Join(data, "blobs"), fsblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seeds := []purgeSeed{
		{"OLD-1", seedDay(2010, 3, 1), "original one"},
		{"OLD-2", seedDay(2011, 5, 1), "original two"},
		{"OLD-3", seedDay(2012, 1, 1), "shared original"},
		{"NEW-1", seedDay(2026, 1, 1), "shared original"}, // keeps OLD-3's bytes
		{"NEW-2", seedDay(2016, 11, 25), "recent original"},
	}
	dg := acceptOriginals(t, s, blobs, seeds...)
	archiveArgs := func(args ...string) []string { return append([]string{"archive"}, append(args, "--data", data)...) }

	mustRun(t, "retention 3650 days: originals received before 2016-11-24T10:00:00Z may be purged\n", archiveArgs("retention")...)
	mustRun(t, "retention set to 3650 days (was 3650 days)\n", archiveArgs("retention", "3650")...)
	for _, bad := range [][]string{{"0"}, {"ten"}, {"-5"}, {"100001"}, {"1", "2"}} {
		mustFail(t, cli.ExitUsage, "archive retention", archiveArgs(append([]string{"retention"}, bad...)...)...)
	}
	mustFail(t, cli.ExitUsage, "--confirm", archiveArgs("purge")...)

	events := auditLength(t, s)
	mustRun(t, fmt.Sprintf("WOULD PURGE OLD-1 %s\nWOULD PURGE OLD-2 %s\nKEPT OLD-3: digest shared with a retained document\n", dg["OLD-1"], dg["OLD-2"]),
		archiveArgs("purge", "--dry-run")...)
	if n := auditLength(t, s); n != events {
		t.Errorf("the dry run appended %d events", n-events)
	}
	for id, d := range dg {
		if _, err := readOriginal(blobs, d); err != nil {
			t.Errorf("after the dry run %s: %v", id, err)
		}
		if at, err := s.PurgedAt(ctx, id); err != nil || !at.IsZero() {
			t.Errorf("the dry run marked %s purged: %v, %v", id, at, err)
		}
	}

	mustRun(t, fmt.Sprintf("PURGED OLD-1 %s\nPURGED OLD-2 %s\nKEPT OLD-3: digest shared with a retained document\n", dg["OLD-1"], dg["OLD-2"]),
		archiveArgs("purge", "--confirm")...)
	for _, sd := range seeds {
		got, err := readOriginal(blobs, dg[sd.id])
		purged := sd.id == "OLD-1" || sd.id == "OLD-2"
		switch {
		case purged && !errors.Is(err, archive.ErrNotFound):
			t.Errorf("the original of %s after the purge: %q, %v; want ErrNotFound", sd.id, got, err)
		case !purged && (err != nil || got != sd.original):
			t.Errorf("the original of %s after the purge: %q, %v", sd.id, got, err)
		}
		at, err := s.PurgedAt(ctx, sd.id)
		if err != nil || at.IsZero() != !purged || (purged && !at.Equal(fixedNow)) {
			t.Errorf("PurgedAt(%s) = %v, %v", sd.id, at, err)
		}
		// The metadata stays.
		if _, err := s.Document(ctx, sd.id); err != nil {
			t.Errorf("Document(%s) after the purge: %v", sd.id, err)
		}
	}
	if n := auditLength(t, s); n != events+2 {
		t.Fatalf("the purge appended %d events, want 2", n-events)
	}
	es, err := s.AuditEvents(ctx, events, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"OLD-1", "OLD-2"} {
		var det struct {
			Digest, ReceivedAt string
			RetentionDays      int
		}
		e := es[i]
		if e.Kind != "archive.purged" || e.Document != id || !strings.HasPrefix(e.Actor, "cli:") ||
			json.Unmarshal(e.Details, &det) != nil || det.Digest != dg[id].String() || det.RetentionDays != 3650 ||
			det.ReceivedAt != seeds[i].received.Format(time.RFC3339) {
			t.Errorf("event %d: %s %s by %s %s", e.Seq, e.Kind, e.Document, e.Actor, e.Details)
		}
	}

	// audit verify tells purged originals from lost ones.
	if out := mustRun(t, "", "audit", "verify", "--data", data); !strings.HasSuffix(out, ", 3 originals re-hashed, 2 purged after their retention\n") {
		t.Errorf("audit verify after the purge: %q", out)
	}

	// Again: nothing more to purge.
	mustRun(t, "KEPT OLD-3: digest shared with a retained document\n", archiveArgs("purge", "--confirm")...)
	out := mustRun(t, "", archiveArgs("purge", "--confirm", "--json")...)
	var rec struct{ Outcome, Document, Digest, Reason string }
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Outcome != "kept" || rec.Document != "OLD-3" || rec.Digest != dg["OLD-3"].String() {
		t.Errorf("--json: %s (%v)", out, err)
	}

	// Permanent: nothing is ever purged.
	mustRun(t, "retention set to permanent (was 3650 days)\n", archiveArgs("retention", "permanent")...)
	mustRun(t, "retention permanent: originals are never purged\n", archiveArgs("retention")...)
	mustFail(t, cli.ExitInput, "retention is permanent", archiveArgs("purge", "--confirm")...)
	if n := auditLength(t, s); n != events+3 {
		t.Errorf("%d events after the purge, want one more (the retention change)", n-events-2)
	}
}

// Two documents in a bucket with object lock: one original locked in
// COMPLIANCE mode, one stored without a lock. PostgreSQL holds the metadata.
func TestArchivePurgeObjectLock(t *testing.T) {
	ctx := context.Background()
	srv := testenv.MinIO(t)
	pg := testenv.Postgres(t)
	cfg := s3blob.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: "edocgw-purge",
		Retention: s3blob.Retention{Mode: s3blob.Compliance, Period: 24 * time.Hour}}
	locked, err := s3blob.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retention = s3blob.Retention{}
	unlocked, err := s3blob.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, pg)
	dg := acceptOriginals(t, s, locked, purgeSeed{"OLD-LOCKED", seedDay(2010, 1, 1), "a locked original"})
	for k, v := range acceptOriginals(t, s, unlocked, purgeSeed{"OLD-FREE", seedDay(2010, 1, 2), "an unlocked original"}) {
		dg[k] = v
	}
	url := fmt.Sprintf("s3://%s:%s@%s/%s?tls=false&lock=compliance&retention=1", srv.AccessKey, srv.SecretKey, srv.Endpoint, cfg.Bucket)

	mustFail(t, cli.ExitUsage, "--archive-url", "archive", "purge", "--database-url", pg, "--confirm")
	events := auditLength(t, s)
	code, out, stderr := run(t, "archive", "purge", "--database-url", pg, "--archive-url", url, "--confirm")
	if code != cli.ExitOK {
		t.Fatalf("purge: exit %d\n%s%s", code, out, stderr)
	}
	if want := "KEPT OLD-LOCKED: retained by the archive's object lock: "; !strings.HasPrefix(out, want) || !strings.Contains(out, "COMPLIANCE retention until") {
		t.Errorf("purge printed %q, want a line starting %q", out, want)
	}
	if want := fmt.Sprintf("\nPURGED OLD-FREE %s\n", dg["OLD-FREE"]); !strings.HasSuffix(out, want) {
		t.Errorf("purge printed %q, want it to end with %q", out, want)
	}
	if !strings.Contains(stderr, "purged 1, kept 1") {
		t.Errorf("summary %q", stderr)
	}
	if got, err := readOriginal(locked, dg["OLD-LOCKED"]); err != nil || got != "a locked original" {
		t.Errorf("the locked original after the purge: %q, %v", got, err)
	}
	if _, err := readOriginal(locked, dg["OLD-FREE"]); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("the unlocked original after the purge: %v, want ErrNotFound", err)
	}
	if at, err := s.PurgedAt(ctx, "OLD-LOCKED"); err != nil || !at.IsZero() {
		t.Errorf("the kept document is marked purged: %v, %v", at, err)
	}
	if at, err := s.PurgedAt(ctx, "OLD-FREE"); err != nil || !at.Equal(fixedNow) {
		t.Errorf("PurgedAt(OLD-FREE) = %v, %v", at, err)
	}
	if n := auditLength(t, s); n != events+1 {
		t.Errorf("the purge appended %d events, want 1", n-events)
	}
	mustRun(t, "retention set to 30 days (was 3650 days)\n", "archive", "retention", "--database-url", pg, "--archive-url", url, "30")
	code, _, stderr = run(t, "archive", "retention", "--database-url", pg, "--archive-url", strings.Replace(url, "retention=1", "retention=3650", 1))
	if code != cli.ExitOK || !strings.Contains(stderr, "locks each original for 3650 days") {
		t.Errorf("retention with a longer lock: exit %d, %q", code, stderr)
	}
}
