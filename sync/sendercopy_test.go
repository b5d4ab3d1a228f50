package sync

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"
)

// gateWriter collects what it is given; while closed (gate not yet
// released) every Write waits, like a stalled disk.
type gateWriter struct {
	mu     gosync.Mutex
	got    bytes.Buffer
	gate   chan struct{}
	failAt int // fail once this many bytes were written (0: never)
}

func (g *gateWriter) Write(p []byte) (int, error) {
	if g.gate != nil {
		<-g.gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failAt > 0 && g.got.Len()+len(p) > g.failAt {
		return 0, errors.New("disk full")
	}
	return g.got.Write(p)
}

func (g *gateWriter) bytes() []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return bytes.Clone(g.got.Bytes())
}

// TestSenderCopyInOrder: every byte reaches the vault writer, in order,
// whatever sizes the upload reads in.
func TestSenderCopyInOrder(t *testing.T) {
	data := make([]byte, 5<<20+12345)
	rand.Read(data)
	dst := &gateWriter{}
	c := newSenderCopy(dst)
	for p := data; len(p) > 0; {
		n := min(len(p), 1+mrand.IntN(300<<10))
		if k, err := c.Write(p[:n]); k != n || err != nil {
			t.Fatalf("Write: %d, %v", k, err)
		}
		p = p[n:]
	}
	if err := c.finish(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.bytes(), data) {
		t.Fatal("the copy differs from what was uploaded")
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, errCopyEnded) {
		t.Fatalf("write after finish: %v", err)
	}
	if err := c.finish(); err != nil {
		t.Fatalf("second finish: %v", err)
	}
}

// TestSenderCopyBounded: a stalled disk holds the upload back after at most
// copyBuffers×copyChunk bytes; the file is never held in memory whole.
func TestSenderCopyBounded(t *testing.T) {
	data := make([]byte, 8<<20)
	rand.Read(data)
	dst := &gateWriter{gate: make(chan struct{})}
	c := newSenderCopy(dst)
	var accepted atomic.Int64
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for p := data; len(p) > 0; p = p[32<<10:] {
			c.Write(p[:32<<10])
			accepted.Add(32 << 10)
		}
	}()
	// Wait until the writer stops making progress.
	last := int64(-1)
	for last != accepted.Load() {
		last = accepted.Load()
		time.Sleep(100 * time.Millisecond)
	}
	if max := int64(copyBuffers * copyChunk); last > max || last == 0 {
		t.Fatalf("a stalled disk let %d bytes queue (bound %d)", last, max)
	}
	select {
	case <-wrote:
		t.Fatal("the upload finished while the disk was stalled")
	default:
	}
	close(dst.gate)
	<-wrote
	if err := c.finish(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.bytes(), data) {
		t.Fatal("the copy differs after the stall")
	}
}

// TestSenderCopyFails: a disk error reaches the upload (its next Write) and
// finish, as it did when the copy was written inline.
func TestSenderCopyFails(t *testing.T) {
	dst := &gateWriter{failAt: 1 << 20}
	c := newSenderCopy(dst)
	chunk := make([]byte, 64<<10)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = c.Write(chunk)
		time.Sleep(time.Millisecond)
	}
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("writes after a disk error: %v", err)
	}
	if err := c.finish(); err == nil || err.Error() != "disk full" {
		t.Fatalf("finish: %v", err)
	}
}

// TestSenderCopyAbort: abort does not write what is still queued, and a
// late Write (net/http may read a body after Do returned) fails cleanly.
func TestSenderCopyAbort(t *testing.T) {
	dst := &gateWriter{gate: make(chan struct{})}
	c := newSenderCopy(dst)
	if _, err := c.Write(make([]byte, 3*copyChunk/2)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the first chunk reaches the stalled disk
	aborted := make(chan struct{})
	go func() { c.abort(); close(aborted) }()
	time.Sleep(50 * time.Millisecond)
	close(dst.gate)
	<-aborted
	if n := len(dst.bytes()); n > copyChunk {
		t.Fatalf("abort still wrote %d bytes", n)
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, errCopyEnded) {
		t.Fatalf("write after abort: %v", err)
	}
}
