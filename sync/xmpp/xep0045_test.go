package xmpp

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"rounds/internal/testserver"
)

// presences collects OnPresence.
type presences struct {
	mu sync.Mutex
	ps []*Presence
}

func (b *presences) add(p *Presence) { b.mu.Lock(); b.ps = append(b.ps, p); b.mu.Unlock() }

func (b *presences) find(f func(*Presence) bool) *Presence {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.ps {
		if f(p) {
			return p
		}
	}
	return nil
}

// TestMUCAgainstProsody: alice creates a room on purpose (CreateRoom: it
// must be unlocked and configured for bob to get in), both see a groupchat
// with the room's stanza-id, alice gets her reflection with her origin-id,
// the room's archive holds it, every occupant sees real JIDs in this
// non-anonymous room, a nick in use is a conflict, and LeaveRoom is seen by
// the others.
func TestMUCAgainstProsody(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	room := "ward7@conference." + s.Domain
	var aBox, bBox inbox
	var aPres, bPres presences
	ac, bc := baseConfig(s, "alice"), baseConfig(s, "bob")
	ac.OnMessage, ac.OnPresence = aBox.add, aPres.add
	bc.OnMessage, bc.OnPresence = bBox.add, bPres.add
	alice, bob, carol := dialT(t, ac), dialT(t, bc), dialT(t, baseConfig(s, "carol"))

	if err := alice.CreateRoom(ctxT(t), room, "Dr A", RoomConfig{Members: []string{s.JID("bob"), s.JID("carol")}}); err != nil {
		t.Fatal(err)
	}
	if err := bob.JoinRoom(ctxT(t), room, "Nurse B"); err != nil {
		t.Fatalf("second occupant (room still locked?): %v", err)
	}
	if !alice.isJoinedRoom(room) || !bob.isJoinedRoom(room) {
		t.Fatal("joined rooms not recorded")
	}

	// The room is non-anonymous: alice sees bob's real JID and bob hers.
	var bobSeen *Presence
	waitFor(t, "alice sees bob join", func() bool {
		bobSeen = aPres.find(func(p *Presence) bool { return p.From == room+"/Nurse B" && p.Type == "" })
		return bobSeen != nil
	})
	if real := OccupantRealJID(bobSeen); !SameBare(real, s.JID("bob")) {
		t.Fatalf("owner sees real JID %q", real)
	}
	aliceSeen := bPres.find(func(p *Presence) bool { return p.From == room+"/Dr A" })
	if aliceSeen == nil {
		t.Fatal("bob got no presence of alice")
	}
	if real := OccupantRealJID(aliceSeen); !SameBare(real, s.JID("alice")) {
		t.Fatalf("participant sees real JID %q in a non-anonymous room", real)
	}

	msg := NewGroupChat(room, "Bed 4: patient febrile, 39.2")
	if err := alice.Send(msg); err != nil {
		t.Fatal(err)
	}
	var got, refl *Message
	waitFor(t, "bob receives groupchat", func() bool {
		got = bBox.find(func(m *Message) bool { return m.Type == "groupchat" && m.Body != "" })
		return got != nil
	})
	waitFor(t, "alice's reflection", func() bool {
		refl = aBox.find(func(m *Message) bool { return m.Type == "groupchat" && m.Body != "" })
		return refl != nil
	})
	sid := got.StanzaIDBy(room)
	if got.From != room+"/Dr A" || sid == "" || got.Body != "Bed 4: patient febrile, 39.2" {
		t.Fatalf("bob got from %s stanza-ids %+v", got.From, got.StanzaIDs)
	}
	if refl.OriginID != msg.ID() || refl.StanzaIDBy(room) != sid {
		t.Fatalf("reflection origin %q stanza-ids %+v", refl.OriginID, refl.StanzaIDs)
	}

	// The room's archive, by its owner (the room) only.
	p, err := bob.QueryArchive(ctxT(t), ArchiveQuery{Archive: room, Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	var found *ArchivedMessage
	for i := range p.Results {
		if p.Results[i].ID == sid {
			found = &p.Results[i]
		}
	}
	if found == nil || found.Message.Body != msg.Children[0].Text || found.Timestamp.IsZero() || !p.Complete {
		t.Fatalf("room archive: %+v", p)
	}
	if n := bodies(&bBox); n != 1 {
		t.Fatalf("bob's OnMessage got %d messages with a body (history or MAM results leaked?)", n)
	}

	// A nick in use.
	err = carol.JoinRoom(ctxT(t), room, "Nurse B")
	var se *StanzaError
	if !errors.As(err, &se) || se.Condition != "conflict" {
		t.Fatalf("nick in use: %v", err)
	}

	// Leaving is seen by the others.
	if err := bob.LeaveRoom(room, "Nurse B"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice sees bob leave", func() bool {
		return aPres.find(func(p *Presence) bool { return p.From == room+"/Nurse B" && p.Type == "unavailable" }) != nil
	})

	// Joining again after leaving works, and asks for no history.
	if err := bob.JoinRoom(ctxT(t), room, "Nurse B"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rejoin subject", func() bool {
		n := 0
		for _, m := range bBox.snapshot() {
			if m.Stanza.Child(NSClient, "subject") != nil {
				n++
			}
		}
		return n == 2 // the room sends its subject last, after any history
	})
	if n := bodies(&bBox); n != 1 {
		t.Fatalf("rejoin delivered %d messages: history not suppressed", n-1)
	}
}

func bodies(b *inbox) int {
	n := 0
	for _, m := range b.snapshot() {
		if m.Body != "" {
			n++
		}
	}
	return n
}

// TestJoinMissingRoomCreatesNothing: joining a room that does not exist (or
// whose service does not exist) is ErrRoomNotFound and leaves no room
// behind: disco#info on its JID still answers
// item-not-found. CreateRoom makes a members-only, non-anonymous,
// persistent, hidden, archived room; a second CreateRoom is ErrRoomExists; a
// non-member is refused; once the room is destroyed, joining it is
// ErrRoomNotFound again.
func TestJoinMissingRoomCreatesNothing(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice, bob, carol := dialT(t, baseConfig(s, "alice")), dialT(t, baseConfig(s, "bob")), dialT(t, baseConfig(s, "carol"))
	missing := "no-such-ward@conference." + s.Domain

	err := alice.JoinRoom(ctxT(t), missing, "Dr A")
	if !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("join of a missing room: %v", err)
	}
	var se *StanzaError
	if _, err := bob.QueryDiscoInfo(ctxT(t), missing); !errors.As(err, &se) || se.Condition != "item-not-found" {
		t.Fatalf("after the failed join, disco#info on the room: %v (the join created it)", err)
	}
	if alice.isJoinedRoom(missing) {
		t.Fatal("missing room recorded as joined")
	}
	// A mistyped service: remote-server-not-found (ErrRoomNotFound) on a
	// federating server; the test server does not federate (not-allowed).
	if err := alice.JoinRoom(ctxT(t), "icu@conferenc."+s.Domain, "Dr A"); err == nil {
		t.Fatal("join on a mistyped service succeeded")
	}

	room := "ward9@conference." + s.Domain
	if err := alice.CreateRoom(ctxT(t), room, "Dr A", RoomConfig{Name: "Ward 9", Members: []string{s.JID("bob")}}); err != nil {
		t.Fatal(err)
	}
	info, err := carol.QueryDiscoInfo(ctxT(t), room)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_hidden", NSMAM} {
		if !info.Has(f) {
			t.Errorf("created room lacks %s: %v", f, info.Features)
		}
	}
	if err := bob.CreateRoom(ctxT(t), room, "Nurse B", RoomConfig{}); !errors.Is(err, ErrRoomExists) {
		t.Fatalf("second CreateRoom: %v", err)
	}
	if err := bob.JoinRoom(ctxT(t), room, "Nurse B"); err != nil {
		t.Fatalf("member joins: %v", err)
	}
	if err := carol.JoinRoom(ctxT(t), room, "Carol"); !errors.As(err, &se) || se.Condition != "registration-required" {
		t.Fatalf("non-member joins a members-only room: %v", err)
	}

	if err := alice.DestroyRoom(ctxT(t), room, "closed"); err != nil {
		t.Fatal(err)
	}
	if err := bob.JoinRoom(ctxT(t), room, "Nurse B"); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("join after destroy: %v", err)
	}
	if _, err := carol.QueryDiscoInfo(ctxT(t), room); !errors.As(err, &se) || (se.Condition != "item-not-found" && se.Condition != "gone") {
		t.Fatalf("destroyed room still answers disco: %v", err)
	}
}

// TestJoinThatCreatesDestroysTheRoom: a server that says a room exists but
// creates it on join (status 201: the room vanished in between, or a server
// that answers disco for missing rooms) gets the room destroyed at once by
// us, its owner, and the join fails with ErrRoomNotFound; the room is never
// configured (no instant-room submit).
func TestJoinThatCreatesDestroysTheRoom(t *testing.T) {
	const room = "icu@conference.evil.test"
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		q := f.readUntil(NSDiscoInfo)
		id, _ := mamQueryIDs(q + `<query queryid="">`)
		f.send(`<iq xmlns="jabber:client" type="result" id="` + id + `" from="` + room + `"><query xmlns="` + NSDiscoInfo + `"><identity category="conference" type="text"/><feature var="` + NSMUC + `"/></query></iq>`)
		f.readUntil("<presence")
		f.send(`<presence xmlns="jabber:client" from="` + room + `/Dr A" to="alice@evil.test/r1"><x xmlns="` + NSMUCUser + `"><item affiliation="owner" role="moderator"/><status code="110"/><status code="201"/></x></presence>`)
		d := f.readUntil(NSMUCOwner)
		id, _ = mamQueryIDs(d + `<query queryid="">`)
		f.send(`<iq xmlns="jabber:client" type="result" id="` + id + `" from="` + room + `"/>`)
		f.readUntil("never")
	}))
	c := dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger()})
	err := c.JoinRoom(ctxT(t), room, "Dr A")
	if !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("join that created the room: %v", err)
	}
	if c.isJoinedRoom(room) {
		t.Fatal("room recorded as joined")
	}
	c.Close()
	var destroyed, configured bool
	for _, fr := range fs.sent() {
		if strings.Contains(fr, NSMUCOwner) {
			destroyed = destroyed || strings.Contains(fr, "<destroy")
			configured = configured || strings.Contains(fr, "jabber:x:data")
		}
	}
	if !destroyed || configured {
		t.Fatalf("destroyed %v, configured %v", destroyed, configured)
	}
}
