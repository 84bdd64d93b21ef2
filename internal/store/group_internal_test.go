package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/edocgw/edocgw/archive"
)

// newSQLite is a store on a new SQLite file, closed at cleanup.
func newSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "edocgw.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestGroupPanic: a transaction that panics in a shared batch panics in
// its own caller and leaves nothing; the others commit.
func TestGroupPanic(t *testing.T) {
	ctx := context.Background()
	s := newSQLite(t)
	if _, err := s.wdb.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	panicked := make([]any, 40)
	for i := range 40 {
		wg.Go(func() {
			defer func() { panicked[i] = recover() }()
			_ = s.writeTx(ctx, func(tx Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO t (n) VALUES ($1)", i); err != nil {
					return err
				}
				if i%10 == 3 {
					panic("boom")
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, p := range panicked {
		if (i%10 == 3) != (p == "boom") {
			t.Errorf("transaction %d: panic %v", i, p)
		}
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE n % 10 <> 3").Scan(&n); err != nil || n != 36 {
		t.Fatalf("%d rows of the others, %v; want 36", n, err)
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE n % 10 = 3").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of the panicking ones, %v; want 0", n, err)
	}
}

// TestGroupAuditAfterRollback: operations of one batch link their events
// to the head the one before left; one rolled back after appending takes
// its events back, and the next links to the head before it, not to the
// events that are gone. The chain verifies whole.
func TestGroupAuditAfterRollback(t *testing.T) {
	ctx := context.Background()
	s := newSQLite(t)
	errFail := errors.New("fail after appending")
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.writeTx(ctx, func(tx Tx) error {
				if err := s.AppendAudit(ctx, tx, &archive.Event{Kind: "test.one", Document: fmt.Sprint(i)},
					&archive.Event{Kind: "test.two", Document: fmt.Sprint(i)}); err != nil {
					return err
				}
				if i%3 == 1 {
					return errFail
				}
				return nil
			})
		})
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		if (i%3 == 1) != errors.Is(err, errFail) || (i%3 != 1 && err != nil) {
			t.Errorf("operation %d: %v", i, err)
		}
		if i%3 != 1 {
			want += 2
		}
	}
	events, err := s.AuditEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != want {
		t.Fatalf("%d events; want %d", len(events), want)
	}
	for _, e := range events {
		if i, _ := strconv.Atoi(e.Document); i%3 == 1 {
			t.Errorf("event %d of rolled-back operation %d", e.Seq, i)
		}
	}
	if _, last, err := archive.VerifyChain(s.AuditAll(ctx)); err != nil || last != int64(want) {
		t.Fatalf("chain: last %d, %v", last, err)
	}
}

// TestGroupWithoutSavepoints: a batch first runs without savepoints; it
// commits when every op succeeds, and an op that fails leaves nothing of
// the others (errOpFailed), so that runGroup runs them again, each in a
// savepoint.
func TestGroupWithoutSavepoints(t *testing.T) {
	ctx := context.Background()
	s := newSQLite(t)
	if _, err := s.wdb.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	errFail := errors.New("fail")
	batch := func(fail int) []*groupOp {
		var ops []*groupOp
		for i := range 3 {
			ops = append(ops, &groupOp{ctx: ctx, fn: func(tx Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO t (n) VALUES ($1)", i); err != nil {
					return err
				}
				if i == fail {
					return errFail
				}
				return nil
			}})
		}
		return ops
	}
	count := func() int {
		var n int
		if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n, err := s.groupTx(batch(-1), false)
	if err != nil || n == 0 || count() != 3 {
		t.Fatalf("all succeed: %v, commit %d, %d rows; want 3", err, n, count())
	}
	if err := s.wal.wait(n); err != nil {
		t.Fatal(err)
	}
	ops := batch(1)
	if n, err := s.groupTx(ops, false); !errors.Is(err, errOpFailed) || n != 0 || count() != 3 {
		t.Fatalf("one fails: %v, %d rows; want errOpFailed and still 3", err, count())
	}
	s.runGroup(ops)
	if count() != 5 || ops[0].err != nil || !errors.Is(ops[1].err, errFail) || ops[2].err != nil {
		t.Fatalf("runGroup: %d rows (want 5), errors %v %v %v", count(), ops[0].err, ops[1].err, ops[2].err)
	}
}

// TestGroupAuditFailsMidway: an operation whose audit INSERT fails at its
// third row (a row already there) leaves none of its events: its batch is
// run again with a savepoint each, its own is rolled back, the others of
// the batch commit and the chain verifies whole.
func TestGroupAuditFailsMidway(t *testing.T) {
	ctx := context.Background()
	s := newSQLite(t)
	errs := make([]error, 3)
	ops := make([]*groupOp, 3)
	for i := range ops {
		ops[i] = &groupOp{ctx: ctx, fn: func(tx Tx) error {
			if i == 1 {
				// A row where the third of this op's events goes.
				var head int64
				if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM audit_events").Scan(&head); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "INSERT INTO audit_events ("+auditColumns+") VALUES ($1, '', 'test.squatter', '', '', '', '', '{}', zeroblob(32), zeroblob(32))", head+3); err != nil {
					return err
				}
			}
			var events []*archive.Event
			for k := range 4 {
				events = append(events, &archive.Event{Kind: "test.event", Document: fmt.Sprint(i), Delivery: fmt.Sprint(k)})
			}
			return s.AppendAudit(ctx, tx, events...)
		}}
	}
	s.wal.after(s.runGroup(ops), func(error) {})
	for i, op := range ops {
		errs[i] = op.err
	}
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors %v; want the second operation's alone", errs)
	}
	events, err := s.AuditEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 8 {
		t.Fatalf("%d events; want the 8 of the first and third operations", len(events))
	}
	for _, e := range events {
		if e.Document != "0" && e.Document != "2" {
			t.Errorf("event %d (%s) of operation %s", e.Seq, e.Kind, e.Document)
		}
	}
	if _, last, err := archive.VerifyChain(s.AuditAll(ctx)); err != nil || last != 8 {
		t.Fatalf("chain: last %d, %v", last, err)
	}
}
