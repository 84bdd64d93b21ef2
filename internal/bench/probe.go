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
func (p MetricsProbe) Sample(ctx context.Context) (Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return Sample{}, err
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return Sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("bench: %s: %s", p.URL, resp.Status)
	}
	return parseMetrics(io.LimitReader(resp.Body, 16<<20))
}

// parseMetrics picks the process and heap gauges out of the Prometheus
// text format.
func parseMetrics(r io.Reader) (Sample, error) {
	var s Sample
	found := false
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
		switch name {
		case "process_cpu_seconds_total":
			s.CPU, found = time.Duration(v*1e9), true
		case "process_resident_memory_bytes":
			s.RSS = int64(v)
		case "go_memstats_heap_alloc_bytes":
			s.Heap = int64(v)
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if !found {
		return s, errors.New("bench: /metrics has no process_cpu_seconds_total")
	}
	return s, nil
}
