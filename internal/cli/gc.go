package cli

import (
	"os"
	"runtime/debug"
	"strconv"
)

// The gateway collects garbage when its heap has grown by 200 % since the
// last collection, not by Go's default 100 %. Its live heap is small (tens
// of megabytes) and it allocates fast (about 130 KB per 10 KB document
// accepted), so at 100 % the collector ran many times a second: with the
// allocations it paced, a sixth of a closed-loop bench run's CPU. At 200 %
// it runs half as often, for about 30 MB more resident memory under load;
// a 1 GB document still streams in 44 MB (README, machine F). GOGC in the
// environment is the operator's choice and is kept; GOMEMLIMIT still caps
// the heap as Go documents.

// defaultGCPercent is the --gc-percent default: GOGC as the runtime reads
// it when the environment sets it ("off" is -1, a value it cannot read
// 100), otherwise 200.
func defaultGCPercent(getenv func(string) string) int {
	v := getenv("GOGC")
	switch {
	case v == "":
		return 200
	case v == "off":
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 32)
	switch {
	case err != nil:
		return 100
	case n < 0:
		return -1
	}
	return int(n)
}

// addGCFlag adds --gc-percent, the collector's target (GOGC).
func addGCFlag(f *flags) *int {
	return f.Int("gc-percent", defaultGCPercent(os.Getenv),
		"collect garbage when the heap has grown by this many percent (GOGC; -1 never); default 200, or GOGC from the environment")
}

// setGCPercent applies --gc-percent.
func setGCPercent(n int) error {
	if n < -1 {
		return usagef("--gc-percent %d: -1 (off) or more", n)
	}
	debug.SetGCPercent(n)
	return nil
}
