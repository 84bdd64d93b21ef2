package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/routing"
)

// acceptArgs is document i with one pull delivery and two events; docs
// with the same key repeat one another's DocumentId.
func acceptArgs(i, key int) (*routing.Document, []*routing.Delivery, []*archive.Event) {
	id := fmt.Sprintf("doc%05d", i)
	doc := &routing.Document{ID: id, Kind: envelope.KindDocument, From: "000.00.00.G22", EdxmlID: fmt.Sprintf("edxml-%d", key),
		Digest: sha256.Sum256([]byte(id)), Size: 10, Via: "agency:000.00.00.G22", ReceivedAt: time.Now(),
		Recipients: []agencyids.Code{"000.00.00.H41"}}
	del := &routing.Delivery{ID: id + "-d", Recipient: "000.00.00.H41", Route: routing.RoutePull, State: routing.StateQueued}
	events := []*archive.Event{
		{Kind: "document.accepted", Actor: doc.Via, Agency: doc.From, Document: id},
		{Kind: "delivery.queued", Actor: "hub", Agency: del.Recipient, Document: id, Delivery: del.ID},
	}
	return doc, []*routing.Delivery{del}, events
}

// TestGroupCommit accepts documents from many goroutines at once, some
// of them repeats: each original is committed whole with its delivery and
// events, each repeat commits nothing and names an original, and the
// audit chain is whole.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]storetest.Open{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t, store.Options{})
			ctx := context.Background()
			const n, keys = 200, 150
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					doc, dels, events := acceptArgs(i, i%keys)
					errs[i] = s.Accept(ctx, doc, dels, events)
				})
			}
			// A cancelled caller, meanwhile.
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			wg.Go(func() {
				doc, dels, events := acceptArgs(n, n)
				if err := s.Accept(cancelled, doc, dels, events); err == nil {
					t.Error("accepted with a cancelled context")
				}
			})
			wg.Wait()
			winners := map[int]string{}
			for i, err := range errs {
				var dup *routing.DuplicateError
				switch {
				case err == nil:
					if w, ok := winners[i%keys]; ok {
						t.Errorf("doc %d accepted, and %s with the same DocumentId", i, w)
					}
					winners[i%keys] = fmt.Sprintf("doc%05d", i)
				case errors.As(err, &dup):
				default:
					t.Errorf("doc %d: %v", i, err)
				}
			}
			if len(winners) != keys {
				t.Fatalf("%d documents accepted; want %d", len(winners), keys)
			}
			for i, err := range errs {
				var dup *routing.DuplicateError
				if errors.As(err, &dup) && dup.FirstID != winners[i%keys] {
					t.Errorf("doc %d: duplicate of %s, accepted was %s", i, dup.FirstID, winners[i%keys])
				}
			}
			for _, id := range winners {
				if _, err := s.Document(ctx, id); err != nil {
					t.Fatal(err)
				}
				if ds, err := s.Deliveries(ctx, id); err != nil || len(ds) != 1 {
					t.Fatalf("deliveries of %s: %v, %v", id, ds, err)
				}
				if es, err := s.DocumentEvents(ctx, id); err != nil || len(es) != 2 {
					t.Fatalf("events of %s: %d, %v", id, len(es), err)
				}
			}
			storetest.VerifyAll(t, s, 2*keys)
		})
	}
}

// TestWriterStats: the SQLite writer counts each batch, the operations in
// it and the time it spends on them; PostgreSQL has no such writer.
func TestWriterStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openSQLite(t, store.Options{})
	before, ok := s.WriterStats()
	if !ok {
		t.Fatal("SQLite store reports no writer")
	}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			doc, dels, events := acceptArgs(i, i)
			if err := s.Accept(ctx, doc, dels, events); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	after, _ := s.WriterStats()
	groups, ops := after.Groups-before.Groups, after.Operations-before.Operations
	if ops != n {
		t.Errorf("%d operations counted for %d accepts", ops, n)
	}
	if groups < 1 || groups > ops {
		t.Errorf("%d groups for %d operations", groups, ops)
	}
	busy, commit := after.Busy-before.Busy, after.Commit-before.Commit
	if commit <= 0 || busy < commit {
		t.Errorf("busy %v, commit %v: want 0 < commit <= busy", busy, commit)
	}

	if _, ok := openPostgres(t, store.Options{}).WriterStats(); ok {
		t.Error("PostgreSQL store reports a single writer")
	}
}

// TestGatherWindow: a write that finds the SQLite writer idle waits the
// window for others, which then share its transaction; without a window
// it commits alone at once.
func TestGatherWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// groups accepts document 0, then, once it has waited 200 ms, 1 and 2
	// together, and returns the transactions the writer ran for them.
	groups := func(t *testing.T, window time.Duration) uint64 {
		s := openSQLite(t, store.Options{GatherWindow: window})
		before, _ := s.WriterStats()
		accept := func(i int) {
			doc, dels, events := acceptArgs(i, i)
			if err := s.Accept(ctx, doc, dels, events); err != nil {
				t.Error(err)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() { accept(0) })
		time.Sleep(200 * time.Millisecond)
		wg.Go(func() { accept(1) })
		wg.Go(func() { accept(2) })
		wg.Wait()
		after, _ := s.WriterStats()
		if ops := after.Operations - before.Operations; ops != 3 {
			t.Errorf("%d operations for 3 accepts", ops)
		}
		return after.Groups - before.Groups
	}
	t.Run("window", func(t *testing.T) {
		t.Parallel()
		if n := groups(t, 2*time.Second); n != 1 {
			t.Errorf("%d transactions for 3 writes within the window, want 1", n)
		}
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		if n := groups(t, 0); n < 2 {
			t.Errorf("%d transaction for a write alone and 2 more 200 ms later, want 2 or 3", n)
		}
	})
	t.Run("negative", func(t *testing.T) {
		t.Parallel()
		if _, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), store.Options{GatherWindow: -time.Millisecond}); err == nil {
			t.Error("a negative window was accepted")
		}
	})
}
