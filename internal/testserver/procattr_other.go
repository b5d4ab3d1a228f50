//go:build unix && !linux

package testserver

import "syscall"

// serverProcAttr: outside Linux there is no Pdeathsig; the stale-directory sweep
// in Start is the only safety net for a test binary that dies.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
