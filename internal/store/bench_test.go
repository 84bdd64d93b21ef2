package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/bench"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

// BenchmarkAppendAudit appends one event per transaction.
func BenchmarkAppendAudit(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchSerial(b, openSQLite(b, store.Options{})) })
	b.Run("postgres", func(b *testing.B) { benchSerial(b, openPostgres(b, store.Options{})) })
	// Two writers, each its own Store (pool) on one database, as two
	// processes would be.
	b.Run("postgres-2writers", func(b *testing.B) {
		dsn := testenv.Postgres(b)
		stores := []*store.Store{openURL(b, dsn, store.Options{}), openURL(b, dsn, store.Options{})}
		var next atomic.Int64
		b.SetParallelism(1)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			s := stores[int(next.Add(1))%len(stores)]
			i := 0
			for pb.Next() {
				append1(b, s, i)
				i++
			}
		})
		report(b, start)
	})
}

func benchSerial(b *testing.B, s *store.Store) {
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		append1(b, s, i)
	}
	report(b, start)
}

func append1(b *testing.B, s *store.Store, i int) {
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx store.Tx) error { return s.AppendAudit(ctx, tx, storetest.Event(i)) }); err != nil {
		b.Error(err)
	}
}

func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkDuplicate is the check before archiving of a new document
// that names both a DocumentId and a number (two rules, nothing found),
// among 5,000 stored; "after-commit" commits an audit event before each
// check, as the gateway's writer does between them, so that the reader
// finds its page cache stale.
func BenchmarkDuplicate(b *testing.B) {
	s := openSQLite(b, store.Options{})
	for i := range 5000 {
		storetest.MustAccept(b, s, storetest.Doc(fmt.Sprintf("doc-%05d", i), i))
	}
	ctx := context.Background()
	check := func(b *testing.B, i int) {
		dup, err := s.Duplicate(ctx, storetest.Doc("new", 100_000+i))
		if err != nil || dup != nil {
			b.Fatalf("Duplicate: %v, %v", dup, err)
		}
	}
	b.Run("warm", func(b *testing.B) {
		for i := range b.N {
			check(b, i)
		}
	})
	b.Run("after-commit", func(b *testing.B) {
		for i := range b.N {
			b.StopTimer()
			append1(b, s, i)
			b.StartTimer()
			check(b, i)
		}
	})
}

// BenchmarkUpdateDeliveries is a page fetch and its acknowledgement on the
// embedded store: 20 deliveries of 20 documents marked pulled in one call,
// then acked in another, each with its audit event, as routing's FetchMany
// and AckMany do. The time is per delivery, both updates, mostly waiting
// for the WAL's fsync; cpu-µs/delivery is the process's CPU time in them.
func BenchmarkUpdateDeliveries(b *testing.B) {
	const page = 20
	s := openSQLite(b, store.Options{})
	ctx := context.Background()
	update := func(id string, to, from routing.DeliveryState) routing.DeliveryUpdate {
		return routing.DeliveryUpdate{Delivery: &routing.Delivery{ID: id, State: to, NextAttemptAt: time.Now()},
			From:   []routing.DeliveryState{from},
			Events: []*archive.Event{{Kind: "delivery." + string(to), Actor: "agency:000.00.00.H53", Delivery: id}}}
	}
	var cpu time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n += page {
		b.StopTimer()
		var fetch, ack []routing.DeliveryUpdate
		for i := range page {
			id := fmt.Sprintf("d-%08d", n+i)
			doc := storetest.Doc(fmt.Sprintf("doc-%08d", n+i), n+i)
			storetest.MustAccept(b, s, doc, storetest.Del(id, "", doc.Recipients[0], routing.RoutePull))
			fetch = append(fetch, update(id, routing.StatePulled, routing.StateQueued))
			ack = append(ack, update(id, routing.StateAcked, routing.StatePulled))
		}
		b.StartTimer()
		before := cpuTime(b)
		for _, us := range [][]routing.DeliveryUpdate{fetch, ack} {
			errs, err := s.UpdateDeliveries(ctx, us)
			if err != nil {
				b.Fatal(err)
			}
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		cpu += cpuTime(b) - before
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/delivery")
}

// cpuTime is the CPU time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	d, err := bench.SelfCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}
