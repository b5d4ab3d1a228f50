//go:build unix

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// secretFile writes a password file with the given mode.
func secretFile(t *testing.T, password string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bot.secret")
	if err := os.WriteFile(p, []byte(password+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	return p
}

// botArgs are the sign-in flags for user on srv, with its own state dir.
func botArgs(t *testing.T, srv *testserver.Server, user, stateDir string) []string {
	t.Helper()
	return []string{"--account", srv.JID(user), "--secret-file", secretFile(t, testserver.Password, 0o600),
		"--server", srv.WSURL(), "--state-dir", stateDir, "--connect-timeout", "30s"}
}

// peer is a second Rounds client in a test: a person the bot pages. It runs a
// real sync.Session against the same server and reacts to what it receives.
// (That is why these tests import sync and securestore: the peers and the
// look into a bot's slot do; the commands under test reach them only
// through app.)
type peer struct {
	t       *testing.T
	jid     string
	store   *securestore.Store
	session *sync.Session
	cancel  context.CancelFunc
	done    chan error

	mu       gosync.Mutex
	events   []sync.Event
	received []securestore.Message
	notify   chan struct{}
}

// startPeer signs user in; onMessage runs (on the peer's event goroutine) for
// every incoming message.
func startPeer(t *testing.T, srv *testserver.Server, user string, onMessage func(p *peer, m securestore.Message)) *peer {
	t.Helper()
	return startPeerAt(t, xmpp.Config{URL: srv.WSURL(), JID: srv.JID(user), Resource: "phone",
		Credentials: xmpp.Credentials{Password: testserver.Password}}, onMessage)
}

// startPeerAt signs in with cfg (any server, e.g. one started from a
// generated configuration).
func startPeerAt(t *testing.T, cfg xmpp.Config, onMessage func(p *peer, m securestore.Message)) *peer {
	t.Helper()
	user, _, _ := strings.Cut(cfg.JID, "@")
	st, err := securestore.Create(filepath.Join(t.TempDir(), user+".db"), []byte("2468"),
		securestore.Options{KDF: app.SlotKDF, Secrets: app.NoKeySecrets{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sync.New(sync.Config{Store: st, XMPP: cfg,
		Backoff: sync.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{t: t, jid: cfg.JID, store: st, session: s, cancel: cancel, done: make(chan error, 1), notify: make(chan struct{}, 1)}
	go func() {
		for e := range s.Events() {
			p.mu.Lock()
			p.events = append(p.events, e)
			var in []securestore.Message
			if ma, ok := e.(sync.MessagesAdded); ok {
				for _, m := range ma.Messages {
					if m.Direction == securestore.Incoming {
						in = append(in, m)
					}
				}
				p.received = append(p.received, in...)
			}
			p.mu.Unlock()
			for _, m := range in {
				if onMessage != nil {
					onMessage(p, m)
				}
			}
			select {
			case p.notify <- struct{}{}:
			default:
			}
		}
	}()
	go func() { p.done <- s.Run(ctx) }()
	t.Cleanup(p.stop)
	p.waitFor("online", func() bool { return s.State().Connectivity == sync.Online })
	return p
}

func (p *peer) stop() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s: session did not stop", p.jid)
	}
	p.cancel = nil
	_ = p.store.Close()
}

func (p *peer) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-p.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			p.t.Fatalf("%s: timed out waiting for %s", p.jid, what)
		}
	}
}

func (p *peer) messages() []securestore.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]securestore.Message(nil), p.received...)
}

func (p *peer) eventsSeen() []sync.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sync.Event(nil), p.events...)
}

// read marks a message displayed, as a person opening it would.
func read(p *peer, m securestore.Message) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.session.MarkDisplayed(ctx, m.ConversationID, m.ID); err != nil {
			p.t.Logf("%s: mark displayed: %v", p.jid, err)
		}
	}()
}
