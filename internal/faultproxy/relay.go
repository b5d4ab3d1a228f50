package faultproxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Relay is a WebSocket (RFC 7395, subprotocol "xmpp") relay between a client
// and a real server: it forwards each text frame, and a test may look at,
// drop, change or answer any of them, to play a server that misbehaves in
// ways a real one does only rarely (acknowledging a message and losing it,
// never answering a resume). Frames are whole XMPP elements, so a test's
// hooks work on text, not bytes.
type Relay struct {
	srv    *httptest.Server
	target string

	mu    sync.Mutex
	up    func(frame string) (forward []string, answer []string)
	down  func(frame string) []string
	conns map[*websocket.Conn]struct{}
	seen  []string
}

// StartRelay relays every WebSocket accepted on a loopback port to target
// (ws:// or wss:// URL of the real server).
func StartRelay(target string) *Relay {
	r := &Relay{target: target, conns: map[*websocket.Conn]struct{}{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the ws:// URL clients connect to instead of the target.
func (r *Relay) URL() string { return "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/ws" }

// OnUp sets what happens to each client→server frame: forward goes on to the
// server (nil hook: the frame as is), answer goes back to the client as if
// the server had said it.
func (r *Relay) OnUp(f func(frame string) (forward []string, answer []string)) {
	r.mu.Lock()
	r.up = f
	r.mu.Unlock()
}

// OnDown sets what happens to each server→client frame: the frames returned
// go to the client (nil hook: the frame as is).
func (r *Relay) OnDown(f func(frame string) []string) {
	r.mu.Lock()
	r.down = f
	r.mu.Unlock()
}

// Up lists every client→server frame the relay received, in order (before
// any hook), on every connection.
func (r *Relay) Up() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// Cut closes every relayed connection abruptly on both sides and returns how
// many there were.
func (r *Relay) Cut() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.conns)
	for c := range r.conns {
		_ = c.CloseNow()
		delete(r.conns, c)
	}
	return n / 2
}

// Close stops accepting and cuts what is open.
func (r *Relay) Close() {
	r.Cut()
	r.srv.Close()
}

func (r *Relay) serve(w http.ResponseWriter, req *http.Request) {
	client, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		return
	}
	client.SetReadLimit(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server, _, err := websocket.Dial(ctx, r.target, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		_ = client.CloseNow()
		return
	}
	server.SetReadLimit(-1)
	r.mu.Lock()
	r.conns[client], r.conns[server] = struct{}{}, struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.conns, client)
		delete(r.conns, server)
		r.mu.Unlock()
		_ = client.CloseNow()
		_ = server.CloseNow()
	}()
	// One writer per socket at a time: answers to the client come from the
	// up direction's goroutine, forwarded frames from the down one.
	var clientMu sync.Mutex
	toClient := func(frames []string) error {
		clientMu.Lock()
		defer clientMu.Unlock()
		for _, f := range frames {
			if err := client.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
				return err
			}
		}
		return nil
	}
	go func() {
		defer cancel()
		for {
			_, b, err := server.Read(ctx)
			if err != nil {
				return
			}
			frame := string(b)
			out := []string{frame}
			r.mu.Lock()
			if r.down != nil {
				out = r.down(frame)
			}
			r.mu.Unlock()
			if toClient(out) != nil {
				return
			}
		}
	}()
	for {
		_, b, err := client.Read(ctx)
		if err != nil {
			return
		}
		frame := string(b)
		fwd, answer := []string{frame}, []string(nil)
		r.mu.Lock()
		r.seen = append(r.seen, frame)
		if r.up != nil {
			fwd, answer = r.up(frame)
		}
		r.mu.Unlock()
		for _, f := range fwd {
			if server.Write(ctx, websocket.MessageText, []byte(f)) != nil {
				return
			}
		}
		if toClient(answer) != nil {
			return
		}
	}
}
