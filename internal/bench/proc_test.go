package bench

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       ProcStatus
		err        bool
	}{
		{"linux", "Name:\tedocgw\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n", ProcStatus{RSS: 40 << 20, HWM: 50 << 20}, false},
		{"kernel thread", "Name:\tkthreadd\nThreads:\t1\n", ProcStatus{}, true},
		{"bad unit", "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", ProcStatus{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tc.text))
			if (err != nil) != tc.err || !tc.err && got != tc.want {
				t.Fatalf("got %+v, %v; want %+v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       time.Duration
		err        bool
	}{
		{"plain", "1234 (edocgw) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 3250 * time.Millisecond, false},
		{"name with spaces and parentheses", "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 1 2 3 4", 30 * time.Millisecond, false},
		{"truncated", "77 (x) R 1 2 3", 0, true},
		{"no name", "77 x R", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.text))
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

// The readers on this very process.
func TestProcReadersOnSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: /proc and getrusage threads are Linux's")
	}
	st, err := ReadStatus(0)
	if err != nil || st.RSS <= 0 || st.HWM < st.RSS {
		t.Fatalf("ReadStatus(self) = %+v, %v", st, err)
	}
	byPID, err := ReadStatus(os.Getpid())
	if err != nil || byPID.RSS <= 0 {
		t.Fatalf("ReadStatus(pid) = %+v, %v", byPID, err)
	}
	c1, err := ReadCPU(os.Getpid())
	if err != nil || c1 < 0 {
		t.Fatalf("ReadCPU = %v, %v", c1, err)
	}
	s1, err := SelfCPU()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ThreadCPU(); err != nil {
		t.Fatal(err)
	}
	spin()
	if c2, err := ReadCPU(0); err != nil || c2 < c1 {
		t.Fatalf("CPU went from %v to %v (%v)", c1, c2, err)
	}
	if s2, err := SelfCPU(); err != nil || s2 < s1 {
		t.Fatalf("getrusage went from %v to %v (%v)", s1, s2, err)
	}
	if err := ResetPeak(0); errors.Is(err, fs.ErrPermission) {
		t.Logf("clear_refs: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	if after, err := ReadStatus(0); err != nil || after.HWM <= 0 {
		t.Fatalf("after reset: %+v, %v", after, err)
	}
	var p SelfProbe
	if s, err := p.Sample(t.Context()); err != nil || s.RSS <= 0 || s.Heap <= 0 || s.CPU <= 0 {
		t.Fatalf("SelfProbe = %+v, %v", s, err)
	}
	if s, err := (PIDProbe{PID: os.Getpid()}).Sample(t.Context()); err != nil || s.RSS <= 0 || s.HWM <= 0 {
		t.Fatalf("PIDProbe = %+v, %v", s, err)
	}
}

func spin() {
	x := 0
	for i := range 1 << 22 {
		x += i * i
	}
	_ = x
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := cpuModel([]byte(info)); got != "AMD EPYC 7B13" {
		t.Fatalf("%q", got)
	}
	m := ThisMachine(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	if m.CPUs < 1 || m.GOMAXPROCS < 1 || !strings.HasPrefix(m.Go, "go") || m.Date != "2026-11-22T10:00:00Z" {
		t.Fatalf("%+v", m)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.34
go_memstats_heap_alloc_bytes 5.24288e+06
process_resident_memory_bytes 4.194304e+07
edocgw_http_requests_total{code="202",method="POST",route="/v1/documents"} 60
`
	s, err := parseMetrics(strings.NewReader(text))
	if err != nil || s.CPU != 12340*time.Millisecond || s.RSS != 40<<20 || s.Heap != 5<<20 || s.HWM != 0 {
		t.Fatalf("%+v, %v", s, err)
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines 9\n")); err == nil {
		t.Fatal("no CPU counter: no error")
	}
}

func TestParseLoadAvg(t *testing.T) {
	got, err := parseLoadAvg([]byte("3.62 4.23 4.45 3/812 29931\n"))
	if err != nil || len(got) != 3 || got[0] != 3.62 || got[2] != 4.45 {
		t.Fatalf("%v, %v", got, err)
	}
	if _, err := parseLoadAvg([]byte("1.0 x 2.0")); err == nil {
		t.Fatal("no error")
	}
}

func TestWriterMetrics(t *testing.T) {
	serve := func(status int, text string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, text)
		}))
		t.Cleanup(s.Close)
		return s
	}
	embedded := serve(http.StatusOK, `# TYPE edocgw_store_writer_groups_total counter
edocgw_store_writer_groups_total 40
edocgw_store_writer_operations_total 1000
edocgw_store_writer_busy_seconds_total 2.5
edocgw_store_writer_commit_seconds_total 0.75
process_cpu_seconds_total 9
`)
	postgres := serve(http.StatusOK, "process_cpu_seconds_total 9\n")
	broken := serve(http.StatusInternalServerError, "")

	w, ok, err := WriterMetrics{URLs: []string{embedded.URL, postgres.URL, embedded.URL}, Client: embedded.Client()}.Sample(t.Context())
	if want := (WriterSample{Groups: 80, Operations: 2000, Busy: 5 * time.Second, Commit: 1500 * time.Millisecond}); err != nil || !ok || w != want {
		t.Fatalf("%+v, %v, %v; want %+v", w, ok, err, want)
	}
	if _, ok, err := (WriterMetrics{URLs: []string{postgres.URL}, Client: postgres.Client()}).Sample(t.Context()); err != nil || ok {
		t.Fatalf("no writer series: found %v, %v", ok, err)
	}
	if _, _, err := (WriterMetrics{URLs: []string{embedded.URL, broken.URL}, Client: broken.Client()}).Sample(t.Context()); err == nil {
		t.Fatal("a 500 from /metrics: no error")
	}
}
