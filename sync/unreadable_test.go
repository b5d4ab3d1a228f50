package sync

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/hostile"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// onlineTransitions counts how often the device's Session came online.
func (d *device) onlineTransitions() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, e := range d.events {
		if c, ok := e.(ConnectionChanged); ok && c.State.Connectivity == Online {
			n++
		}
	}
	return n
}

// placeholders returns the stored placeholders of unreadable messages in conv.
func (d *device) placeholders(conv string) []securestore.Message {
	var out []securestore.Message
	for _, m := range d.conversation(conv) {
		if m.Extra[ExtraUnreadable] != "" {
			out = append(out, m)
		}
	}
	return out
}

// unreadableAudits returns the audit entries for unreadable messages.
func unreadableAudits(t testing.TB, st *securestore.Store) []securestore.AuditEntry {
	t.Helper()
	log, err := st.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	var out []securestore.AuditEntry
	for _, e := range log {
		if e.Kind == securestore.AuditUnreadable {
			out = append(out, e)
		}
	}
	return out
}

// enqueueOffline puts a message in the outbox of the store at path before
// any Session runs on it, as a message written while offline.
func enqueueOffline(t *testing.T, path, to, body string) {
	t.Helper()
	st := openStore(t, path)
	now := time.Now()
	if _, err := st.Enqueue(securestore.Message{ConversationID: xmpp.BareJID(to), To: xmpp.BareJID(to),
		Direction: securestore.Outgoing, Body: body, OriginID: xmpp.NewID(), Timestamp: now, ReceivedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// maxBody is the largest body a Session can send through the test Prosody
// (c2s_stanza_size_limit 262144 in prosody.cfg.lua.in) with the rest of its
// stanza (ids, receipt request, markable, origin-id) in under 512 bytes.
const maxBody = 262144 - 512

// TestLargestStanzaArchivedStoredWhole (real Prosody): bodies as large as the
// server accepts, sent while the recipient was offline, arrive out of its
// archive bigger than they were sent (the MAM wrapper, and Prosody's escaping
// of every " as &quot;, six times the bytes) and are still read and stored
// whole with the default limits.
func TestLargestStanzaArchivedStoredWhole(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bodies := []string{strings.Repeat("K+ 6.9 ", maxBody/7), strings.Repeat(`"`, maxBody)}
	var ids []securestore.MessageID
	for _, b := range bodies {
		m, err := alice.session.Send(srv.JID("bob"), b, SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	alice.allAtLeast(ids, securestore.ReceiptSent, 20*time.Second)
	bob := startDevice(t, srv, "bob", deviceOptions{})
	bob.waitFor("both large messages", 20*time.Second, func() bool { return len(bob.conversation(srv.JID("alice"))) >= 2 })
	got := bob.conversation(srv.JID("alice"))
	if len(got) != 2 {
		t.Fatalf("%d messages stored", len(got))
	}
	for i, m := range got {
		if m.Body != bodies[i] || m.Extra[ExtraUnreadable] != "" {
			t.Errorf("message %d: %d bytes stored of %d, unreadable %q", i, len(m.Body), len(bodies[i]), m.Extra[ExtraUnreadable])
		}
	}
	if n := bob.onlineTransitions(); n != 1 {
		t.Errorf("bob came online %d times", n)
	}
}

// TestUnreadableArchivedMessageSkipped (real Prosody): a recipient whose
// frame limit (16 KiB here) is below a message waiting for it (in its archive
// and Prosody's offline storage), with good messages before and after it,
// comes online once, stores the good ones once, stores one placeholder in
// the sender's conversation between them (from the sender, no body), audits
// it once without content, and flushes the message it wrote while offline.
func TestUnreadableArchivedMessageSkipped(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	secret := "PATIENT-NAME-" + strings.Repeat("x", 40<<10)
	ids := alice.send(srv.JID("bob"), "good", 3)
	big, err := alice.session.Send(srv.JID("bob"), secret, SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, big.ID)
	for i := 3; i < 6; i++ {
		m, err := alice.session.Send(srv.JID("bob"), fmt.Sprintf("good-%04d", i), SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	alice.allAtLeast(ids, securestore.ReceiptSent, 20*time.Second)

	path := filepath.Join(t.TempDir(), "bob.db")
	enqueueOffline(t, path, srv.JID("alice"), "written while offline")
	bob := startDevice(t, srv, "bob", deviceOptions{storePath: path, limits: xmpp.Limits{MaxFrameBytes: 16 << 10}})
	conv := srv.JID("alice")
	bob.waitFor("six good messages and a placeholder", 20*time.Second, func() bool { return len(bob.conversation(conv)) >= 7 })
	alice.waitFor("bob's offline message", 20*time.Second, func() bool {
		return alice.bodies(srv.JID("bob"), securestore.Incoming)["written while offline"] == 1
	})
	time.Sleep(time.Second) // a reconnect loop, if any, would show now
	if out, err := bob.store.Outbox(); err != nil || len(out) != 0 {
		t.Errorf("outbox after sign-in: %d left (%v)", len(out), err)
	}
	expectExactlyOnce(t, bob.bodies(conv, securestore.Incoming), "good", 6)
	var in []securestore.Message
	for _, m := range bob.conversation(conv) {
		if m.Direction == securestore.Incoming {
			in = append(in, m)
		}
	}
	if len(in) != 7 {
		t.Fatalf("%d incoming messages stored, want 7", len(in))
	}
	// Prosody hands the large message over twice: from offline storage after
	// the initial presence, and in the archive page; whichever came first made
	// the placeholder, the other found it by its ids. (Where the archive copy
	// keeps its place in the page is TestUnreadableArchiveResultKeepsPage's.)
	ph := bob.placeholders(conv)
	if len(ph) != 1 {
		t.Fatalf("%d placeholders", len(ph))
	}
	p := ph[0]
	if p.Extra[ExtraUnreadable] != xmpp.ReasonTooLarge || p.Body != "" || p.OriginID != big.OriginID ||
		!xmpp.SameBare(p.From, conv) || p.Direction != securestore.Incoming {
		t.Errorf("placeholder: %+v", p)
	}
	audits := unreadableAudits(t, bob.store)
	if len(audits) != 1 || !strings.Contains(audits[0].Detail, conv) || !strings.Contains(audits[0].Detail, p.OriginID) ||
		strings.Contains(audits[0].Detail, "PATIENT") {
		t.Errorf("audit: %+v", audits)
	}
	if err := bob.store.VerifyAudit(); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	if n := bob.onlineTransitions(); n != 1 {
		t.Errorf("bob came online %d times", n)
	}
}

// TestUnreadableLiveMessageSkipped (real Prosody): the same for a message
// that arrives live: the stream stays up, the placeholder is stored once in
// the sender's conversation, the message after it arrives.
func TestUnreadableLiveMessageSkipped(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{limits: xmpp.Limits{MaxFrameBytes: 16 << 10}})
	if _, err := alice.session.Send(srv.JID("bob"), strings.Repeat("y", 40<<10), SendOptions{}); err != nil {
		t.Fatal(err)
	}
	alice.send(srv.JID("bob"), "after", 1)
	conv := srv.JID("alice")
	bob.waitFor("the message after", 20*time.Second, func() bool { return bob.bodies(conv, securestore.Incoming)["after-0000"] == 1 })
	time.Sleep(500 * time.Millisecond)
	ph := bob.placeholders(conv)
	if len(ph) != 1 || ph[0].Extra[ExtraUnreadable] != xmpp.ReasonTooLarge || !xmpp.SameBare(ph[0].From, conv) {
		t.Fatalf("placeholders: %+v", ph)
	}
	if n := len(unreadableAudits(t, bob.store)); n != 1 {
		t.Errorf("%d audit entries", n)
	}
	if n := bob.onlineTransitions(); n != 1 {
		t.Errorf("bob came online %d times", n)
	}
}

// badContent is the inside of a message the client cannot read, by kind.
var badContent = map[string]string{
	"oversized": `<body>` + strings.Repeat("A", xmpp.DefaultMaxFrameBytes+1) + `</body>`,
	"deep":      `<x xmlns="urn:example:x">` + strings.Repeat("<b>", 100) + strings.Repeat("</b>", 100) + `</x>`,
	"malformed": `<body>x</bodyy>`,
	"bad-utf8":  "<body>\xff\xfe</body>",
}

var badReason = map[string]string{"oversized": xmpp.ReasonTooLarge, "deep": xmpp.ReasonTooDeep,
	"malformed": xmpp.ReasonMalformed, "bad-utf8": xmpp.ReasonBadUTF8}

// TestHostileUnreadableInArchiveAndLive: a server that sends the same
// unreadable message in every archive page (between two good results) and
// live (between two good messages), on every connection. The Session comes
// online once and stays on that connection, stores the good messages once,
// one placeholder for each unreadable message (the archived one under its
// archive id, in page order), audits each once, and flushes its outbox. A
// second sign-in on the same store fetches the same page and gets the same
// live message again: nothing new is stored or audited.
func TestHostileUnreadableInArchiveAndLive(t *testing.T) {
	for kind, content := range badContent {
		t.Run(kind, func(t *testing.T) {
			badArchived := `<message xmlns="jabber:client" to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="bad-arch"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-11-20T08:00:00Z"/><message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test" id="o-bad-arch">` + content + `</message></forwarded></result></message>`
			badLive := `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test/r1" id="bad-live">` + content + `</message>`
			srv := hostile.Start(hostile.Session{
				MAMResults: []string{archived("", "a1", ""), badArchived, archived("", "a3", "")},
				Frames:     []string{chat("bob@evil.test/x", "m1", "before"), badLive, chat("bob@evil.test/x", "m2", "after")},
			})
			defer srv.Close()
			path := filepath.Join(t.TempDir(), "alice.db")
			d := hostileDeviceAt(t, srv, path)
			if _, err := d.session.Send("bob@evil.test", "sent while signing in", SendOptions{}); err != nil {
				t.Fatal(err)
			}
			d.waitFor("the live message after the bad one", 20*time.Second, func() bool {
				return d.bodies("bob@evil.test", securestore.Incoming)["after"] == 1
			})
			d.waitFor("the outbox flushed", 10*time.Second, func() bool {
				return strings.Contains(strings.Join(srv.Received(), "\n"), "sent while signing in")
			})
			time.Sleep(time.Second) // a reconnect loop, if any, would show now
			if n := srv.Connections(); n != 1 {
				t.Fatalf("%d connections", n)
			}
			if n := d.onlineTransitions(); n != 1 {
				t.Errorf("came online %d times", n)
			}
			if d.session.State().Connectivity != Online {
				t.Errorf("state %v", d.session.State())
			}
			check := func() {
				t.Helper()
				got := d.bodies("bob@evil.test", securestore.Incoming)
				for _, b := range []string{"archived a1", "archived a3", "before", "after"} {
					if got[b] != 1 {
						t.Errorf("%q stored %d times", b, got[b])
					}
				}
				ph := d.placeholders("bob@evil.test")
				if len(ph) != 2 || got[""] != 2 {
					t.Fatalf("%d placeholders (%v)", len(ph), got)
				}
				var arch, live securestore.Message
				for _, m := range ph {
					if m.StanzaID == "bad-arch" {
						arch = m
					} else {
						live = m
					}
				}
				if arch.StanzaIDBy != hostile.Account || arch.OriginID != "o-bad-arch" || arch.From != "bob@evil.test/x" ||
					!arch.Timestamp.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) || arch.Extra[ExtraUnreadable] != badReason[kind] {
					t.Errorf("archived placeholder: %+v", arch)
				}
				if live.OriginID != "bad-live" || live.From != "bob@evil.test/x" || live.Extra[ExtraUnreadable] != badReason[kind] {
					t.Errorf("live placeholder: %+v", live)
				}
				// Page order: the archived placeholder sits between a1 and a3.
				var order []string
				for _, m := range d.conversation("bob@evil.test") {
					if m.StanzaID == "a1" || m.StanzaID == "bad-arch" || m.StanzaID == "a3" {
						order = append(order, m.StanzaID)
					}
				}
				if strings.Join(order, ",") != "a1,bad-arch,a3" {
					t.Errorf("archive order %v", order)
				}
				audits := unreadableAudits(t, d.store)
				if len(audits) != 2 {
					t.Errorf("%d audit entries, want 2", len(audits))
				}
				for _, a := range audits {
					if !strings.Contains(a.Detail, "bob@evil.test/x") || strings.Contains(a.Detail, "AAAA") {
						t.Errorf("audit detail %q", a.Detail)
					}
				}
				if err := d.store.VerifyAudit(); err != nil {
					t.Errorf("audit chain: %v", err)
				}
			}
			check()

			d.stop()
			d = hostileDeviceAt(t, srv, path)
			d.waitFor("the second connection's live messages", 20*time.Second, func() bool {
				return srv.Connections() == 2 && d.session.State().Connectivity == Online
			})
			time.Sleep(time.Second) // the same page and live messages again
			if n := srv.Connections(); n != 2 {
				t.Fatalf("%d connections after one restart", n)
			}
			check()
		})
	}
}

// TestUnreadableRoomMessage (real Prosody): in a room, an unreadable message
// live and one in the room's archive (read at the next sign-in) each leave
// one placeholder in the room's conversation, from the occupant who sent it,
// the archived one under the room's archive id; the messages after them
// arrive and the Session comes online once per sign-in.
func TestUnreadableRoomMessage(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	room := "ward-9@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	path := filepath.Join(t.TempDir(), "bob.db")
	small := xmpp.Limits{MaxFrameBytes: 16 << 10}
	bob := startDevice(t, srv, "bob", deviceOptions{storePath: path, limits: small})
	if err := alice.session.CreateRoom(ctx, room, "ali", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.session.Send(room, strings.Repeat("r", 40<<10), SendOptions{}); err != nil {
		t.Fatal(err)
	}
	alice.send(room, "live-after", 1)
	bob.waitFor("the room message after the large one", 20*time.Second, func() bool {
		return bob.bodies(room, securestore.Incoming)["live-after-0000"] == 1
	})
	if ph := bob.placeholders(room); len(ph) != 1 || ph[0].From != room+"/ali" || ph[0].Direction != securestore.Incoming {
		t.Fatalf("live placeholders: %+v", ph)
	}
	bob.stop()

	big, err := alice.session.Send(room, strings.Repeat("s", 40<<10), SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := alice.send(room, "archived-after", 1)
	alice.allAtLeast(append(ids, big.ID), securestore.ReceiptSent, 20*time.Second)
	bob = startDevice(t, srv, "bob", deviceOptions{storePath: path, limits: small})
	bob.waitFor("the archived room message after the large one", 20*time.Second, func() bool {
		return bob.bodies(room, securestore.Incoming)["archived-after-0000"] == 1
	})
	time.Sleep(500 * time.Millisecond)
	ph := bob.placeholders(room)
	if len(ph) != 2 {
		t.Fatalf("%d placeholders in the room", len(ph))
	}
	var arch securestore.Message
	for _, m := range ph {
		if m.OriginID == big.OriginID {
			arch = m
		}
	}
	if arch.From != room+"/ali" || arch.StanzaID == "" || arch.StanzaIDBy != room || arch.Extra[ExtraUnreadable] != xmpp.ReasonTooLarge {
		t.Errorf("archived placeholder: %+v", arch)
	}
	if n := len(unreadableAudits(t, bob.store)); n != 2 {
		t.Errorf("%d audit entries", n)
	}
	if n := bob.onlineTransitions(); n != 1 {
		t.Errorf("bob came online %d times on the second sign-in", n)
	}
}

// TestUnreadablePageAuditedOnce: an archive page of many unreadable
// messages (a room member's burst of small malformed messages, as the room's
// archive serves them) leaves one placeholder each but one audit entry for
// the page naming each of them: every audit append fsyncs and scrubs the
// file's free pages under the store's exclusive lock, which must not be
// paid per message of a hostile archive.
func TestUnreadablePageAuditedOnce(t *testing.T) {
	const bad = 30
	var results []string
	results = append(results, archived("", "a0", ""))
	for i := range bad {
		id := fmt.Sprintf("bad-%d", i)
		results = append(results, `<message xmlns="jabber:client" to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="`+id+`"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-11-20T08:00:00Z"/><message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test" id="o-`+id+`">`+badContent["deep"]+`</message></forwarded></result></message>`)
	}
	results = append(results, archived("", "a1", ""))
	srv := hostile.Start(hostile.Session{MAMResults: results})
	defer srv.Close()
	d := hostileDeviceAt(t, srv, filepath.Join(t.TempDir(), "alice.db"))
	d.waitFor("the page stored", 20*time.Second, func() bool {
		return d.bodies("bob@evil.test", securestore.Incoming)["archived a1"] == 1
	})
	if n := len(d.placeholders("bob@evil.test")); n != bad {
		t.Fatalf("%d placeholders, want %d", n, bad)
	}
	d.waitFor("the page audited", 10*time.Second, func() bool { return len(unreadableAudits(t, d.store)) > 0 })
	time.Sleep(time.Second) // entries per message, if any, would all be there now
	audits := unreadableAudits(t, d.store)
	if len(audits) != 1 {
		t.Fatalf("%d audit entries for one page of %d unreadable messages, want 1", len(audits), bad)
	}
	for i := range bad {
		if !strings.Contains(audits[0].Detail, fmt.Sprintf("stanza-id \"bad-%d\"", i)) {
			t.Errorf("the page's audit entry does not name bad-%d", i)
		}
	}
	if err := d.store.VerifyAudit(); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
}

// TestUnreadablePlaceholderAuditedWithIt: a placeholder and its audit entry
// are one commit. At the crash points right after a live placeholder
// committed and right after an archive page holding one committed, the
// store already holds the audit entry of every placeholder it holds: a crash
// there cannot leave a placeholder never audited. (Before, the audit was a
// second transaction after the placeholder's.)
func TestUnreadablePlaceholderAuditedWithIt(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	conv := srv.JID("alice")
	type seen struct{ placeholders, audits int }
	var mu gosync.Mutex
	var at []seen
	var bob *device
	look := func(st *securestore.Store) {
		var n int
		msgs, err := st.Latest(conv, 100)
		if err != nil {
			t.Error(err)
		}
		for _, m := range msgs {
			if m.Extra[ExtraUnreadable] != "" {
				n++
			}
		}
		named := 0 // placeholders named by audit entries (one entry per batch)
		for _, e := range unreadableAudits(t, st) {
			named += strings.Count(e.Detail, "could not be read")
		}
		mu.Lock()
		at = append(at, seen{n, named})
		mu.Unlock()
	}
	opts := deviceOptions{storePath: filepath.Join(t.TempDir(), "bob.db"), limits: xmpp.Limits{MaxFrameBytes: 16 << 10}, atCrashPoint: look}
	bob = startDevice(t, srv, "bob", opts)
	if _, err := alice.session.Send(srv.JID("bob"), "LIVEPHI "+strings.Repeat("y", 40<<10), SendOptions{}); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the live placeholder", 20*time.Second, func() bool { return len(bob.placeholders(conv)) == 1 })
	bob.stop()

	m, err := alice.session.Send(srv.JID("bob"), "ARCHPHI "+strings.Repeat("z", 40<<10), SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.allAtLeast([]securestore.MessageID{m.ID}, securestore.ReceiptSent, 20*time.Second)
	bob = startDevice(t, srv, "bob", opts)
	bob.waitFor("the archived placeholder", 20*time.Second, func() bool { return len(bob.placeholders(conv)) == 2 })

	mu.Lock()
	defer mu.Unlock()
	var live, archived bool
	for _, s := range at {
		if s.placeholders != s.audits {
			t.Errorf("at a crash point: %d placeholders stored, %d audited", s.placeholders, s.audits)
		}
		live = live || s.placeholders == 1
		archived = archived || s.placeholders == 2
	}
	if !live || !archived {
		t.Fatalf("crash points seen: %+v (want one after each placeholder)", at)
	}
	if n := len(unreadableAudits(t, bob.store)); n != 2 {
		t.Errorf("%d audit entries, want 2", n)
	}
}
