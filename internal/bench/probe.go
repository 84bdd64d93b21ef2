package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// Sample is what a Probe reads of the gateway's process at one time;
// zero fields are unknown.
type Sample struct {
	CPU  time.Duration // user + system since the process started
	RSS  int64         // resident now, bytes
	HWM  int64         // peak resident set, bytes
	Heap int64         // Go heap objects, bytes
}

// Probe reads the gateway's CPU and memory.
type Probe interface {
	// Source says where the figures come from.
	Source() string
	// Reset makes the peak resident set start again from now, if it can.
	Reset() error
	Sample(ctx context.Context) (Sample, error)
}

// SelfProbe reads this process: the gateway runs in it.
type SelfProbe struct{}

// Source is "self".
func (SelfProbe) Source() string { return "self" }

// Reset restarts VmHWM.
func (SelfProbe) Reset() error { return ResetPeak(0) }

// Sample reads getrusage, /proc/self/status and the Go heap.
func (SelfProbe) Sample(context.Context) (Sample, error) {
	cpu, err := SelfCPU()
	if err != nil {
		return Sample{}, err
	}
	st, err := ReadStatus(0)
	if err != nil {
		return Sample{CPU: cpu}, err
	}
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(m)
	var heap int64
	if m[0].Value.Kind() == metrics.KindUint64 {
		heap = int64(m[0].Value.Uint64())
	}
	return Sample{CPU: cpu, RSS: st.RSS, HWM: st.HWM, Heap: heap}, nil
}

// PIDProbe reads another process on this machine through /proc.
type PIDProbe struct{ PID int }

// Source is "proc".
func (p PIDProbe) Source() string { return "proc" }

// Reset restarts its VmHWM (which needs the right to ptrace it).
func (p PIDProbe) Reset() error { return ResetPeak(p.PID) }

// Sample reads /proc/PID/stat and /proc/PID/status.
func (p PIDProbe) Sample(context.Context) (Sample, error) {
	cpu, err := ReadCPU(p.PID)
	if err != nil {
		return Sample{}, err
	}
	st, err := ReadStatus(p.PID)
	return Sample{CPU: cpu, RSS: st.RSS, HWM: st.HWM}, err
}

// Probes reads several gateway processes as one: CPU and resident sets
// added up, the peak the largest of theirs (for the memory one process
// needs).
type Probes []Probe

// Source is the first one's, with the count: "proc×2".
func (ps Probes) Source() string {
	if len(ps) == 0 {
		return ""
	}
	return fmt.Sprintf("%s×%d", ps[0].Source(), len(ps))
}

// Reset resets each; the first error is returned.
func (ps Probes) Reset() error {
	var first error
	for _, p := range ps {
		if err := p.Reset(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Sample reads each.
func (ps Probes) Sample(ctx context.Context) (Sample, error) {
	var sum Sample
	for _, p := range ps {
		s, err := p.Sample(ctx)
		if err != nil {
			return Sample{}, err
		}
		sum.CPU += s.CPU
		sum.RSS += s.RSS
		sum.Heap += s.Heap
		sum.HWM = max(sum.HWM, s.HWM)
	}
	return sum, nil
}

// MetricsProbe reads the gateway's /metrics (its Prometheus process and
// Go collectors): CPU to 10 ms, the resident set now, the heap; no peak.
type MetricsProbe struct {
	URL    string // …/metrics
	Client *http.Client
}

// Source is "metrics".
func (p MetricsProbe) Source() string { return "metrics" }

// Reset is not possible through /metrics.
func (p MetricsProbe) Reset() error { return errors.ErrUnsupported }

// Sample scrapes the metrics.
func (p MetricsProbe) Sample(ctx context.Context) (s Sample, err error) {
	err = scrape(ctx, p.Client, p.URL, func(r io.Reader) error {
		s, err = parseMetrics(r)
		return err
	})
	return s, err
}

// scrape GETs url, a /metrics, and hands its body to read.
func scrape(ctx context.Context, client *http.Client, url string, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s: %s", url, resp.Status)
	}
	return read(io.LimitReader(resp.Body, 16<<20))
}

// WriterSample is what the gateways' /metrics say of their embedded
// stores' single writers (store.WriterStats), added up.
type WriterSample struct {
	Groups, Operations float64
	Busy, Commit       time.Duration
}

// WriterMetrics reads the writer series of each gateway's /metrics.
type WriterMetrics struct {
	URLs   []string // …/metrics of each instance
	Client *http.Client
}

// Sample scrapes each; false when none has a writer (PostgreSQL).
func (p WriterMetrics) Sample(ctx context.Context) (WriterSample, bool, error) {
	var sum WriterSample
	found := false
	for _, u := range p.URLs {
		err := scrape(ctx, p.Client, u, func(r io.Reader) error {
			w, ok, err := parseWriter(r)
			sum.Groups += w.Groups
			sum.Operations += w.Operations
			sum.Busy += w.Busy
			sum.Commit += w.Commit
			found = found || ok
			return err
		})
		if err != nil {
			return WriterSample{}, false, err
		}
	}
	return sum, found, nil
}

// parseWriter picks the writer series (internal/cli writerCollectors) out
// of the Prometheus text format; false when there are none.
func parseWriter(r io.Reader) (WriterSample, bool, error) {
	var w WriterSample
	found := false
	err := scanMetrics(r, func(name string, v float64) {
		switch name {
		case "edocgw_store_writer_groups_total":
			w.Groups, found = v, true
		case "edocgw_store_writer_operations_total":
			w.Operations = v
		case "edocgw_store_writer_busy_seconds_total":
			w.Busy = time.Duration(v * 1e9)
		case "edocgw_store_writer_commit_seconds_total":
			w.Commit = time.Duration(v * 1e9)
		}
	})
	return w, found, err
}

// parseMetrics picks the process and heap gauges out of the Prometheus
// text format.
func parseMetrics(r io.Reader) (Sample, error) {
	var s Sample
	found := false
	err := scanMetrics(r, func(name string, v float64) {
		switch name {
		case "process_cpu_seconds_total":
			s.CPU, found = time.Duration(v*1e9), true
		case "process_resident_memory_bytes":
			s.RSS = int64(v)
		case "go_memstats_heap_alloc_bytes":
			s.Heap = int64(v)
		}
	})
	if err != nil {
		return s, err
	}
	if !found {
		return s, errors.New("bench: /metrics has no process_cpu_seconds_total")
	}
	return s, nil
}

// scanMetrics calls fn with each unlabelled sample of the Prometheus text
// read from r.
func scanMetrics(r io.Reader, fn func(name string, v float64)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		fn(name, v)
	}
	return sc.Err()
}
