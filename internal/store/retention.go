package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// The audit event kinds of retention, purge and backup.
const (
	KindRetentionSet   = "archive.retention.set"
	KindPurged         = "archive.purged"
	KindBackupCreated  = "backup.created"
	KindBackupRestored = "backup.restored"
)

// DefaultRetention is the retention period when none is set: 10 years of
// 365 days. NĐ 30/2020 and the Law on Archives keep most records 10 years
// or permanently.
const DefaultRetention = 3650 * 24 * time.Hour

// Day is the unit of retention periods.
const Day = 24 * time.Hour

// retentionKey is the settings key of the retention period, in whole days;
// "0" is permanent.
const retentionKey = "archive.retention.days"

// Retention returns the retention period of originals: DefaultRetention
// when unset, 0 for permanent (never purge).
func (s *Store) Retention(ctx context.Context) (time.Duration, error) {
	var (
		d   time.Duration
		err error
	)
	if qerr := s.readTx(ctx, func(tx Tx) error { d, err = retention(ctx, tx); return err }); qerr != nil {
		return 0, fmt.Errorf("store: retention: %w", qerr)
	}
	return d, nil
}

func retention(ctx context.Context, tx Tx) (time.Duration, error) {
	var v string
	switch err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = $1", retentionKey).Scan(&v); {
	case isNoRows(err):
		return DefaultRetention, nil
	case err != nil:
		return 0, err
	}
	days, err := strconv.ParseInt(v, 10, 32)
	if err != nil || days < 0 {
		return 0, fmt.Errorf("%w: retention %q", ErrCorrupt, v)
	}
	return time.Duration(days) * Day, nil
}

// SetRetention sets the retention period, whole days, 0 for permanent, in
// one transaction with its audit event (KindRetentionSet, details: days,
// previousDays).
func (s *Store) SetRetention(ctx context.Context, d time.Duration, actor string) error {
	if d < 0 || d%Day != 0 {
		return fmt.Errorf("%w: retention %v is not a whole number of days", ErrBadArgument, d)
	}
	days := int64(d / Day)
	err := s.InTx(ctx, func(tx Tx) error {
		prev, err := retention(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)"+
			" ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
			retentionKey, strconv.FormatInt(days, 10), s.timeArg(s.now())); err != nil {
			return err
		}
		e, err := configEvent(KindRetentionSet, actor, "", map[string]any{"days": days, "previousDays": int64(prev / Day)})
		if err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("store: set retention: %w", err)
	}
	return nil
}

// PurgeCandidates returns up to limit documents received before before and
// not purged, oldest first (by ReceivedAt, then ID). after is the last
// document of the previous page, nil for the first: documents kept by a
// purge stay candidates, so a caller pages on instead of asking again.
func (s *Store) PurgeCandidates(ctx context.Context, before time.Time, after *routing.Document, limit int) ([]routing.Document, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit %d", ErrBadArgument, limit)
	}
	// purged_at IS NULL word for word as in documents_unpurged.
	q := "SELECT " + documentColumns + " FROM documents WHERE purged_at IS NULL AND received_at < $1"
	args := []any{s.timeArg(before), limit}
	if after != nil {
		q += " AND (received_at > $3 OR (received_at = $3 AND id > $4))"
		args = append(args, s.timeArg(after.ReceivedAt), after.ID)
	}
	docs, err := s.documents(ctx, q+" ORDER BY received_at, id LIMIT $2", args...)
	if err != nil {
		return nil, fmt.Errorf("store: purge candidates: %w", err)
	}
	out := make([]routing.Document, len(docs))
	for i, d := range docs {
		out[i] = *d
	}
	return out, nil
}

// DigestInUse reports whether a document that is still retained (received
// at or after before) and not purged has the digest d: its bytes must not
// be deleted. Documents received before before and not purged are purge
// candidates themselves and do not count.
func (s *Store) DigestInUse(ctx context.Context, d archive.Digest, before time.Time) (bool, error) {
	n := 0
	err := s.query(ctx, "SELECT 1 FROM documents WHERE digest = $1 AND purged_at IS NULL AND received_at >= $2 LIMIT 1",
		[]any{d[:], s.timeArg(before)}, func(scan func(...any) error) error { n++; return scan(new(int)) })
	if err != nil {
		return false, fmt.Errorf("store: is %s in use: %w", d, err)
	}
	return n > 0, nil
}

// MarkPurged records that the original of document id was removed at at,
// in one transaction with events (append an archive.purged event). It
// checks, in that transaction, that the document is past the retention
// period then in force (ErrBadArgument if not, or if retention is
// permanent); routing.ErrNotFound for no such document,
// routing.ErrStateConflict if it is already purged.
func (s *Store) MarkPurged(ctx context.Context, id string, at time.Time, events []*archive.Event) error {
	if id == "" || at.IsZero() {
		return fmt.Errorf("%w: mark purged without an id or a time", ErrBadArgument)
	}
	err := s.InTx(ctx, func(tx Tx) error {
		var received, purged any
		switch err := tx.QueryRow(ctx, "SELECT received_at, purged_at FROM documents WHERE id = $1", id).Scan(&received, &purged); {
		case isNoRows(err):
			return routing.ErrNotFound
		case err != nil:
			return err
		}
		if purged != nil {
			t, err := s.parseTime(purged)
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: purged at %s", routing.ErrStateConflict, t.Format(time.RFC3339))
		}
		r, err := s.parseTime(received)
		if err != nil {
			return err
		}
		keep, err := retention(ctx, tx)
		switch {
		case err != nil:
			return err
		case keep == 0:
			return fmt.Errorf("%w: retention is permanent", ErrBadArgument)
		case !r.Before(at.Add(-keep)):
			return fmt.Errorf("%w: received %s, retained until %s", ErrBadArgument, r.Format(time.RFC3339), r.Add(keep).Format(time.RFC3339))
		}
		if _, err := tx.Exec(ctx, "UPDATE documents SET purged_at = $2 WHERE id = $1 AND purged_at IS NULL", id, s.timeArg(at)); err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, events...)
	})
	if err != nil {
		return fmt.Errorf("store: mark %s purged: %w", id, err)
	}
	return nil
}

// PurgedAt returns when the original of document id was purged, the zero
// time if it was not; routing.ErrNotFound for no such document.
func (s *Store) PurgedAt(ctx context.Context, id string) (time.Time, error) {
	var (
		purged any
		n      int
	)
	err := s.query(ctx, "SELECT purged_at FROM documents WHERE id = $1", []any{id}, func(scan func(...any) error) error {
		n++
		return scan(&purged)
	})
	if err == nil && n == 0 {
		err = routing.ErrNotFound
	}
	var t time.Time
	if err == nil {
		t, err = s.parseNullTime(purged)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: document %s: %w", id, err)
	}
	return t, nil
}

// DocumentCounts returns how many documents are stored and how many of
// them are purged.
func (s *Store) DocumentCounts(ctx context.Context) (total, purged int64, err error) {
	err = s.query(ctx, "SELECT count(*), count(purged_at) FROM documents", nil, func(scan func(...any) error) error {
		return scan(&total, &purged)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: count documents: %w", err)
	}
	return total, purged, nil
}

// Snapshot writes a consistent copy of the embedded database to path, a
// file that must not exist, while other processes go on writing: VACUUM
// INTO reads one snapshot of the WAL database. It runs on this store's
// writer connection (the readers are query-only), so this store's own
// writes wait for it. PostgreSQL is backed up with its own tools
// (pg_dump): there it returns ErrBadArgument.
func (s *Store) Snapshot(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return fmt.Errorf("%w: snapshot of a %s database: use pg_dump", ErrBadArgument, s.dialect)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: snapshot: %s exists", ErrBadArgument, path)
	}
	if _, err := s.wdb.ExecContext(ctx, "VACUUM INTO $1", path); err != nil {
		return fmt.Errorf("store: snapshot to %s: %w", path, err)
	}
	return nil
}

// PurgedEvent returns the archive.purged event of document d, by actor;
// extra adds details (digest, receivedAt and size are always there).
func PurgedEvent(d *routing.Document, actor string, extra map[string]any) (*archive.Event, error) {
	m := map[string]any{"digest": d.Digest.String(), "receivedAt": d.ReceivedAt.UTC().Format(time.RFC3339Nano), "size": d.Size}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("store: %s event: %w", KindPurged, err)
	}
	return &archive.Event{Kind: KindPurged, Actor: actor, Agency: d.From, Document: d.ID, Details: b}, nil
}
