package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/internal/bench"
	"github.com/edocgw/edocgw/internal/store"
)

type fakeWriter struct {
	stats store.WriterStats
	ok    bool
}

func (f *fakeWriter) WriterStats() (store.WriterStats, bool) { return f.stats, f.ok }

// TestWriterCollectors: the four series read the store's writer at each
// scrape; a store without a writer (PostgreSQL) has none.
func TestWriterCollectors(t *testing.T) {
	if cs := writerCollectors(&fakeWriter{}); cs != nil {
		t.Fatalf("no writer, %d collectors", len(cs))
	}
	f := &fakeWriter{ok: true}
	reg := prometheus.NewRegistry()
	reg.MustRegister(writerCollectors(f)...)
	f.stats = store.WriterStats{Groups: 3, Operations: 70, Busy: 1500 * time.Millisecond, Commit: 250 * time.Millisecond}
	want := map[string]float64{
		"edocgw_store_writer_groups_total":         3,
		"edocgw_store_writer_operations_total":     70,
		"edocgw_store_writer_busy_seconds_total":   1.5,
		"edocgw_store_writer_commit_seconds_total": 0.25,
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != len(want) {
		t.Fatalf("%d series, want %d", len(families), len(want))
	}
	for _, mf := range families {
		if got := mf.GetMetric()[0].GetCounter().GetValue(); got != want[mf.GetName()] {
			t.Errorf("%s = %v, want %v", mf.GetName(), got, want[mf.GetName()])
		}
	}
}

// TestBenchSummaryWriter: the text summary gives the writer's line when
// the run measured it, and none when it did not (PostgreSQL).
func TestBenchSummaryWriter(t *testing.T) {
	r := &bench.Result{Writer: &bench.Writer{Groups: 1200, OperationsPerGroup: 18.5, BusySeconds: 18, BusyFraction: 0.9, CommitSeconds: 4.5}}
	var b strings.Builder
	writeBenchSummary(&b, r)
	want := "writer      SQLite writer busy 90 % of the run (18.0 s, 4.5 s in COMMIT), 1200 batches of 18.5 operations\n"
	if !strings.Contains(b.String(), want) {
		t.Fatalf("summary lacks %q:\n%s", want, b.String())
	}
	b.Reset()
	writeBenchSummary(&b, &bench.Result{})
	if strings.Contains(b.String(), "writer") {
		t.Fatalf("a writer line without a writer:\n%s", b.String())
	}
}
