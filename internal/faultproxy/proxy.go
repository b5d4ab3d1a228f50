// Package faultproxy is a TCP proxy for fault tests: it sits between a client and a
// real server on loopback and can cut every connection abruptly (as a Wi-Fi
// handover or a dead access point does), or swallow traffic silently (a socket
// that looks open but delivers nothing), so tests can prove nothing is lost.
package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards every connection accepted on Addr to the target (or dial's).
type Proxy struct {
	dial func() (net.Conn, error)
	ln   net.Listener

	// delay and jitter (nanoseconds) hold back every chunk in each direction
	// (SetLatency).
	delay, jitter atomic.Int64

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	refusing bool
	black    atomic.Bool
	accepted atomic.Int64
	wg       sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return Serve(ln, func() (net.Conn, error) { return net.DialTimeout("tcp", target, 5*time.Second) }), nil
}

// Serve forwards every connection accepted on ln to a connection from dial
// (a dialer in another network namespace, for the ward Wi-Fi tests). Close
// closes ln.
func Serve(ln net.Listener, dial func() (net.Conn, error)) *Proxy {
	p := &Proxy{dial: dial, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

// SetLatency holds back every chunk read, in each direction, by delay plus a
// uniform random extra in [-jitter, +jitter] (never below zero), keeping the
// order of the bytes as TCP does: a chunk never overtakes the one before it.
// It applies to chunks read from now on; zero turns it off.
func (p *Proxy) SetLatency(delay, jitter time.Duration) {
	p.delay.Store(int64(delay))
	p.jitter.Store(int64(jitter))
}

// Addr is host:port to dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted counts connections accepted so far (reconnect tests assert on it).
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.mu.Lock()
		refusing := p.refusing
		p.mu.Unlock()
		if refusing {
			abort(c)
			continue
		}
		up, err := p.dial()
		if err != nil {
			abort(c)
			continue
		}
		p.track(c, up)
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

func (p *Proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

// pipe copies src to dst; while black-holed, bytes are read and dropped.
// With a latency set, a writer releases each chunk at its due time, in order;
// the bounded queue between them pushes back on the reader as a slow link does.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	type chunk struct {
		b   []byte
		due time.Time
	}
	q := make(chan chunk, 64)
	werr := make(chan error, 1)
	go func() {
		var err error
		for c := range q {
			if err != nil {
				continue
			}
			if d := time.Until(c.due); d > 0 {
				time.Sleep(d)
			}
			_, err = dst.Write(c.b)
		}
		werr <- err
	}()
	var last time.Time
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.black.Load() {
			due := time.Now().Add(p.lag())
			if due.Before(last) {
				due = last
			}
			last = due
			q <- chunk{append([]byte(nil), buf[:n]...), due}
		}
		if err != nil {
			close(q)
			if e := <-werr; e != nil && errors.Is(err, io.EOF) {
				err = e
			}
			if !errors.Is(err, io.EOF) {
				abort(dst)
			} else if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			p.forget(src)
			return
		}
	}
}

// lag is one chunk's hold: the delay plus its jitter.
func (p *Proxy) lag() time.Duration {
	d, j := p.delay.Load(), p.jitter.Load()
	if j > 0 {
		d += rand.Int64N(2*j+1) - j
	}
	return time.Duration(max(d, 0))
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// Cut resets every open connection at once, both sides, mid-stream.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns) / 2
	for c := range p.conns {
		abort(c)
		delete(p.conns, c)
	}
	return n
}

// Refuse makes new connections fail at once (server unreachable) until
// Refuse(false).
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refusing = on
	p.mu.Unlock()
}

// Blackhole drops all traffic in both directions without closing anything, like a
// socket whose network vanished; only keepalives and ack timeouts can notice.
func (p *Proxy) Blackhole(on bool) { p.black.Store(on) }

// Close stops listening and cuts everything.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// abort closes with SO_LINGER 0 so the peer sees a reset, not a clean FIN.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
