package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// ProcStatus is the memory /proc/PID/status reports, in bytes.
type ProcStatus struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: the peak resident set
}

// procPath is /proc/PID/name, or /proc/self/name for pid ≤ 0.
func procPath(pid int, name string) string {
	if pid <= 0 {
		return "/proc/self/" + name
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

// ReadStatus reads VmRSS and VmHWM of a process (pid ≤ 0: this one).
func ReadStatus(pid int) (ProcStatus, error) {
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return ProcStatus{}, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (ProcStatus, error) {
	var s ProcStatus
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &s.RSS
		case "VmHWM":
			dst = &s.HWM
		}
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return s, fmt.Errorf("bench: /proc status: %s: %q", key, val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return s, fmt.Errorf("bench: /proc status: %s: %w", key, err)
		}
		*dst = kb << 10
		found++
	}
	if found != 2 {
		return s, errors.New("bench: /proc status: no VmRSS and VmHWM")
	}
	return s, nil
}

// ReadCPU reads the user plus system CPU time of a process (pid ≤ 0: this
// one) from /proc/PID/stat, to 10 ms.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime, fields 14 and 15 of /proc/PID/stat;
// the command name (field 2) is in parentheses and may hold anything.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bench: /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:])) // from field 3, the state
	if len(f) < 13 {
		return 0, errors.New("bench: /proc stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// ResetPeak makes the kernel start VmHWM of a process (pid ≤ 0: this one)
// again from its current resident set (Linux 4.0, clear_refs 5).
func ResetPeak(pid int) error {
	return os.WriteFile(procPath(pid, "clear_refs"), []byte("5"), 0)
}

// Machine describes where a run happened.
type Machine struct {
	CPUs       int `json:"nproc"`
	GOMAXPROCS int `json:"gomaxprocs"`
	// GCPercent is the collector's target (GOGC, -1 off) in this process.
	GCPercent int    `json:"gcPercent"`
	CPUModel  string `json:"cpuModel,omitempty"`
	Go        string `json:"go"`
	OS        string `json:"os"`
	Date      string `json:"date"`
	// LoadAverage is /proc/loadavg's 1, 5 and 15 minutes when the run
	// began: other work on a shared machine shows here.
	LoadAverage []float64 `json:"loadAverage,omitempty"`
}

// ThisMachine describes this machine at date.
func ThisMachine(date time.Time) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Date: date.Format(time.RFC3339), GCPercent: gcPercent()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(b)
	}
	return m
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LoadAverage reads the 1, 5 and 15-minute load averages.
func LoadAverage() ([]float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil, err
	}
	return parseLoadAvg(b)
}

func parseLoadAvg(b []byte) ([]float64, error) {
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil, errors.New("bench: /proc/loadavg: too few fields")
	}
	out := make([]float64, 3)
	for i := range out {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, fmt.Errorf("bench: /proc/loadavg: %w", err)
		}
		out[i] = v
	}
	return out, nil
}

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	if v := s[0].Value.Uint64(); v <= math.MaxInt32 {
		return int(v)
	}
	return -1
}
