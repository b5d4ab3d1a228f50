//go:build linux

package netns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testNS makes a namespace for one test and removes it afterwards.
func testNS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs the namespace tests as root")
		}
		t.Skip("network namespaces need root")
	}
	name := fmt.Sprintf("rounds-netns-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	return name
}

// orphanable starts `sleep` with Pdeathsig, as testserver starts Prosody and
// ejabberd, from the calling (locked) thread, and returns a channel closed
// when it ends.
func orphanable(t *testing.T) (*exec.Cmd, chan struct{}) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { _ = cmd.Wait(); close(ended) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-ended })
	return cmd, ended
}

// TestRunKeepsItsThread: a process forked by the thread Run used (a server
// the test started earlier from the same pooled thread) lives on after Run
// returns, and the thread is back in the pool in the test's own namespace.
// Ending the goroutine locked (as testserver's Cluster.Dial did) ended the
// thread and SIGKILLed the process.
func TestRunKeepsItsThread(t *testing.T) {
	name := testNS(t)
	home, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var ended chan struct{}
	var tid int
	err = Run(name, func() error {
		tid = unix.Gettid()
		_, ended = orphanable(t)
		// Something to do in there: a socket made in the namespace.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		return ln.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := Run(name, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ended:
		t.Fatal("the process forked from Run's thread was killed: the thread ended")
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); err != nil {
		t.Fatalf("Run's thread %d ended: %v", tid, err)
	}
	// The thread is back in the pool, so it must be home again.
	ns, err := os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/net", tid))
	if err != nil {
		t.Fatal(err)
	}
	if ns != home {
		t.Fatalf("Run's thread is in %s, the test's namespace is %s", ns, home)
	}
}

// TestStartHoldsTheParentThread: a child started in the namespace (it is
// there) keeps its parent thread while other
// threads end, and the thread is released, not ended, once exited closes.
func TestStartHoldsTheParentThread(t *testing.T) {
	name := testNS(t)
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	exited := make(chan struct{})
	if err := Start(name, cmd, exited); err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(want, got) {
		t.Error("the child is not in the namespace")
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	// Careless code elsewhere ends threads (goroutines that exit locked).
	for range 20 {
		done := make(chan struct{})
		go func() { runtime.LockOSThread(); close(done) }()
		<-done
	}
	select {
	case <-waited:
		t.Fatal("the child died while its parent thread was held")
	case <-time.After(300 * time.Millisecond):
	}
	before := threads(t)
	_ = cmd.Process.Kill()
	<-waited
	close(exited)
	time.Sleep(200 * time.Millisecond)
	after := threads(t)
	for tid := range before {
		if !after[tid] {
			t.Errorf("thread %s ended after the child exited (it should return to the pool)", tid)
		}
	}
}

func threads(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}
