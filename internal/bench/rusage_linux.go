package bench

import (
	"syscall"
	"time"
)

// SelfCPU is the user plus system CPU time of this process.
func SelfCPU() (time.Duration, error) { return rusage(syscall.RUSAGE_SELF) }

// ThreadCPU is the CPU time of the calling OS thread: a goroutine that
// measures itself must hold its thread (runtime.LockOSThread).
func ThreadCPU() (time.Duration, error) { return rusage(syscall.RUSAGE_THREAD) }

func rusage(who int) (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
