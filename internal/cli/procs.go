package cli

import (
	"os"
	"runtime"
)

// The gateway runs Go code on twice as many threads (GOMAXPROCS) as the
// processors the runtime found. Its disk work is blocking system calls:
// the SQLite writer's WAL writes and fsyncs, the archive's syncfs. A
// thread in such a call holds its processor slot until the runtime takes
// it back, and on two cores that left about a quarter of the CPU idle
// while the one writer, which sets the pace, waited for a slot (README,
// "Where the time goes"). GOMAXPROCS in the environment is the operator's
// choice and is kept.

// startProcs is the runtime's own choice, read before any --procs: a
// command run again in the same process (the tests) doubles it, not its
// own last setting.
var startProcs = runtime.GOMAXPROCS(0)

// defaultProcs is the --procs default: found, the runtime's own choice,
// when the environment sets GOMAXPROCS, otherwise twice it.
func defaultProcs(getenv func(string) string, found int) int {
	if getenv("GOMAXPROCS") != "" {
		return found
	}
	return 2 * found
}

// addProcsFlag adds --procs, the threads that run Go code at once.
func addProcsFlag(f *flags) *int {
	return f.Int("procs", defaultProcs(os.Getenv, startProcs),
		"threads running Go code at once (GOMAXPROCS); default twice the CPUs, or GOMAXPROCS from the environment")
}

// setProcs applies --procs.
func setProcs(n int) error {
	if n < 1 {
		return usagef("--procs %d: at least 1", n)
	}
	if n != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(n)
	}
	return nil
}
