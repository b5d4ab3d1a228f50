//go:build linux

package wardnet

import (
	"bufio"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// need fails under CI (which runs as root with the tools installed) and
// skips elsewhere when the link cannot be built.
func need(t *testing.T) {
	if miss := Missing(); len(miss) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI runs the ward Wi-Fi tests: missing %v (scripts/install-deps.sh)", miss)
		}
		t.Skipf("needs %v", miss)
	}
}

// TestLinkCarriesAndHandsOff: bytes cross the link; while it is down a
// connection made before waits rather than breaks, and carries on after Up;
// a new connection cannot be made while down; Close leaves no namespace.
func TestLinkCarriesAndHandsOff(t *testing.T) {
	need(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	l, err := New(ln.Addr().String(), BusyWard)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	echo := func(s string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write([]byte(s + "\n")); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != s+"\n" {
			t.Fatalf("echo %q: %q, %v", s, got, err)
		}
	}
	echo("before")
	if err := l.Down(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.dialAcross(); err == nil {
		t.Fatal("a new connection crossed a link that is down")
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.Write([]byte("during\n"))
	time.Sleep(500 * time.Millisecond)
	if err := l.Up(); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadString('\n')
	if err != nil || got != "during\n" {
		t.Fatalf("after the handoff: %q, %v", got, err)
	}
	echo("after")
	// One packet in six lost: the echo still arrives (TCP resends), and the
	// rules' counter shows they dropped some.
	if err := l.Apply(Profile{LossPercent: 15}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		echo("lossy")
	}
	if n, err := l.Dropped(); err != nil || n == 0 {
		t.Fatalf("dropped %d, %v; want some at 15%% loss", n, err)
	}
	ns := l.clientNS
	l.Close()
	if _, err := os.Stat("/run/netns/" + ns); !os.IsNotExist(err) {
		t.Fatalf("namespace %s left behind: %v", ns, err)
	}
}
