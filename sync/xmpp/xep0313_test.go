package xmpp

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"rounds/internal/testserver"
)

// TestMAMPagingAgainstProsody: 600 messages alice→bob, paged out of bob's
// archive 250 at a time: three pages, Complete only on the last, no gaps or
// duplicates, ids equal to the stanza-ids bob saw live; After, Before and
// With work; an unknown After is ErrArchiveCursorGone; results never reach
// OnMessage.
func TestMAMPagingAgainstProsody(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	var bobBox inbox
	bc := baseConfig(s, "bob")
	bc.OnMessage = bobBox.add
	alice, bob, carol := dialT(t, baseConfig(s, "alice")), dialT(t, bc), dialT(t, baseConfig(s, "carol"))
	if err := bob.SetPresence(ShowAvailable, ""); err != nil { // else messages go offline
		t.Fatal(err)
	}
	const n = 600
	sent := make([]string, n) // origin-ids in send order
	for i := range n {
		m := NewChat(s.JID("bob"), fmt.Sprintf("obs %d", i))
		sent[i] = m.ID()
		if err := alice.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "bob receives 600", func() bool { return len(bobBox.snapshot()) >= n })
	live := map[string]string{} // origin-id -> stanza-id by bob's archive
	for _, m := range bobBox.snapshot() {
		sid := m.StanzaIDBy(s.JID("bob"))
		if sid == "" {
			t.Fatalf("live message without stanza-id by bob: %+v", m.StanzaIDs)
		}
		live[m.OriginID] = sid
	}
	before := len(bobBox.snapshot())

	var all []ArchivedMessage
	after, pages := "", 0
	for {
		p, err := bob.QueryArchive(ctxT(t), ArchiveQuery{After: after, Max: 250})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(p.Results) > 250 {
			t.Fatalf("page of %d", len(p.Results))
		}
		if len(p.Results) > 0 && p.Last != p.Results[len(p.Results)-1].ID {
			t.Fatalf("Last %q != last result %q", p.Last, p.Results[len(p.Results)-1].ID)
		}
		all = append(all, p.Results...)
		if p.Complete {
			break
		}
		if pages > 3 || p.Last == "" {
			t.Fatalf("page %d: complete=%v last=%q n=%d", pages, p.Complete, p.Last, len(p.Results))
		}
		after = p.Last
	}
	if pages != 3 || len(all) != n {
		t.Fatalf("%d pages, %d results", pages, len(all))
	}
	seen := map[string]bool{}
	for i, r := range all {
		m := r.Message
		if m.OriginID != sent[i] || m.Body != fmt.Sprintf("obs %d", i) {
			t.Fatalf("result %d: origin %q body %q (gap, duplicate or reorder)", i, m.OriginID, m.Body)
		}
		if seen[r.ID] {
			t.Fatalf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
		if live[m.OriginID] != r.ID {
			t.Fatalf("result %d: archive id %q, live stanza-id %q", i, r.ID, live[m.OriginID])
		}
		if r.Timestamp.IsZero() || m.Carbon != NotCarbon || !SameBare(m.From, s.JID("alice")) {
			t.Fatalf("result %d: %+v %+v", i, r, m)
		}
	}

	// After: from the middle.
	p, err := bob.QueryArchive(ctxT(t), ArchiveQuery{After: all[299].ID, Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 10 || p.Results[0].ID != all[300].ID || p.Complete || p.Last != all[309].ID {
		t.Fatalf("after: %d results, first %q, complete %v", len(p.Results), p.Results[0].ID, p.Complete)
	}

	// Before: the page just before an id, in archive order (the sync
	// engine's tail reads look back with it).
	p, err = bob.QueryArchive(ctxT(t), ArchiveQuery{Before: all[300].ID, Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 10 {
		t.Fatalf("before: %d results", len(p.Results))
	}
	for i, r := range p.Results {
		if r.ID != all[290+i].ID {
			t.Fatalf("before: result %d is %q, want %q (archive order, just before the id)", i, r.ID, all[290+i].ID)
		}
	}

	// With: only carol's.
	for i := range 3 {
		if err := carol.Send(NewChat(s.JID("bob"), fmt.Sprintf("carol %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "carol's messages", func() bool { return len(bobBox.snapshot()) >= n+3 })
	p, err = bob.QueryArchive(ctxT(t), ArchiveQuery{With: s.JID("carol"), Max: 250})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 3 || !p.Complete {
		t.Fatalf("with carol: %d results complete=%v", len(p.Results), p.Complete)
	}
	for i, r := range p.Results {
		if r.Message.Body != fmt.Sprintf("carol %d", i) || !SameBare(r.Message.From, s.JID("carol")) {
			t.Fatalf("with carol %d: %q from %s", i, r.Message.Body, r.Message.From)
		}
	}

	// The archive also addressed explicitly by our bare JID.
	p, err = bob.QueryArchive(ctxT(t), ArchiveQuery{Archive: s.JID("bob"), Max: 5})
	if err != nil || len(p.Results) != 5 || p.Results[0].ID != all[0].ID {
		t.Fatalf("explicit own archive: %v %+v", err, p)
	}

	// An id the archive does not know.
	_, err = bob.QueryArchive(ctxT(t), ArchiveQuery{After: "no-such-id-" + NewID(), Max: 5})
	if !errors.Is(err, ErrArchiveCursorGone) {
		t.Fatalf("unknown after: %v", err)
	}

	if got := len(bobBox.snapshot()); got != before+3 {
		t.Fatalf("OnMessage got %d extra messages: MAM results leaked", got-before-3)
	}
}

// mamQueryIDs extracts the iq id and queryid of a MAM query frame.
func mamQueryIDs(frame string) (id, qid string) {
	attr := func(s, name string) string {
		i := strings.Index(s, " "+name+`="`)
		if i < 0 {
			return ""
		}
		s = s[i+len(name)+3:]
		return s[:strings.IndexByte(s, '"')]
	}
	return attr(frame, "id"), attr(frame[strings.Index(frame, "<query"):], "queryid")
}

func fakeResult(from, qid, id, body string) string {
	f := ""
	if from != "" {
		f = ` from="` + from + `"`
	}
	return `<message xmlns="jabber:client"` + f + ` to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="` + qid + `" id="` + id + `"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2024-05-01T10:00:00Z"/><message xmlns="jabber:client" from="chief@evil.test/x" to="alice@evil.test" type="chat" id="m-` + id + `"><body>` + body + `</body></message></forwarded></result></message>`
}

func fakeFin(iqID, from, last string) string {
	f := ""
	if from != "" {
		f = ` from="` + from + `"`
	}
	return `<iq xmlns="jabber:client" type="result" id="` + iqID + `"` + f + `><fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"><first>a</first><last>` + last + `</last></set></fin></iq>`
}

// TestMAMSpoofedResultsDropped: a hostile server (or anyone routing through
// it) injects results from the wrong sender, with a wrong queryid, or from an
// occupant instead of the room: all are dropped; genuine ones pass, in order,
// and nothing reaches OnMessage.
func TestMAMSpoofedResultsDropped(t *testing.T) {
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		// 1. The user's own archive.
		id, qid := mamQueryIDs(f.readUntil("urn:xmpp:mam:2"))
		f.send(fakeResult("mallory@evil.test/x", qid, "s1", "give 10x dose"))
		f.send(fakeResult("alice@evil.test", qid, "g1", "one"))
		f.send(fakeResult("alice@evil.test", "wrong-"+qid, "s2", "wrong queryid"))
		f.send(fakeResult("", qid, "g2", "two"))
		f.send(fakeResult("alice@evil.test/phone", qid, "s3", "full jid"))
		f.send(fakeResult("room@conference.evil.test", qid, "s4", "room in user archive"))
		f.send(fakeResult("alice@evil.test", qid, "g3", "three"))
		f.send(fakeFin(id, "", "g3"))
		// 2. A room archive.
		id, qid = mamQueryIDs(f.readUntil("urn:xmpp:mam:2"))
		f.send(fakeResult("room@conference.evil.test/mallory", qid, "s5", "occupant"))
		f.send(fakeResult("alice@evil.test", qid, "s6", "own jid in room archive"))
		f.send(fakeResult("", qid, "s7", "no from in room archive"))
		f.send(fakeResult("room@conference.evil.test", qid, "r1", "room one"))
		f.send(fakeFin(id, "room@conference.evil.test", "r1"))
		// 3. More results than asked for: refused, not truncated.
		id, qid = mamQueryIDs(f.readUntil("urn:xmpp:mam:2"))
		for _, x := range []string{"o1", "o2", "o3"} {
			f.send(fakeResult("", qid, x, x))
		}
		f.send(fakeFin(id, "", "o3"))
		// 4. The cursor expired.
		id, _ = mamQueryIDs(f.readUntil("urn:xmpp:mam:2"))
		f.send(`<iq xmlns="jabber:client" type="error" id="` + id + `"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
		// 5. A late result after its query ended.
		f.send(fakeResult("", qid, "late", "late"))
		f.send(`<message xmlns="jabber:client" from="bob@evil.test/x" to="alice@evil.test/r1" type="chat" id="marker"><body>hi</body></message>`)
		f.readUntil("never")
	}))
	var box inbox
	c := dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger(), OnMessage: box.add})

	p, err := c.QueryArchive(ctxT(t), ArchiveQuery{Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Results {
		got = append(got, r.ID+":"+r.Message.Body)
		if r.Timestamp.IsZero() || r.Message.ID != "m-"+r.ID || r.Message.Carbon != NotCarbon {
			t.Errorf("result %+v / %+v", r, r.Message)
		}
	}
	if strings.Join(got, ",") != "g1:one,g2:two,g3:three" || !p.Complete || p.Last != "g3" {
		t.Fatalf("own archive: %v complete=%v last=%q", got, p.Complete, p.Last)
	}

	p, err = c.QueryArchive(ctxT(t), ArchiveQuery{Archive: "room@conference.evil.test", Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 1 || p.Results[0].ID != "r1" {
		t.Fatalf("room archive: %+v", p.Results)
	}

	if _, err := c.QueryArchive(ctxT(t), ArchiveQuery{Max: 2}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("overflowing page: %v", err)
	}
	if _, err := c.QueryArchive(ctxT(t), ArchiveQuery{Max: 2, After: "old"}); !errors.Is(err, ErrArchiveCursorGone) {
		t.Fatalf("expired cursor: %v", err)
	}
	waitFor(t, "marker message", func() bool { return len(box.snapshot()) > 0 })
	if msgs := box.snapshot(); len(msgs) != 1 || msgs[0].ID != "marker" {
		t.Fatalf("MAM results leaked to OnMessage: %d", len(msgs))
	}
}
