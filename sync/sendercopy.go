package sync

import (
	"errors"
	"io"
	gosync "sync"
	"sync/atomic"
)

// The sender's copy of an upload goes into the vault beside the upload
// rather than in line with it: written inline, each read of the PUT body
// waited for the vault's encrypt, write and periodic fsync of the same
// bytes, and a 50 MiB file took 1.17–1.26× a plain PUT instead of ≤ 1.2×
// (docs/BENCHMARKS.md). senderCopy hands the plaintext to its own goroutine
// through a fixed set of buffers, so disk and network overlap while memory
// stays bounded: when the disk falls copyBuffers×copyChunk behind, the
// upload waits for it.

const (
	copyChunk   = 256 << 10
	copyBuffers = 8 // 2 MiB of plaintext in flight at most
)

// errCopyEnded: a write after finish or abort. net/http may read a request
// body after Do returned (its docs: the body may be closed asynchronously),
// so a late Write must fail, not reach a closed channel or a committed blob.
var errCopyEnded = errors.New("sync: local copy already ended")

// senderCopy is an io.Writer (the upload's TeeReader writes to it); its own
// goroutine writes what it receives to dst in order. finish or abort is
// called as the upload ends, before dst is committed or discarded: dst is
// not touched after they return.
type senderCopy struct {
	dst  io.Writer
	free chan []byte
	full chan []byte
	done chan struct{}

	mu    gosync.Mutex // Write against finish/abort
	cur   []byte
	ended bool

	err     atomic.Pointer[error] // dst's first write error
	discard atomic.Bool           // abort: drop what is still queued
}

func newSenderCopy(dst io.Writer) *senderCopy {
	c := &senderCopy{dst: dst, free: make(chan []byte, copyBuffers), full: make(chan []byte, copyBuffers), done: make(chan struct{})}
	for range copyBuffers {
		c.free <- make([]byte, 0, copyChunk)
	}
	go c.run()
	return c
}

func (c *senderCopy) run() {
	defer close(c.done)
	for b := range c.full {
		if c.err.Load() == nil && !c.discard.Load() {
			if _, err := c.dst.Write(b); err != nil {
				c.err.Store(&err)
			}
		}
		clear(b) // plaintext does not linger in a free buffer
		c.free <- b[:0]
	}
}

// Write queues a copy of p. It fails once dst has failed, so a broken copy
// ends the upload as it did when the copy was written inline.
func (c *senderCopy) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return 0, errCopyEnded
	}
	if e := c.err.Load(); e != nil {
		return 0, *e
	}
	n := len(p)
	for len(p) > 0 {
		if c.cur == nil {
			c.cur = <-c.free
		}
		k := copy(c.cur[len(c.cur):cap(c.cur)], p)
		c.cur = c.cur[:len(c.cur)+k]
		p = p[k:]
		if len(c.cur) == cap(c.cur) {
			c.full <- c.cur
			c.cur = nil
		}
	}
	return n, nil
}

// finish waits until everything queued is written and returns dst's first
// write error. Calling it (or abort) again returns at once.
func (c *senderCopy) finish() error {
	c.mu.Lock()
	if !c.ended {
		c.ended = true
		if len(c.cur) > 0 {
			c.full <- c.cur
		}
		c.cur = nil
		close(c.full)
	}
	c.mu.Unlock()
	<-c.done
	if e := c.err.Load(); e != nil {
		return *e
	}
	return nil
}

// abort stops the copy without writing what is still queued, for an upload
// that failed or was cancelled.
func (c *senderCopy) abort() {
	c.discard.Store(true)
	c.finish()
}
