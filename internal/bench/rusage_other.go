//go:build !linux

package bench

import (
	"errors"
	"time"
)

// SelfCPU is the user plus system CPU time of this process (Linux only).
func SelfCPU() (time.Duration, error) { return 0, errors.ErrUnsupported }

// ThreadCPU is the CPU time of the calling OS thread (Linux only).
func ThreadCPU() (time.Duration, error) { return 0, errors.ErrUnsupported }
