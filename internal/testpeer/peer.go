// Package testpeer drives a scripted foreign XMPP client (Debian's python3-slixmpp)
// for interop tests: a client Rounds did not write, on the same real server.
package testpeer

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

//go:embed peer.py
var script []byte

// Python is Debian's interpreter, which has python3-slixmpp; a python3 earlier on
// PATH (pyenv) would not.
const Python = "/usr/bin/python3"

// Options say whom the peer signs in as and where.
type Options struct {
	JID, Password string
	// Addr is the server's c2s host:port; CAFile its certificate, verified on
	// STARTTLS.
	Addr, CAFile string
	// AutoDisplayed answers every markable message with a displayed marker.
	AutoDisplayed bool
}

// Event is one JSON line the peer printed.
type Event struct {
	Event          string       `json:"event"`
	JID            string       `json:"jid,omitempty"`
	From           string       `json:"from,omitempty"`
	Type           string       `json:"type,omitempty"`
	ID             string       `json:"id,omitempty"`
	Body           string       `json:"body,omitempty"`
	OriginID       string       `json:"origin_id,omitempty"`
	StanzaID       string       `json:"stanza_id,omitempty"`
	StanzaIDBy     string       `json:"stanza_id_by,omitempty"`
	ReceiptRequest bool         `json:"receipt_requested,omitempty"`
	Markable       bool         `json:"markable,omitempty"`
	Error          string       `json:"error,omitempty"`
	Count          int          `json:"count,omitempty"`
	Messages       []MAMMessage `json:"messages,omitempty"`
	CPUSeconds     float64      `json:"cpu_seconds,omitempty"`
	URL            string       `json:"url,omitempty"`    // uploaded: the aesgcm:// link sent
	SHA256         string       `json:"sha256,omitempty"` // downloaded: hex SHA-256 of the plaintext
	WallSeconds    float64      `json:"wall_seconds,omitempty"`
	// Fallbacks are a received message's XEP-0428 ranges (code points).
	Fallbacks []Fallback `json:"fallbacks,omitempty"`
}

// Fallback is one <fallback for><body start end/></fallback> range.
type Fallback struct {
	For   string `json:"for"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// MAMMessage is one archived message as slixmpp read it.
type MAMMessage struct {
	From     string `json:"from"`
	Body     string `json:"body"`
	ID       string `json:"id"`
	OriginID string `json:"origin_id"`
	StanzaID string `json:"stanza_id"`
}

// Peer is a running slixmpp client.
type Peer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan Event
	stderr *lockedBuffer
	done   chan struct{}
}

// ErrSlixmppMissing means python3-slixmpp is not installed (make test installs it).
var ErrSlixmppMissing = errors.New("testpeer: /usr/bin/python3 with slixmpp is not installed (apt-get install python3-slixmpp)")

// Start launches the peer and waits until it has signed in.
func Start(ctx context.Context, dir string, o Options) (*Peer, error) {
	if err := exec.Command(Python, "-c", "import slixmpp").Run(); err != nil {
		return nil, ErrSlixmppMissing
	}
	path := filepath.Join(dir, "rounds-peer.py")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]any{
		"jid": o.JID, "password": o.Password, "addr": o.Addr, "cafile": o.CAFile, "auto_displayed": o.AutoDisplayed,
	})
	cmd := exec.Command(Python, path, string(cfg))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Peer{cmd: cmd, stdin: stdin, events: make(chan Event, 100000), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				p.events <- e
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	ready, err := p.Next(ctx, func(e Event) bool { return e.Event == "ready" })
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("testpeer: sign-in: %w", err)
	}
	_ = ready
	return p, nil
}

// Send sends a chat message with the given id (also its origin-id), requesting a
// receipt and marked markable.
func (p *Peer) Send(to, body, id string) error {
	return p.command(map[string]any{"cmd": "send", "to": to, "body": body, "id": id})
}

// Reply sends an XEP-0461 reply to message replyID (by replyTo): quote
// then body, the quote marked as the reply's XEP-0428 fallback, as
// Conversations does.
func (p *Peer) Reply(to, quote, body, id, replyTo, replyID string) error {
	return p.command(map[string]any{"cmd": "reply", "to": to, "quote": quote, "body": body, "id": id,
		"reply_to": replyTo, "reply_id": replyID})
}

// React sends an XEP-0444 reaction set (the whole set; empty withdraws)
// to message reactID, without a body.
func (p *Peer) React(to, id, reactID string, reactions []string) error {
	if reactions == nil {
		reactions = []string{}
	}
	return p.command(map[string]any{"cmd": "react", "to": to, "id": id, "react_id": reactID, "reactions": reactions})
}

// SendDisplayed sends a XEP-0333 displayed marker for message id.
func (p *Peer) SendDisplayed(to, id string) error {
	return p.command(map[string]any{"cmd": "displayed", "to": to, "id": id})
}

// MAM reads the peer's whole archive (with one correspondent if with != "").
func (p *Peer) MAM(ctx context.Context, with string, countOnly bool) (Event, error) {
	if err := p.command(map[string]any{"cmd": "mam", "with": with, "count_only": countOnly}); err != nil {
		return Event{}, err
	}
	return p.Next(ctx, func(e Event) bool { return e.Event == "mam" })
}

// Upload encrypts the file at path with slixmpp's XEP-0454 code, uploads it
// through the XEP-0363 service, and sends the aesgcm:// link to `to` (body and
// XEP-0066 OOB). The returned event's URL is the link.
func (p *Peer) Upload(ctx context.Context, service, to, path, filename string) (Event, error) {
	if err := p.command(map[string]any{"cmd": "upload", "service": service, "to": to, "path": path, "filename": filename}); err != nil {
		return Event{}, err
	}
	return p.Next(ctx, func(e Event) bool { return e.Event == "uploaded" })
}

// UploadPlain uploads the file at path as it is (no XEP-0454) and sends its
// https:// link to `to` (body and XEP-0066 OOB), as clients without file
// encryption do. The returned event's URL is the link.
func (p *Peer) UploadPlain(ctx context.Context, service, to, path, filename string) (Event, error) {
	if err := p.command(map[string]any{"cmd": "upload", "plain": true, "service": service, "to": to, "path": path, "filename": filename}); err != nil {
		return Event{}, err
	}
	return p.Next(ctx, func(e Event) bool { return e.Event == "uploaded" })
}

// Download fetches an aesgcm:// link, decrypts it with slixmpp's XEP-0454 code
// and writes the plaintext to path. The event's Count is its size, SHA256 its hash.
func (p *Peer) Download(ctx context.Context, url, path string) (Event, error) {
	if err := p.command(map[string]any{"cmd": "download", "url": url, "path": path}); err != nil {
		return Event{}, err
	}
	return p.Next(ctx, func(e Event) bool { return e.Event == "downloaded" })
}

// Invite sends an XEP-0249 direct invitation to room through slixmpp's
// plugin. Invitations received arrive as Event "invite" (From, JID = the
// room, Body = the reason).
func (p *Peer) Invite(to, room, reason string) error {
	return p.command(map[string]any{"cmd": "invite", "to": to, "room": room, "reason": reason})
}

func (p *Peer) command(c map[string]any) error {
	b, _ := json.Marshal(c)
	_, err := p.stdin.Write(append(b, '\n'))
	return err
}

// Next returns the first event matching want, discarding others; an "error" event
// from the peer fails at once.
func (p *Peer) Next(ctx context.Context, want func(Event) bool) (Event, error) {
	for {
		select {
		case e := <-p.events:
			if e.Event == "error" {
				return e, fmt.Errorf("testpeer: peer error: %s", e.Error)
			}
			if want(e) {
				return e, nil
			}
		case <-p.done:
			return Event{}, fmt.Errorf("testpeer: peer exited: %s", p.stderr.String())
		case <-ctx.Done():
			return Event{}, fmt.Errorf("testpeer: %w; stderr: %s", ctx.Err(), p.stderr.String())
		}
	}
}

// Events is the raw event stream, for tests that collect many.
func (p *Peer) Events() <-chan Event { return p.events }

// Close signs the peer out and waits for it to exit.
func (p *Peer) Close() {
	_ = p.command(map[string]any{"cmd": "quit"})
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
