package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/testenv"
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
