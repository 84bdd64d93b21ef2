package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
)

// AuditChainLockKey is the PostgreSQL advisory lock key ("edocgwAU") that
// serializes appends to the audit chain across processes.
const AuditChainLockKey int64 = 0x6564_6f63_6777_4155

// auditPage is how many events AuditAll reads per query.
const auditPage = 1000

// sqliteTime is how SQLite stores times: UTC, microseconds, sortable.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

const auditColumns = "seq, at, kind, actor, agency, document, delivery, details, prev, hash"

// AppendAudit seals events, in order, after the current head of the chain
// and inserts them in tx, the caller's transaction. An event with a zero
// At gets the store's clock. On return the events carry their Seq, Prev
// and Hash; if the transaction is rolled back and rerun they are sealed
// again. On PostgreSQL it takes the chain's advisory lock, held until the
// transaction ends: append audit events last.
func (s *Store) AppendAudit(ctx context.Context, tx Tx, events ...*archive.Event) error {
	sealed, err := s.sealEvents(events)
	if err != nil {
		return err
	}
	return s.appendSealed(ctx, tx, sealed)
}

// sealedEvents holds events normalized and checked by sealEvents: the only
// kind appendSealed takes (a struct, so that a plain slice does not
// convert to it), so that no write path can skip the sealing.
type sealedEvents struct{ events []*archive.Event }

// sealEvents normalizes and checks events (Seal, unlinked) before any lock
// or transaction: the store's write paths call it outside the SQLite
// writer, which then only links each under the head (appendSealed).
func (s *Store) sealEvents(events []*archive.Event) (sealedEvents, error) {
	for i, e := range events {
		if e == nil || e.Kind == "" {
			return sealedEvents{}, fmt.Errorf("%w: audit event %d is nil or has no kind", ErrBadArgument, i)
		}
		if e.At.IsZero() {
			e.At = s.now()
		}
		if err := e.Seal(nil); err != nil {
			return sealedEvents{}, fmt.Errorf("store: audit event %d: %w", i, err)
		}
	}
	return sealedEvents{events}, nil
}

// appendSealed is AppendAudit for events sealed by sealEvents.
func (s *Store) appendSealed(ctx context.Context, tx Tx, sealed sealedEvents) error {
	events := sealed.events
	if len(events) == 0 {
		return nil
	}
	if !s.owns(tx) {
		return ErrForeignTx
	}
	if s.dialect == Postgres {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", AuditChainLockKey); err != nil {
			return fmt.Errorf("store: lock audit chain: %w", err)
		}
	}
	head, err := s.auditHead(ctx, tx)
	if err != nil {
		return err
	}
	// One INSERT for up to auditInsertRows events: a statement costs more
	// than a row.
	for len(events) > 0 {
		n := min(len(events), auditInsertRows)
		args := make([]any, 0, 10*n)
		for _, e := range events[:n] {
			e.Link(head) // sealed above
			args = append(args, e.Seq, s.timeArg(e.At), e.Kind, e.Actor, string(e.Agency),
				e.Document, e.Delivery, string(e.Details), e.Prev[:], e.Hash[:])
			head = e
		}
		if _, err := tx.Exec(ctx, auditInsert[n], args...); err != nil {
			return fmt.Errorf("store: insert audit events %d-%d: %w", events[0].Seq, head.Seq, err)
		}
		events = events[n:]
	}
	if st, ok := tx.(*sqlTx); ok {
		st.head = head
	}
	return nil
}

// auditInsertRows is the most events one INSERT appends.
const auditInsertRows = 8

// auditInsert[n] inserts n events.
var auditInsert = func() (q [auditInsertRows + 1]string) {
	for n := 1; n <= auditInsertRows; n++ {
		var b strings.Builder
		b.WriteString("INSERT INTO audit_events (" + auditColumns + ") VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for c := range 10 {
				if c > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", 10*i+c+1)
			}
			b.WriteString(")")
		}
		q[n] = b.String()
	}
	return q
}()

// auditHead returns the chain's last event (Seq and Hash only), nil if
// the chain is empty. A SQLite transaction remembers the head it appended
// (sqlTx.head): the operations of a group commit link one after another
// without reading it again.
func (s *Store) auditHead(ctx context.Context, tx Tx) (*archive.Event, error) {
	st, _ := tx.(*sqlTx)
	if st != nil && st.head != nil {
		return st.head, nil
	}
	var (
		seq     int64
		hashRaw []byte
	)
	switch err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&seq, &hashRaw); {
	case err == nil:
		head := &archive.Event{Seq: seq}
		if err := digest(&head.Hash, hashRaw); err != nil {
			return nil, fmt.Errorf("store: audit head %d: %w", seq, err)
		}
		return head, nil
	case isNoRows(err):
		return nil, nil
	default:
		return nil, fmt.Errorf("store: read audit head: %w", err)
	}
}

// AuditEvents returns up to limit events with Seq > afterSeq, in order.
func (s *Store) AuditEvents(ctx context.Context, afterSeq int64, limit int) ([]*archive.Event, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit %d", ErrBadArgument, limit)
	}
	const q = "SELECT " + auditColumns + " FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
	out, err := s.events(ctx, q, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read audit events after %d: %w", afterSeq, err)
	}
	return out, nil
}

// AuditAll streams the whole chain in order, a page at a time, for
// archive.VerifyChain. It stops at the first error, which it yields.
func (s *Store) AuditAll(ctx context.Context) iter.Seq2[*archive.Event, error] {
	return func(yield func(*archive.Event, error) bool) {
		var after int64
		for {
			page, err := s.AuditEvents(ctx, after, auditPage)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
				after = e.Seq
			}
			if len(page) < auditPage {
				return
			}
		}
	}
}

// SaveCheckpoint records a signed checkpoint in tx.
func (s *Store) SaveCheckpoint(ctx context.Context, tx Tx, c archive.Checkpoint) error {
	if !s.owns(tx) {
		return ErrForeignTx
	}
	if c.Seq <= 0 {
		return fmt.Errorf("%w: checkpoint seq %d", ErrBadArgument, c.Seq)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO audit_checkpoints (seq, head, at, signature, tsa_token) VALUES ($1, $2, $3, $4, $5)",
		c.Seq, c.Head[:], s.timeArg(c.At), c.Signature, nonNilBytes(c.Timestamp)); err != nil {
		return fmt.Errorf("store: save checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

// AuditHead returns the last event's Seq and Hash (0 for an empty chain).
func (s *Store) AuditHead(ctx context.Context) (int64, archive.Digest, error) {
	var (
		seq  int64
		hash []byte
		d    archive.Digest
	)
	err := s.query(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", nil, func(scan func(...any) error) error {
		return scan(&seq, &hash)
	})
	if err != nil {
		return 0, d, fmt.Errorf("store: audit head: %w", err)
	}
	if seq == 0 {
		return 0, d, nil
	}
	if err := digest(&d, hash); err != nil {
		return 0, d, fmt.Errorf("store: audit head %d: %w", seq, err)
	}
	return seq, d, nil
}

// LastCheckpoint returns the newest checkpoint.
func (s *Store) LastCheckpoint(ctx context.Context) (archive.Checkpoint, bool, error) {
	cps, err := s.checkpoints(ctx, "SELECT seq, head, at, signature, tsa_token FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
	if err != nil || len(cps) == 0 {
		return archive.Checkpoint{}, false, err
	}
	return cps[0], true, nil
}

// CheckpointAtOrAfter returns the first checkpoint with Seq >= seq.
func (s *Store) CheckpointAtOrAfter(ctx context.Context, seq int64) (archive.Checkpoint, bool, error) {
	cps, err := s.checkpoints(ctx, "SELECT seq, head, at, signature, tsa_token FROM audit_checkpoints WHERE seq >= $1 ORDER BY seq LIMIT 1", seq)
	if err != nil || len(cps) == 0 {
		return archive.Checkpoint{}, false, err
	}
	return cps[0], true, nil
}

// PutCheckpoint stores a checkpoint in a transaction of its own; one at a
// Seq that already has a checkpoint (another process made it) is ignored.
func (s *Store) PutCheckpoint(ctx context.Context, c archive.Checkpoint) error {
	if c.Seq <= 0 {
		return fmt.Errorf("%w: checkpoint seq %d", ErrBadArgument, c.Seq)
	}
	return s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO audit_checkpoints (seq, head, at, signature, tsa_token) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
			c.Seq, c.Head[:], s.timeArg(c.At), c.Signature, nonNilBytes(c.Timestamp))
		if err != nil {
			return fmt.Errorf("store: save checkpoint %d: %w", c.Seq, err)
		}
		return nil
	})
}

// Checkpoints returns every checkpoint, in order of Seq.
func (s *Store) Checkpoints(ctx context.Context) ([]archive.Checkpoint, error) {
	return s.checkpoints(ctx, "SELECT seq, head, at, signature, tsa_token FROM audit_checkpoints ORDER BY seq")
}

func (s *Store) checkpoints(ctx context.Context, q string, args ...any) ([]archive.Checkpoint, error) {
	var out []archive.Checkpoint
	err := s.query(ctx, q, args, func(scan func(...any) error) error {
		var (
			c    archive.Checkpoint
			head []byte
			at   any
		)
		if err := scan(&c.Seq, &head, &at, &c.Signature, &c.Timestamp); err != nil {
			return err
		}
		if err := digest(&c.Head, head); err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Seq, err)
		}
		t, err := s.parseTime(at)
		if err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Seq, err)
		}
		c.At = t
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read checkpoints: %w", err)
	}
	return out, nil
}

// nonNilBytes stores an absent token as an empty one (the column is NOT NULL).
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// events runs a query of audit events (auditColumns) outside any transaction.
func (s *Store) events(ctx context.Context, q string, args ...any) ([]*archive.Event, error) {
	var out []*archive.Event
	err := s.query(ctx, q, args, func(scan func(...any) error) error {
		e, err := s.scanEvent(scan)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

func (s *Store) scanEvent(scan func(...any) error) (*archive.Event, error) {
	var (
		e          archive.Event
		at         any
		agency     string
		details    string
		prev, hash []byte
	)
	if err := scan(&e.Seq, &at, &e.Kind, &e.Actor, &agency, &e.Document, &e.Delivery, &details, &prev, &hash); err != nil {
		return nil, err
	}
	t, err := s.parseTime(at)
	if err != nil {
		return nil, fmt.Errorf("audit event %d: %w", e.Seq, err)
	}
	e.At, e.Agency, e.Details = t, agencyids.Code(agency), []byte(details)
	if err := digest(&e.Prev, prev); err != nil {
		return nil, fmt.Errorf("audit event %d prev: %w", e.Seq, err)
	}
	if err := digest(&e.Hash, hash); err != nil {
		return nil, fmt.Errorf("audit event %d hash: %w", e.Seq, err)
	}
	return &e, nil
}

// query runs a read outside any transaction (pool or SQLite readers) and
// calls row for each result row.
// lookup is query for a short read by key (a delivery, a duplicate, a
// status, an inbox page). On SQLite it runs under a context that is never
// cancelled: a cancellable one costs two goroutines per query (the
// watchers of database/sql and of the driver), and such a read ends in
// moments anyway.
func (s *Store) lookup(ctx context.Context, q string, args []any, row func(scan func(...any) error) error) error {
	if s.dialect == SQLite {
		ctx = context.WithoutCancel(ctx)
	}
	return s.query(ctx, q, args, row)
}

func (s *Store) query(ctx context.Context, q string, args []any, row func(scan func(...any) error) error) error {
	if err := s.queryRows(ctx, q, args, row); err != nil || s.dialect == Postgres {
		return err
	}
	return s.wal.visible(ctx) // answer only with what is on disk, the connection freed
}

func (s *Store) queryRows(ctx context.Context, q string, args []any, row func(scan func(...any) error) error) error {
	var rows interface {
		Next() bool
		Scan(dest ...any) error
		Err() error
	}
	if s.dialect == Postgres {
		r, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer r.Close()
		rows = r
	} else {
		var (
			r   *sql.Rows
			err error
		)
		if st := s.rstmts.prepared(ctx, q); st != nil {
			r, err = st.QueryContext(ctx, args...)
		} else {
			r, err = s.rdb.QueryContext(ctx, q, args...)
		}
		if err != nil {
			return err
		}
		defer r.Close()
		rows = r
	}
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// owns reports whether tx is a transaction of this store's backend.
func (s *Store) owns(tx Tx) bool {
	switch tx.(type) {
	case *pgTx:
		return s.dialect == Postgres
	case *sqlTx:
		return s.dialect == SQLite
	}
	return false
}

func (s *Store) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.dialect == SQLite {
		return t.Format(sqliteTime)
	}
	return t
}

func (s *Store) parseTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		t, err := time.Parse(sqliteTime, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: time %q: %v", ErrCorrupt, v, err)
		}
		return t, nil
	case []byte:
		return s.parseTime(string(v))
	}
	return time.Time{}, fmt.Errorf("%w: time of type %T", ErrCorrupt, v)
}

func digest(d *archive.Digest, b []byte) error {
	if len(b) != len(d) {
		return fmt.Errorf("%w: digest of %d bytes", ErrCorrupt, len(b))
	}
	copy(d[:], b)
	return nil
}
