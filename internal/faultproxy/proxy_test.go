package faultproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, line string) (string, error) {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestForwardCutRefuse(t *testing.T) {
	p, err := Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c, "hello"); err != nil || got != "hello\n" {
		t.Fatalf("echo through proxy = %q, %v", got, err)
	}
	if n := p.Cut(); n != 1 {
		t.Fatalf("Cut closed %d connections, want 1", n)
	}
	if _, err := roundTrip(c, "after cut"); err == nil {
		t.Fatal("connection still works after Cut")
	}

	p.Refuse(true)
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		if _, err := roundTrip(c2, "x"); err == nil {
			t.Fatal("connection works while refusing")
		}
	}
	p.Refuse(false)
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c3, "back"); err != nil || got != "back\n" {
		t.Fatalf("after Refuse(false): %q, %v", got, err)
	}
	if p.Accepted() != 3 {
		t.Fatalf("Accepted = %d, want 3", p.Accepted())
	}
}

func TestBlackholeSwallowsTraffic(t *testing.T) {
	p, err := Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p.Blackhole(true)
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	c.Write([]byte("lost\n"))
	buf := make([]byte, 8)
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("read %q through a black hole", buf[:n])
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("want a timeout (socket still open), got %v", err)
	}
	p.Blackhole(false)
	if got, err := roundTrip(c, "seen"); err != nil || got != "seen\n" {
		t.Fatalf("after black hole: %q, %v", got, err)
	}
}

// TestLatencyKeepsOrder: with a delay and a jitter wider than the gap between
// writes, every chunk still arrives, in the order written, and none sooner
// than the delay less the jitter (chunks reordered or passed straight through
// fail it).
func TestLatencyKeepsOrder(t *testing.T) {
	p, err := Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetLatency(40*time.Millisecond, 30*time.Millisecond)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	const n = 200
	go func() {
		for i := 0; i < n; i++ {
			c.Write([]byte{byte(i)})
			time.Sleep(time.Millisecond)
		}
	}()
	got := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(got) < n {
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		if len(got) == 0 {
			// Two hops (there and back), each at least 10 ms.
			if e := time.Since(start); e < 20*time.Millisecond {
				t.Fatalf("first byte back after %v; want at least 20 ms", e)
			}
		}
		got = append(got, buf[:k]...)
	}
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("byte %d is %d: reordered", i, b)
		}
	}
}
