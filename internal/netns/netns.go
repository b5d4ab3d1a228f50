//go:build linux

package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// A network namespace belongs to a thread, not to the process, so both
// functions switch one locked thread into the namespace and back. They never
// let that thread end: the Go runtime ends a thread whose goroutine exits
// locked, and the kernel sends the Pdeathsig of every child that thread
// forked. The test servers (internal/testserver) set Pdeathsig, and any
// pooled thread may be the one that forked a Prosody or an ejabberd, so a
// thread ended here would SIGKILL a server that has nothing to do with the
// namespace. Only a thread that cannot be switched back is left to end, so
// that it never runs other goroutines in the wrong namespace.

// Run runs f on a thread switched into the named namespace (/run/netns/name);
// sockets made there stay in it, whichever thread uses them later.
func Run(name string, f func() error) error {
	return run(name, f, nil)
}

// Start starts cmd from a thread inside the named namespace (the child
// inherits it). That thread stays locked, switched back, until exited is
// closed (the caller closes it once cmd.Wait has returned): the child's
// Pdeathsig, if set, fires only when the test process itself ends.
func Start(name string, cmd *exec.Cmd, exited <-chan struct{}) error {
	return run(name, cmd.Start, exited)
}

func run(name string, f func() error, hold <-chan struct{}) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer home.Close()
		ns, err := os.Open("/run/netns/" + name)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer ns.Close()
		if err := setns(ns); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netns: setns %s: %w", name, err)
			return
		}
		ferr := f()
		if err := setns(home); err != nil {
			// Left locked: the thread ends with this goroutine.
			done <- errors.Join(ferr, fmt.Errorf("netns: setns back from %s: %w", name, err))
			return
		}
		if ferr == nil && hold != nil {
			done <- nil
			<-hold
			runtime.UnlockOSThread()
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}

func setns(f *os.File) error {
	if _, _, e := syscall.RawSyscall(unix.SYS_SETNS, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}
