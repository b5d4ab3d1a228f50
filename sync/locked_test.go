package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// lockDevice does what the app's Lock does: the receive key from the open
// store, the locked inbox opened with it, the Session told, the store closed.
func lockDevice(t *testing.T, d *device) *securestore.Inbox {
	t.Helper()
	pub, err := d.store.ReceiveKey()
	if err != nil {
		t.Fatal(err)
	}
	q, err := securestore.OpenInbox(d.path, pub, securestore.Options{KDF: testKDF, Secrets: noSecrets{}})
	if err != nil {
		t.Fatal(err)
	}
	d.session.Lock(q)
	if err := d.store.Close(); err != nil {
		t.Fatal(err)
	}
	return q
}

// unlockDevice does what the app's Unlock does: the locked Session ends, the
// store reopens, a new Session merges the inbox and signs in.
func unlockDevice(t *testing.T, srv *testserver.Server, d *device, q *securestore.Inbox, url string) (*device, int) {
	t.Helper()
	d.stop()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	merged := -1
	nd := startDevice(t, srv, "alice", deviceOptions{url: url, storePath: d.path, beforeRun: func(s *Session) {
		n, err := s.MergeLockedInbox()
		if err != nil {
			t.Errorf("merge: %v", err)
		}
		merged = n
	}})
	return nd, merged
}

func (d *device) arrivedLocked() []ArrivedLocked {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []ArrivedLocked
	for _, e := range d.events {
		if a, ok := e.(ArrivedLocked); ok {
			out = append(out, a)
		}
	}
	return out
}

func (d *device) sendLevel(conv, body string, u securestore.Urgency) securestore.MessageID {
	d.t.Helper()
	m, err := d.session.Send(conv, body, SendOptions{Urgency: u})
	if err != nil {
		d.t.Fatal(err)
	}
	return m.ID
}

// TestLockedSessionReceivesAndMerges: a locked Session stays online and
// takes a STAT page and a routine message: each is sealed into the locked
// inbox (neither file holds the text), announced as ArrivedLocked with its
// level only, and acknowledged to the sender as delivered, never as read.
// At unlock a new Session merges both into the store, once, with their
// clinical fields, and the inbox is gone; the catch-up after sign-in
// (which fetches them again from the archive) adds no copy.
func TestLockedSessionReceivesAndMerges(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	q := lockDevice(t, alice)

	const stat = "STAT bed 12 potassium 6.9"
	idStat := bob.sendLevel(alice.jid, stat, securestore.UrgencyCritical)
	idRoutine := bob.sendLevel(alice.jid, "routine while locked", securestore.UrgencyNormal)
	bob.allAtLeast([]securestore.MessageID{idStat, idRoutine}, securestore.ReceiptDelivered, 20*time.Second)
	alice.waitFor("two arrivals while locked", 10*time.Second, func() bool { return len(alice.arrivedLocked()) == 2 })
	got := alice.arrivedLocked()
	if got[0].Urgency != securestore.UrgencyCritical || !got[0].AckRequired || got[1].Urgency != securestore.UrgencyNormal {
		t.Fatalf("arrivals %+v", got)
	}
	if alice.session.State().Connectivity != Online {
		t.Fatal("locked session went offline")
	}
	if q.Len() != 2 {
		t.Fatalf("inbox holds %d entries", q.Len())
	}
	for _, f := range []string{alice.path, securestore.InboxPath(alice.path)} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("potassium")) || bytes.Contains(raw, []byte("bob@")) {
			t.Fatalf("%s holds the text or the sender in clear", f)
		}
	}
	time.Sleep(300 * time.Millisecond) // a marker would follow the receipt at once
	if s := bob.receiptState(idStat); s != securestore.ReceiptDelivered {
		t.Fatalf("sender sees %v for a page nobody read", s)
	}

	alice2, merged := unlockDevice(t, srv, alice, q, "")
	if merged != 2 {
		t.Fatalf("merged %d entries", merged)
	}
	if _, err := os.Stat(securestore.InboxPath(alice2.path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("inbox left after the merge: %v", err)
	}
	msgs := alice2.conversation(bob.jid)
	if len(msgs) != 2 || msgs[0].Body != stat || msgs[0].Urgency != securestore.UrgencyCritical || msgs[0].Extra[ExtraAck] != "required" {
		t.Fatalf("after the merge: %+v", msgs)
	}
	if msgs[0].StanzaID == "" {
		t.Fatal("merged message lost the server's stanza-id (dedupe against the archive needs it)")
	}
	time.Sleep(500 * time.Millisecond) // the catch-up has run (online), let its events land
	if n := len(alice2.conversation(bob.jid)); n != 2 {
		t.Fatalf("%d messages after catch-up: the archive copy was stored again", n)
	}
	if s := bob.receiptState(idStat); s != securestore.ReceiptDelivered {
		t.Fatalf("sender sees %v after the unlock without a read", s)
	}
}

// TestLockedCutSocketLosesNothing: while locked the socket is cut twice,
// once so that the stream resumes (XEP-0198 replays what was not acked:
// sealed twice, merged once) and once with the server restarted, so the
// locked Session signs in afresh without catch-up while the sender's
// messages wait in the archive. After the unlock every message is in the
// store exactly once, and the arrivals announced while locked count each
// message once.
func TestLockedCutSocketLosesNothing(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	proxy, url := proxiedURL(t, srv)
	alice := startDevice(t, srv, "alice", deviceOptions{url: url})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	q := lockDevice(t, alice)

	const n = 20
	ids := bob.send(alice.jid, "one", n)
	proxy.Cut()
	ids = append(ids, bob.send(alice.jid, "two", n)...)
	alice.waitOnline()
	bob.allAtLeast(ids, securestore.ReceiptSent, 30*time.Second)

	proxy.Refuse(true) // alice stays away while "three" is sent
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, bob.send(alice.jid, "three", n)...)
	bob.allAtLeast(ids, securestore.ReceiptSent, 60*time.Second)
	proxy.Refuse(false)
	alice.waitOnline()
	ids4 := bob.send(alice.jid, "four", n)
	bob.allAtLeast(ids4, securestore.ReceiptDelivered, 30*time.Second)
	if !alice.session.Locked() {
		t.Fatal("session lost its locked mode")
	}
	if a := len(alice.arrivedLocked()); a > 4*n {
		t.Fatalf("%d arrivals announced for at most %d messages", a, 4*n)
	}

	alice2, merged := unlockDevice(t, srv, alice, q, url)
	t.Logf("%d entries merged, %d arrivals announced while locked", merged, len(alice.arrivedLocked()))
	alice2.waitFor("every message", 60*time.Second, func() bool { return len(alice2.bodies(bob.jid, securestore.Incoming)) >= 4*n })
	time.Sleep(300 * time.Millisecond)
	got := alice2.bodies(bob.jid, securestore.Incoming)
	for _, p := range []string{"one", "two", "three", "four"} {
		expectExactlyOnce(t, got, p, n)
	}
}

// TestLockedEntryRoundTrip: what sealArrival encodes, decodeLockedEntry
// reads back into the same message (clinical fields, ids, carbon
// direction); damaged entries are errors, never panics.
func TestLockedEntryRoundTrip(t *testing.T) {
	frame := []byte(`<message xmlns='jabber:client' from='bob@example.org/ph' to='alice@example.org' id='m1' type='chat'>` +
		`<body>STAT: call me</body><urgency xmlns='urn:rounds:urgency:0' level='stat' ack='required'/>` +
		`<origin-id xmlns='urn:xmpp:sid:0' id='o1'/><stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='s1'/>` +
		`<request xmlns='urn:xmpp:receipts'/></message>`)
	el, err := xmpp.DecodeElement(frame, xmpp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	in := xmpp.ParseMessage(el)
	in.Carbon = xmpp.CarbonReceived
	e := lockedEntry{V: lockedEntryVersion, Stanza: in.Stanza.AppendXML(nil), Carbon: int(in.Carbon)}
	enc, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := decodeLockedEntry(enc)
	if err != nil {
		t.Fatal(err)
	}
	if out.Body != in.Body || out.ID != "m1" || out.OriginID != "o1" || out.StanzaIDBy("alice@example.org") != "s1" ||
		out.Urgency == nil || out.Urgency.Level != "stat" || !out.Urgency.AckRequired || !out.ReceiptRequested || out.Carbon != xmpp.CarbonReceived {
		t.Fatalf("round trip: %+v", out)
	}
	for _, bad := range []string{``, `{}`, `{"v":1}`, `{"v":2,"stanza":"PG1lc3NhZ2UvPg=="}`, `{"v":1,"carbon":9,"stanza":"PG1lc3NhZ2UvPg=="}`,
		`{"v":1,"stanza":"PGlxIHhtbG5zPSdqYWJiZXI6Y2xpZW50Jy8+"}`, `{"v":1,"stanza":"PG1lc3NhZ2U+"}`} {
		if _, _, err := decodeLockedEntry([]byte(bad)); err == nil {
			t.Fatalf("%s accepted", bad)
		}
	}
}

// TestLockedEntryFixtures: testdata's good_locked_entry* decode,
// fail_locked_entry* are refused.
func TestLockedEntryFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*_locked_entry*.json")
	if len(files) < 4 {
		t.Fatalf("fixtures missing: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = decodeLockedEntry(b)
		if good := strings.HasPrefix(filepath.Base(f), "good_"); good != (err == nil) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// FuzzLockedEntry: decodeLockedEntry reads what the disk holds; it must
// never panic, and what it accepts is a message.
func FuzzLockedEntry(f *testing.F) {
	files, _ := filepath.Glob("testdata/*_locked_entry*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := decodeLockedEntry(b)
		if err == nil && m == nil {
			t.Fatal("accepted without a message")
		}
	})
}

// TestLockedInboxFullStillRings: a flood fills the locked inbox (here a
// 40 KiB one); a STAT page that comes after is not sealed and gets no
// delivery receipt, but it is still announced by its level, so the locked
// device rings; at unlock the catch-up fetches from the archive what was
// not sealed, and every message is in the store once.
func TestLockedInboxFullStillRings(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	pub, err := alice.store.ReceiveKey()
	if err != nil {
		t.Fatal(err)
	}
	q, err := securestore.OpenInbox(alice.path, pub, securestore.Options{KDF: testKDF, Secrets: noSecrets{}, MaxInbox: 40 << 10})
	if err != nil {
		t.Fatal(err)
	}
	alice.session.Lock(q)
	if err := alice.store.Close(); err != nil {
		t.Fatal(err)
	}

	const n = 40
	ids := bob.send(alice.jid, "flood", n)
	bob.allAtLeast(ids, securestore.ReceiptSent, 30*time.Second)
	alice.waitFor("the flood handled", 20*time.Second, func() bool { return q.Len() > 0 && len(alice.arrivedLocked()) >= q.Len() })
	time.Sleep(300 * time.Millisecond)
	if q.Len() >= n {
		t.Fatalf("a 40 KiB inbox took all %d messages", q.Len())
	}
	idStat := bob.sendLevel(alice.jid, "STAT after the flood", securestore.UrgencyCritical)
	alice.waitFor("the STAT announced", 20*time.Second, func() bool {
		for _, a := range alice.arrivedLocked() {
			if a.Urgency == securestore.UrgencyCritical {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond)
	if s := bob.receiptState(idStat); s >= securestore.ReceiptDelivered {
		t.Fatalf("sender sees %v for a page that was not sealed", s)
	}

	alice2, _ := unlockDevice(t, srv, alice, q, "")
	alice2.waitFor("every message", 60*time.Second, func() bool { return len(alice2.bodies(bob.jid, securestore.Incoming)) >= n+1 })
	time.Sleep(300 * time.Millisecond)
	got := alice2.bodies(bob.jid, securestore.Incoming)
	expectExactlyOnce(t, got, "flood", n)
	if got["STAT after the flood"] != 1 {
		t.Fatalf("the STAT is in the store %d times", got["STAT after the flood"])
	}
}

// TestLockedEditsMergeInOrder: a correction and a recall that arrive while
// locked, after the messages they edit and between plain messages, are
// merged in arrival order through the live path: the corrected text and
// the tombstone are what the store holds, and the plain messages around
// them (stored in a batch) are there once.
func TestLockedEditsMergeInOrder(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	q := lockDevice(t, alice)

	first := bob.sendLevel(alice.jid, "first draft", securestore.UrgencyNormal)
	gone := bob.sendLevel(alice.jid, "to be recalled", securestore.UrgencyNormal)
	ids := bob.send(alice.jid, "plain", 5)
	if err := bob.session.Correct(alice.jid, first, "corrected"); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.Retract(alice.jid, gone); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, bob.send(alice.jid, "after", 1)...)
	bob.allAtLeast(append(ids, first, gone), securestore.ReceiptSent, 20*time.Second)
	alice.waitFor("every stanza sealed", 20*time.Second, func() bool { return q.Len() >= 10 })

	alice2, merged := unlockDevice(t, srv, alice, q, "")
	if merged < 10 {
		t.Fatalf("merged %d entries", merged)
	}
	time.Sleep(300 * time.Millisecond)
	got := alice2.bodies(bob.jid, securestore.Incoming)
	expectExactlyOnce(t, got, "plain", 5)
	expectExactlyOnce(t, got, "after", 1)
	if got["corrected"] != 1 || got["first draft"] != 0 || got["to be recalled"] != 0 {
		t.Fatalf("after the merge: %v", got)
	}
}
