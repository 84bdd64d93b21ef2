package testenv

import "syscall"

// childProcAttr makes the kernel kill a server whose test process died
// without running its cleanups (a timeout, a crash).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
