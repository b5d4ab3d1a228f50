package xmpp

import (
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// TestUnreadableArchiveResultKeepsPage (real Prosody): a MAM result over the
// client's frame limit becomes an entry of its page, marked unreadable, in
// archive order between the readable ones, with its archive id (so the page's
// <last> covers it), its sender and delay; the query succeeds and the client
// stays connected.
func TestUnreadableArchiveResultKeepsPage(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := dialT(t, baseConfig(s, "alice"))
	bcfg := baseConfig(s, "bob")
	bcfg.Limits = Limits{MaxFrameBytes: 16 << 10}
	disconnected := make(chan error, 1)
	bcfg.OnDisconnect = func(err error) { disconnected <- err }
	bob := dialT(t, bcfg)
	var ids []string
	for _, body := range []string{"before", strings.Repeat("large ", 5000), "after"} {
		m := NewChat(s.JID("bob"), body)
		ids = append(ids, m.ID())
		if err := alice.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	var page ArchivePage
	waitFor(t, "three results in bob's archive", func() bool {
		p, err := bob.QueryArchive(ctxT(t), ArchiveQuery{With: s.JID("alice"), Max: 10})
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		page = p
		return len(p.Results) >= 3
	})
	if len(page.Results) != 3 || page.Last != page.Results[2].ID {
		t.Fatalf("page: %d results, last %q", len(page.Results), page.Last)
	}
	for i, r := range page.Results {
		m := r.Message
		if m.ID != ids[i] || !SameBare(m.From, s.JID("alice")) || r.ID == "" || r.Timestamp.IsZero() {
			t.Errorf("result %d: id %q from %q archive id %q at %v", i, m.ID, m.From, r.ID, r.Timestamp)
		}
		if unreadable := m.Unreadable != nil; unreadable != (i == 1) {
			t.Errorf("result %d: unreadable %v", i, m.Unreadable)
		}
	}
	if u := page.Results[1].Message.Unreadable; u == nil || u.Reason != ReasonTooLarge || u.Size <= 30000 {
		t.Errorf("large result: %+v", u)
	}
	select {
	case err := <-disconnected:
		t.Fatalf("stream ended: %v", err)
	default:
	}
	if !bob.Connected() {
		t.Fatal("bob disconnected")
	}
}

// TestUnreadableCountedForResumption (real Prosody): a live message over the
// frame limit is skipped without ending the stream, and counts as handled
// for XEP-0198: after a cut and a resumption Prosody sends neither it nor the
// message after it again.
func TestUnreadableCountedForResumption(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	var cut cutter
	var box inbox
	disconnected := make(chan error, 4)
	bcfg := baseConfig(s, "bob")
	bcfg.Limits = Limits{MaxFrameBytes: 16 << 10}
	bcfg.HTTPClient = cut.client(s)
	bcfg.OnMessage = box.add
	bcfg.OnDisconnect = func(err error) { disconnected <- err }
	bob := dialT(t, bcfg)
	if err := bob.SetPresence(ShowAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if on, resumable := bob.StreamManagement(); !on || !resumable {
		t.Fatal("stream management not resumable")
	}
	alice := dialT(t, baseConfig(s, "alice"))
	big := NewChat(s.JID("bob"), strings.Repeat("large ", 5000))
	for _, m := range []*Element{big, NewChat(s.JID("bob"), "after")} {
		if err := alice.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the message after the large one", func() bool {
		return box.find(func(m *Message) bool { return m.Body == "after" }) != nil
	})
	select {
	case err := <-disconnected:
		t.Fatalf("stream ended on the large message: %v", err)
	default:
	}
	cut.cut()
	select {
	case <-disconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect after the cut")
	}
	if err := bob.Resume(ctxT(t)); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if err := alice.Send(NewChat(s.JID("bob"), "later")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a message after the resumption", func() bool {
		return box.find(func(m *Message) bool { return m.Body == "later" }) != nil
	})
	unreadable, after := 0, 0
	for _, m := range box.snapshot() {
		if m.Unreadable != nil {
			unreadable++
			if m.ID != big.ID() || !SameBare(m.From, s.JID("alice")) || m.Unreadable.Reason != ReasonTooLarge {
				t.Errorf("unreadable: id %q from %q %+v", m.ID, m.From, m.Unreadable)
			}
		}
		if m.Body == "after" {
			after++
		}
	}
	if unreadable != 1 || after != 1 {
		t.Fatalf("after resumption: the large message reported %d times, the one after it %d times; want 1 and 1", unreadable, after)
	}
}

// TestArchivePageBoundedInBytes (real Prosody): a page of large results is
// cut once it holds maxPageBytes of frames, as an incomplete page whose
// <last> is the last result kept; the next query, after it, returns the rest:
// nothing skipped, nothing twice, and a phone never holds more than about
// maxPageBytes of one page.
func TestArchivePageBoundedInBytes(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	var acks ackLog
	acfg := baseConfig(s, "alice")
	acfg.OnAcked = acks.add
	alice, bob := dialT(t, acfg), dialT(t, baseConfig(s, "bob"))
	// 261,000 quotes: under Prosody's 256 KiB limit as sent, about 1.5 MiB
	// each as archived (Prosody writes " as &quot;).
	const n = 13
	var ids []string
	for range n {
		m := NewChat(s.JID("bob"), strings.Repeat(`"`, 261000))
		ids = append(ids, m.ID())
		if err := alice.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	// Prosody archives ~20 MiB here; a CI run under load took more than 10 s.
	waitForWithin(t, "the server acknowledged all", 90*time.Second, func() bool { return acks.count() >= n })
	var got []ArchivedMessage
	after := ""
	for pages := 0; ; pages++ {
		p, err := bob.QueryArchive(ctxT(t), ArchiveQuery{With: s.JID("alice"), After: after, Max: 50})
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		var bytes int
		for _, r := range p.Results {
			bytes += len(r.Message.Stanza.Raw) // the inner message; the frame is a little larger
		}
		if bytes > maxPageBytes {
			t.Fatalf("page of %d results holds %d bytes", len(p.Results), bytes)
		}
		if pages == 0 && (len(p.Results) == 0 || len(p.Results) >= n || p.Complete || p.Last != p.Results[len(p.Results)-1].ID) {
			t.Fatalf("first page: %d results, complete %v, last %q: not cut", len(p.Results), p.Complete, p.Last)
		}
		got = append(got, p.Results...)
		if p.Complete || len(p.Results) == 0 || pages > n {
			break
		}
		after = p.Last
	}
	if len(got) != n {
		t.Fatalf("%d results over the pages, want %d", len(got), n)
	}
	for i, r := range got {
		if r.Message.ID != ids[i] || len(r.Message.Body) != 261000 {
			t.Fatalf("result %d: id %q (want %q), %d bytes", i, r.Message.ID, ids[i], len(r.Message.Body))
		}
	}
}
