package sync

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/hostile"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// hostileDevice runs a Session against a hostile server.
func hostileDevice(t *testing.T, srv *hostile.Server) *device {
	t.Helper()
	return hostileDeviceAt(t, srv, filepath.Join(t.TempDir(), "alice.db"))
}

// hostileDeviceAt runs a Session on the store at path (made if missing)
// against a hostile server; its events are recorded as startDevice's are.
func hostileDeviceAt(t *testing.T, srv *hostile.Server, path string) *device {
	t.Helper()
	return hostileDeviceBefore(t, srv, path, nil)
}

// hostileDeviceBefore is hostileDeviceAt with beforeRun run on the Session
// before Run (to set its test hooks).
func hostileDeviceBefore(t *testing.T, srv *hostile.Server, path string, beforeRun func(*device)) *device {
	t.Helper()
	d := &device{t: t, jid: hostile.Account, path: path, notify: make(chan struct{}, 1), done: make(chan error, 1)}
	d.store = openStore(t, path)
	s, err := New(Config{Store: d.store, XMPP: xmpp.Config{URL: srv.URL(), JID: hostile.Account, TLSConfig: srv.TLSConfig(),
		Credentials: xmpp.Credentials{Password: "pw"}}, Backoff: Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	d.session = s
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		for e := range s.Events() {
			d.mu.Lock()
			d.events = append(d.events, e)
			d.mu.Unlock()
			select {
			case d.notify <- struct{}{}:
			default:
			}
		}
	}()
	if beforeRun != nil {
		beforeRun(d)
	}
	go func() { d.done <- s.Run(ctx) }()
	t.Cleanup(d.stop)
	return d
}

func chat(from, id, body string) string {
	return `<message xmlns="jabber:client" type="chat" from="` + from + `" to="alice@evil.test/r1" id="` + id + `"><body>` + body + `</body><origin-id xmlns="urn:xmpp:sid:0" id="` + id + `"/></message>`
}

func archived(from, id, body string) string {
	fromAttr := ""
	if from != "" {
		fromAttr = ` from="` + from + `"`
	}
	return `<message xmlns="jabber:client"` + fromAttr + ` to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="` + id + `"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-11-20T08:00:00Z"/><message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test" id="o-` + id + `"><body>` + "archived " + id + `</body></message></forwarded></result></message>`
}

// TestHostileServerSpoofsAreNotStored: a carbon and an archive result that do
// not come from the account's own server are dropped; genuine ones stored.
func TestHostileServerSpoofsAreNotStored(t *testing.T) {
	srv := hostile.Start(hostile.Session{
		MAMResults: []string{
			archived("", "a1", ""),
			archived("mallory@evil.test", "a2", ""),
			archived("alice@evil.test", "a3", ""),
		},
		Frames: []string{
			`<message xmlns="jabber:client" from="mallory@evil.test/x" to="alice@evil.test/r1"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="chief@evil.test/x" to="alice@evil.test" type="chat" id="spoof"><body>give 10x dose</body></message></forwarded></received></message>`,
			chat("bob@evil.test/x", "live1", "genuine live"),
		},
	})
	defer srv.Close()
	d := hostileDevice(t, srv)
	d.waitFor("genuine live message", 10*time.Second, func() bool { return len(d.conversation("bob@evil.test")) >= 3 })
	time.Sleep(200 * time.Millisecond)
	got := map[string]bool{}
	for _, m := range d.conversation("bob@evil.test") {
		got[m.Body] = true
	}
	for _, want := range []string{"archived a1", "archived a3", "genuine live"} {
		if !got[want] {
			t.Errorf("genuine %q not stored (have %v)", want, got)
		}
	}
	if got["archived a2"] {
		t.Error("an archive result from mallory was stored")
	}
	if msgs := d.conversation("chief@evil.test"); len(msgs) != 0 {
		t.Errorf("spoofed carbon stored: %+v", msgs)
	}
}

// TestHostileFramesLeaveStoreIntact: malformed, oversized, deep or non-UTF-8
// frames, sent again on every connection, are skipped: the Session stays on
// its first connection (no reconnect loop), what came before and after is
// stored once, a message whose sender could be read leaves one placeholder,
// and the audit chain holds.
func TestHostileFramesLeaveStoreIntact(t *testing.T) {
	bad := map[string]string{
		"malformed": `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" id="bad"><body>x</message>`,
		"bad-utf8":  "<message xmlns=\"jabber:client\" type=\"chat\" from=\"bob@evil.test/x\" id=\"bad\"><body>\xff\xfe</body></message>",
		"oversized": `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" id="bad"><body>` + strings.Repeat("A", xmpp.DefaultMaxFrameBytes+1) + `</body></message>`,
		"deep":      `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" id="bad">` + strings.Repeat("<b>", 100) + strings.Repeat("</b>", 100) + `</message>`,
		"markup":    `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" id="bad"><body><img src="http://x/"/></body></message><extra/>`,
		"no-sender": `<message xmlns="jabber:client"><body>x</message>`,
	}
	for name, frame := range bad {
		t.Run(name, func(t *testing.T) {
			// One Session: every connection gets the bad frame again.
			srv := hostile.Start(hostile.Session{Frames: []string{chat("bob@evil.test/x", "m1", "before"), frame, chat("bob@evil.test/x", "m2", "after")}})
			defer srv.Close()
			d := hostileDevice(t, srv)
			d.waitFor("the message after the bad one", 20*time.Second, func() bool {
				return d.bodies("bob@evil.test", securestore.Incoming)["after"] == 1
			})
			time.Sleep(time.Second) // a reconnect loop, if any, would show now
			if n := srv.Connections(); n != 1 {
				t.Fatalf("%d connections: the bad frame ended the stream", n)
			}
			got := d.bodies("bob@evil.test", securestore.Incoming)
			wantPlaceholders := 1
			if name == "no-sender" {
				wantPlaceholders = 0
			}
			if got["before"] != 1 || got["after"] != 1 || got[""] != wantPlaceholders || len(got) != 2+wantPlaceholders {
				t.Fatalf("store after %s: %v", name, got)
			}
			if n := len(unreadableAudits(t, d.store)); n != wantPlaceholders {
				t.Errorf("%d audit entries for unreadable messages, want %d", n, wantPlaceholders)
			}
			if err := d.store.VerifyAudit(); err != nil {
				t.Fatalf("audit chain: %v", err)
			}
		})
	}
}
