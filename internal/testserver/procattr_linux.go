//go:build unix

package testserver

import "syscall"

// serverProcAttr puts prosody in its own process group (so Stop reaches every child)
// and asks the kernel to kill it when the test binary dies, even by SIGKILL.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
