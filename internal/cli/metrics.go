package cli

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/internal/store"
)

// writerStats is what writerCollectors read: store.Store.WriterStats.
type writerStats interface {
	WriterStats() (store.WriterStats, bool)
}

// writerCollectors are the /metrics series of the embedded store's one
// writer, none for a store without one (PostgreSQL). Operations per group
// and the busy seconds per second tell an operator how close the embedded
// backend is to what it can carry.
func writerCollectors(s writerStats) []prometheus.Collector {
	if _, ok := s.WriterStats(); !ok {
		return nil
	}
	counter := func(name, help string, value func(store.WriterStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			w, _ := s.WriterStats()
			return value(w)
		})
	}
	return []prometheus.Collector{
		counter("edocgw_store_writer_groups_total",
			"Batches of write operations the embedded store's single writer ran, each in one transaction.",
			func(w store.WriterStats) float64 { return float64(w.Groups) }),
		counter("edocgw_store_writer_operations_total",
			"Write operations run in those batches (operations per batch: this over the groups).",
			func(w store.WriterStats) float64 { return float64(w.Operations) }),
		counter("edocgw_store_writer_busy_seconds_total",
			"Wall time the writer spent running batches, BEGIN to COMMIT; near one second a second, writes queue behind it.",
			func(w store.WriterStats) float64 { return w.Busy.Seconds() }),
		counter("edocgw_store_writer_commit_seconds_total",
			"The part of the busy time spent in COMMIT (writing the WAL, checkpoints).",
			func(w store.WriterStats) float64 { return w.Commit.Seconds() }),
	}
}
