// Package storetest is the conformance suite of internal/store: the same
// tests run against every backend.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/store"
)

// Open returns a store on a fresh, empty database, configured with opts;
// the test closes it at cleanup.
type Open func(t testing.TB, opts store.Options) *store.Store

// Run runs the conformance suite.
func Run(t *testing.T, open Open) {
	t.Run("Migrations", func(t *testing.T) { testMigrations(t, open) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, open) })
	t.Run("Clock", func(t *testing.T) { testClock(t, open) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, open) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, open) })
	t.Run("ManyInOneCall", func(t *testing.T) { testManyInOneCall(t, open) })
	t.Run("Retry", func(t *testing.T) { testRetry(t, open) })
	t.Run("Panic", func(t *testing.T) { testPanic(t, open) })
	t.Run("TxInterface", func(t *testing.T) { testTxInterface(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, open) })
	t.Run("Checkpointer", func(t *testing.T) { testCheckpointer(t, open) })
	t.Run("Tamper", func(t *testing.T) { testTamper(t, open) })
	t.Run("QueryAudit", func(t *testing.T) { testQueryAudit(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
	runHub(t, open)
	runRetention(t, open)
	runVXP(t, open)
	runUsers(t, open)
	runActions(t, open)
}

var t0 = time.Date(2026, 11, 22, 8, 0, 0, 123456789, time.UTC)

// Event returns a test event numbered i.
func Event(i int) *archive.Event {
	return &archive.Event{
		At:       t0.Add(time.Duration(i) * time.Millisecond),
		Kind:     "document.accepted",
		Actor:    fmt.Sprintf("agency-%d", i%3),
		Agency:   "000.00.00.G22",
		Document: fmt.Sprintf("doc-%d", i),
		Delivery: fmt.Sprintf("del-%d", i),
		Details:  json.RawMessage(fmt.Sprintf(`{"z": %d, "a": "x", "n": 1.50}`, i)),
	}
}

// Append appends events, each batch in its own transaction.
func Append(t testing.TB, s *store.Store, events ...*archive.Event) {
	t.Helper()
	if err := s.InTx(context.Background(), func(tx store.Tx) error {
		return s.AppendAudit(context.Background(), tx, events...)
	}); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// VerifyAll walks the stored chain and checks it is whole with n events.
func VerifyAll(t testing.TB, s *store.Store, n int64, cps ...archive.Checkpoint) archive.Digest {
	t.Helper()
	head, last, err := archive.VerifyChain(s.AuditAll(context.Background()), cps...)
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}
	if last != n {
		t.Fatalf("chain has %d events, want %d", last, n)
	}
	return head
}

func exec(t testing.TB, s *store.Store, q string, args ...any) {
	t.Helper()
	if err := s.InTx(context.Background(), func(tx store.Tx) error {
		_, err := tx.Exec(context.Background(), q, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func testMigrations(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	latest, err := s.LatestVersion()
	if err != nil || latest < 1 {
		t.Fatalf("LatestVersion = %d, %v", latest, err)
	}
	for i := range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		v, err := s.Version(ctx)
		if err != nil || v != latest {
			t.Fatalf("Version after Migrate #%d = %d, %v; want %d", i+1, v, err, latest)
		}
	}
	Append(t, s, Event(1))
	VerifyAll(t, s, 1)
}

func testRoundTrip(t *testing.T, open Open) {
	s := open(t, store.Options{})
	tests := []struct {
		name    string
		details string
		want    string
	}{
		{"empty", ``, `{}`},
		{"sorted", `{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{"spaces and numbers", ` { "n" : 1.50 , "big": 12345678901234567890 } `, `{"big":12345678901234567890,"n":1.50}`},
		{"unicode", `{"tên":"Công văn số 12/UBND <đến>","nested":{"y":[1,{"b":null,"a":true}]}}`, `{"nested":{"y":[1,{"a":true,"b":null}]},"tên":"Công văn số 12/UBND <đến>"}`},
		{"escapes", `{"s":"a\"b\\c\u0000\n"}`, `{"s":"a\"b\\c\u0000\n"}`},
	}
	var sealed []*archive.Event
	for i, tc := range tests {
		e := Event(i)
		e.Details = json.RawMessage(tc.details)
		Append(t, s, e)
		if string(e.Details) != tc.want {
			t.Errorf("%s: sealed details %s, want %s", tc.name, e.Details, tc.want)
		}
		sealed = append(sealed, e)
	}
	batch := []*archive.Event{Event(10), Event(11), Event(12)}
	Append(t, s, batch...)
	sealed = append(sealed, batch...)

	head := VerifyAll(t, s, int64(len(sealed)))
	if head != sealed[len(sealed)-1].Hash {
		t.Errorf("head %s, want %s", head, sealed[len(sealed)-1].Hash)
	}
	got, err := s.AuditEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sealed) {
		t.Fatalf("read %d events, want %d", len(got), len(sealed))
	}
	for i, g := range got {
		w := sealed[i]
		if g.Seq != int64(i+1) || g.Seq != w.Seq || !g.At.Equal(w.At) || g.At.Location() != time.UTC ||
			g.Kind != w.Kind || g.Actor != w.Actor || g.Agency != w.Agency || g.Document != w.Document ||
			g.Delivery != w.Delivery || string(g.Details) != string(w.Details) || g.Prev != w.Prev || g.Hash != w.Hash {
			t.Errorf("event %d read back as\n%+v\nwant\n%+v", i+1, g, w)
		}
	}
}

func testPaging(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	var all []*archive.Event
	for i := range 25 {
		all = append(all, Event(i))
	}
	Append(t, s, all...)
	tests := []struct {
		after      int64
		limit      int
		first, len int64
	}{
		{0, 10, 1, 10},
		{10, 10, 11, 10},
		{20, 10, 21, 5},
		{25, 10, 0, 0},
		{100, 1, 0, 0},
		{-5, 1, 1, 1},
	}
	for _, tc := range tests {
		got, err := s.AuditEvents(ctx, tc.after, tc.limit)
		if err != nil {
			t.Fatalf("AuditEvents(%d, %d): %v", tc.after, tc.limit, err)
		}
		if int64(len(got)) != tc.len || (tc.len > 0 && got[0].Seq != tc.first) {
			t.Errorf("AuditEvents(%d, %d) = %d events from %v, want %d from %d", tc.after, tc.limit, len(got), first(got), tc.len, tc.first)
		}
	}
	if _, err := s.AuditEvents(ctx, 0, 0); !errors.Is(err, store.ErrBadArgument) {
		t.Errorf("limit 0: err = %v, want ErrBadArgument", err)
	}
	// AuditAll stops early when the consumer does.
	n := 0
	for range s.AuditAll(ctx) {
		if n++; n == 3 {
			break
		}
	}
}

func first(es []*archive.Event) any {
	if len(es) == 0 {
		return "none"
	}
	return es[0].Seq
}

func testClock(t *testing.T, open Open) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6007, time.FixedZone("ICT", 7*3600))
	s := open(t, store.Options{Now: func() time.Time { return now }})
	e := Event(1)
	e.At = time.Time{}
	Append(t, s, e)
	got, err := s.AuditEvents(context.Background(), 0, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("AuditEvents: %v, %d", err, len(got))
	}
	want := now.UTC().Truncate(time.Microsecond)
	if !got[0].At.Equal(want) || !e.At.Equal(want) {
		t.Errorf("At = %v (sealed %v), want %v", got[0].At, e.At, want)
	}
}

type fakeTx struct{ store.Tx }

func testBadInput(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	tests := []struct {
		name string
		run  func(tx store.Tx) error
		want error
	}{
		{"details not an object", func(tx store.Tx) error {
			e := Event(1)
			e.Details = json.RawMessage(`[1,2]`)
			return s.AppendAudit(ctx, tx, e)
		}, archive.ErrBadDetails},
		{"details trailing data", func(tx store.Tx) error {
			e := Event(1)
			e.Details = json.RawMessage(`{} {}`)
			return s.AppendAudit(ctx, tx, Event(2), e)
		}, archive.ErrBadDetails},
		{"nil event", func(tx store.Tx) error { return s.AppendAudit(ctx, tx, nil) }, store.ErrBadArgument},
		{"no kind", func(tx store.Tx) error {
			e := Event(1)
			e.Kind = ""
			return s.AppendAudit(ctx, tx, e)
		}, store.ErrBadArgument},
		{"foreign tx", func(store.Tx) error { return s.AppendAudit(ctx, fakeTx{}, Event(1)) }, store.ErrForeignTx},
		{"nil tx", func(store.Tx) error { return s.AppendAudit(ctx, nil, Event(1)) }, store.ErrForeignTx},
		{"checkpoint nil tx", func(store.Tx) error { return s.SaveCheckpoint(ctx, nil, archive.Checkpoint{Seq: 1}) }, store.ErrForeignTx},
		{"checkpoint seq 0", func(tx store.Tx) error { return s.SaveCheckpoint(ctx, tx, archive.Checkpoint{}) }, store.ErrBadArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.InTx(ctx, tc.run)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if got, err := s.AuditEvents(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("after refused appends: %d events, %v", len(got), err)
	}
}

// testManyInOneCall appends more events in one call than one INSERT
// takes: they are stored in order, each as given.
func testManyInOneCall(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	Append(t, s, Event(1))
	var events []*archive.Event
	for i := 2; i <= 20; i++ {
		events = append(events, Event(i))
	}
	Append(t, s, events...)
	VerifyAll(t, s, 20)
	got, err := s.AuditEvents(ctx, 0, 100)
	if err != nil || len(got) != 20 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	for i, e := range got[1:] {
		if want := events[i]; e.Seq != want.Seq || e.Document != want.Document || e.Hash != want.Hash {
			t.Errorf("event %d stored as seq %d, document %q, hash %x; appended as %d, %q, %x", i+2, e.Seq, e.Document, e.Hash, want.Seq, want.Document, want.Hash)
		}
	}
}

var errAbort = errors.New("abort")

func testRollback(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	Append(t, s, Event(1))
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := s.AppendAudit(ctx, tx, Event(2), Event(3)); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("InTx = %v, want errAbort", err)
	}
	VerifyAll(t, s, 1)
	Append(t, s, Event(4))
	VerifyAll(t, s, 2)
}

func testConcurrent(t *testing.T, open Open) {
	s := open(t, store.Options{})
	const workers, each = 8, 100
	ConcurrentAppend(t, []*store.Store{s}, workers, each)
	VerifyAll(t, s, workers*each)
}

// ConcurrentAppend appends from workers goroutines, each events one per
// transaction, spreading the goroutines over stores.
func ConcurrentAppend(t testing.TB, stores []*store.Store, workers, each int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range each {
				if err := s.InTx(context.Background(), func(tx store.Tx) error {
					return s.AppendAudit(context.Background(), tx, Event(w*each+i))
				}); err != nil {
					errs <- fmt.Errorf("worker %d event %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func hubKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

func checkpoint(t testing.TB, seq int64, head archive.Digest) archive.Checkpoint {
	t.Helper()
	c := archive.Checkpoint{Seq: seq, Head: head, At: t0.Add(time.Hour)}
	if err := c.Sign(hubKey(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

func testCheckpoints(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if cps, err := s.Checkpoints(ctx); err != nil || len(cps) != 0 {
		t.Fatalf("empty Checkpoints = %v, %v", cps, err)
	}
	Append(t, s, Event(1), Event(2))
	c1 := checkpoint(t, 2, VerifyAll(t, s, 2))
	Append(t, s, Event(3))
	var c2 archive.Checkpoint
	if err := s.InTx(ctx, func(tx store.Tx) error {
		e := Event(4)
		if err := s.AppendAudit(ctx, tx, e); err != nil {
			return err
		}
		c2 = checkpoint(t, e.Seq, e.Hash)
		return s.SaveCheckpoint(ctx, tx, c2)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return s.SaveCheckpoint(ctx, tx, c1) }); err != nil {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return s.SaveCheckpoint(ctx, tx, c1) }); err == nil {
		t.Error("saving a checkpoint twice succeeded")
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []archive.Checkpoint{c1, c2}
	if len(cps) != len(want) {
		t.Fatalf("%d checkpoints, want %d", len(cps), len(want))
	}
	for i, c := range cps {
		w := want[i]
		if c.Seq != w.Seq || c.Head != w.Head || !c.At.Equal(w.At) || string(c.Signature) != string(w.Signature) {
			t.Errorf("checkpoint %d = %+v, want %+v", i, c, w)
		}
		if err := c.Verify(hubKey(t).Public()); err != nil {
			t.Errorf("checkpoint %d: %v", c.Seq, err)
		}
	}
	VerifyAll(t, s, 4, cps...)
}

func testTamper(t *testing.T, open Open) {
	const n = 10
	tests := []struct {
		name    string
		tamper  func(t *testing.T, s *store.Store, events []*archive.Event)
		seq     int64
		want    error
		withCPs bool
	}{
		{"update details", func(t *testing.T, s *store.Store, _ []*archive.Event) {
			exec(t, s, `UPDATE audit_events SET details = '{"a":"y","n":1.50,"z":4}' WHERE seq = 4`)
		}, 4, archive.ErrChainHash, false},
		{"update actor", func(t *testing.T, s *store.Store, _ []*archive.Event) {
			exec(t, s, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 7`)
		}, 7, archive.ErrChainHash, false},
		{"update details whitespace", func(t *testing.T, s *store.Store, _ []*archive.Event) {
			exec(t, s, `UPDATE audit_events SET details = details || ' ' WHERE seq = 1`)
		}, 1, archive.ErrChainHash, false},
		{"delete", func(t *testing.T, s *store.Store, _ []*archive.Event) {
			exec(t, s, `DELETE FROM audit_events WHERE seq = 5`)
		}, 5, archive.ErrChainGap, false},
		{"delete first", func(t *testing.T, s *store.Store, _ []*archive.Event) {
			exec(t, s, `DELETE FROM audit_events WHERE seq = 1`)
		}, 1, archive.ErrChainGap, false},
		{"insert after a gap", func(t *testing.T, s *store.Store, ev []*archive.Event) {
			f := forged(ev[n-1])
			f.Seq = n + 2
			f.Hash = f.ComputeHash()
			insertRaw(t, s, f)
		}, n + 1, archive.ErrChainGap, false},
		{"insert not linked", func(t *testing.T, s *store.Store, ev []*archive.Event) {
			f := forged(ev[n-1])
			f.Prev = archive.Sum([]byte("elsewhere"))
			f.Hash = f.ComputeHash()
			insertRaw(t, s, f)
		}, n + 1, archive.ErrChainLink, false},
		{"insert wrong hash", func(t *testing.T, s *store.Store, ev []*archive.Event) {
			f := forged(ev[n-1])
			f.Hash = archive.Sum([]byte("forged"))
			insertRaw(t, s, f)
		}, n + 1, archive.ErrChainHash, false},
		{"rewrite rehashed", func(t *testing.T, s *store.Store, ev []*archive.Event) {
			// Edit event 3 and reseal everything after it: only the
			// checkpoint at 8 catches it.
			exec(t, s, `DELETE FROM audit_events WHERE seq >= 3`)
			prev := ev[1]
			for _, e := range ev[2:] {
				c := *e
				if c.Seq == 3 {
					c.Actor = "mallory"
				}
				if err := c.Seal(prev); err != nil {
					t.Fatal(err)
				}
				insertRaw(t, s, &c)
				prev = &c
			}
		}, 8, archive.ErrNotCheckpointed, true},
		{"truncate past checkpoint", func(t *testing.T, s *store.Store, _ []*archive.Event) {
			exec(t, s, `DELETE FROM audit_events WHERE seq >= 8`)
		}, 8, archive.ErrNotCheckpointed, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, store.Options{})
			var events []*archive.Event
			for i := range n {
				events = append(events, Event(i))
			}
			Append(t, s, events...)
			var cps []archive.Checkpoint
			if tc.withCPs {
				cps = append(cps, checkpoint(t, 8, events[7].Hash))
			}
			VerifyAll(t, s, n, cps...)
			tc.tamper(t, s, events)
			_, _, err := archive.VerifyChain(s.AuditAll(ctx), cps...)
			var ce *archive.ChainError
			if !errors.As(err, &ce) || !errors.Is(err, tc.want) || ce.Seq != tc.seq {
				t.Fatalf("VerifyChain = %v, want %v at %d", err, tc.want, tc.seq)
			}
		})
	}
}

// forged is a plausible next event after last.
func forged(last *archive.Event) *archive.Event {
	f := Event(99)
	if err := f.Seal(last); err != nil {
		panic(err)
	}
	return f
}

// insertRaw writes an event row as is, bypassing AppendAudit.
func insertRaw(t testing.TB, s *store.Store, e *archive.Event) {
	t.Helper()
	var at any = e.At
	if s.Dialect() == store.SQLite {
		at = e.At.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	exec(t, s, `INSERT INTO audit_events (seq, at, kind, actor, agency, document, delivery, details, prev, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.Seq, at, e.Kind, e.Actor, string(e.Agency), e.Document, e.Delivery, string(e.Details), e.Prev[:], e.Hash[:])
}

func testRetry(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{MaxRetries: 3})
	conflict := &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	tests := []struct {
		name      string
		failures  int   // calls that end in err before one succeeds
		err       error // what they return
		wantCalls int
		wantErr   error
		wantRows  int64
	}{
		{"no conflict", 0, nil, 1, nil, 1},
		{"two conflicts", 2, conflict, 3, nil, 2},
		{"deadlock", 1, &pgconn.PgError{Code: "40P01"}, 2, nil, 3},
		{"too many conflicts", 3, conflict, 3, store.ErrTooManyTry, 3},
		{"other error", 1, errAbort, 1, errAbort, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := s.InTx(ctx, func(tx store.Tx) error {
				calls++
				if err := s.AppendAudit(ctx, tx, Event(calls)); err != nil {
					return err
				}
				if calls <= tc.failures {
					return tc.err
				}
				return nil
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) {
				t.Fatalf("InTx: %d calls, err %v; want %d calls, err %v", calls, err, tc.wantCalls, tc.wantErr)
			}
			VerifyAll(t, s, tc.wantRows)
		})
	}
}

func testPanic(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	for range 3 { // more panics than SQLite has writer connections
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic not propagated")
				}
			}()
			_ = s.InTx(ctx, func(tx store.Tx) error {
				if err := s.AppendAudit(ctx, tx, Event(1)); err != nil {
					return err
				}
				panic("boom")
			})
		}()
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.InTx(tctx, func(tx store.Tx) error { return s.AppendAudit(tctx, tx, Event(2)) }); err != nil {
		t.Fatalf("InTx after panics: %v", err)
	}
	VerifyAll(t, s, 1)
}

func testTxInterface(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	Append(t, s, Event(1), Event(2), Event(3))
	err := s.InTx(ctx, func(tx store.Tx) error {
		if tx.Dialect() != s.Dialect() {
			t.Errorf("tx dialect %s, store %s", tx.Dialect(), s.Dialect())
		}
		n, err := tx.Exec(ctx, "UPDATE audit_events SET kind = kind WHERE seq >= $1", 2)
		if err != nil || n != 2 {
			t.Errorf("Exec = %d, %v; want 2 rows", n, err)
		}
		rows, err := tx.Query(ctx, "SELECT seq FROM audit_events WHERE seq > $1 ORDER BY seq", 1)
		if err != nil {
			return err
		}
		var seqs []int64
		for rows.Next() {
			var q int64
			if err := rows.Scan(&q); err != nil {
				return err
			}
			seqs = append(seqs, q)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if fmt.Sprint(seqs) != "[2 3]" {
			t.Errorf("Query = %v, want [2 3]", seqs)
		}
		var kind string
		if err := tx.QueryRow(ctx, "SELECT kind FROM audit_events WHERE seq = $1", 3).Scan(&kind); err != nil || kind != "document.accepted" {
			t.Errorf("QueryRow = %q, %v", kind, err)
		}
		if err := tx.QueryRow(ctx, "SELECT kind FROM audit_events WHERE seq = $1", 42).Scan(&kind); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("QueryRow of nothing: %v, want ErrNoRows", err)
		}
		if _, err := tx.Exec(ctx, "SELECT * FROM no_such_table"); err == nil {
			t.Error("Exec of a bad statement succeeded")
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("InTx = %v", err)
	}
	VerifyAll(t, s, 3)
}
