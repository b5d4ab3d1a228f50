package sync

import (
	"context"
	"testing"
	"time"

	"rounds/internal/hostile"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestRoomNickTakeoverIsNotIdentity: alice leaves a room and mallory joins
// under her nick. What mallory says as "alice" is not stored as alice's own,
// neither live at bob's nor from the archive when alice comes back under the
// same nick; mallory's recalls and corrections of alice's and bob's messages
// (quoting the room's stanza-ids, and alice's origin-id) change nothing
// anywhere. The real authors' own recall still works.
func TestRoomNickTakeoverIsNotIdentity(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "mallory")
	ctx := context.Background()
	room := "icu-nick@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	// mallory is a member too: a colleague, not a stranger.
	if err := alice.session.CreateRoom(ctx, room, "alice", "", []string{bob.jid, srv.JID("mallory")}); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	a, err := alice.session.Send(room, "Bed 7 needs potassium recheck", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bob.session.Send(room, "Bed 9 porter at 10", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	aOnBob := byOrigin(t, bob, room, a.OriginID)
	bOnBob := stored(t, bob, b.ID)
	alice.waitFor("bob's message and alice's reflection", 30*time.Second, func() bool {
		m := stored(t, alice, a.ID)
		return len(alice.bodies(room, securestore.Incoming)) == 1 && m.StanzaID != ""
	})
	bob.waitFor("bob's reflection", 30*time.Second, func() bool { return stored(t, bob, b.ID).StanzaID != "" })
	bOnBob = stored(t, bob, b.ID)

	// alice leaves; mallory takes her nick and speaks, recalls, corrects.
	if err := alice.session.LeaveRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	mal := rawClient(t, srv, "mallory")
	jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := mal.JoinRoom(jctx, room, "alice"); err != nil {
		t.Fatal(err)
	}
	send := func(payload *xmpp.Element, body, id string) {
		t.Helper()
		el := xmpp.NewElement(xmpp.NSClient, "message", "type", "groupchat", "to", room, "id", id)
		el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(body), xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
		if payload != nil {
			el.Append(payload)
		}
		if err := mal.Send(el); err != nil {
			t.Fatal(err)
		}
	}
	send(nil, "I am alice: stop the infusion", "mallory-1")
	send(xmpp.NewRetract(aOnBob.StanzaID), xmpp.RetractFallback, xmpp.NewID())
	send(xmpp.NewReplace(a.OriginID), "Bed 7 is fine", xmpp.NewID())
	send(xmpp.NewRetract(bOnBob.StanzaID), xmpp.RetractFallback, xmpp.NewID())
	send(nil, "mallory-done", "mallory-2")
	byOrigin(t, bob, room, "mallory-2")
	if err := mal.LeaveRoom(room, "alice"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)

	check := func(d *device, who string) {
		t.Helper()
		for _, origin := range []string{a.OriginID, b.OriginID} {
			m := byOrigin(t, d, room, origin)
			if m.Body == "" || m.Extra[ExtraRetracted] != "" || m.Extra[ExtraHistory] != "" || m.Body == "Bed 7 is fine" {
				t.Errorf("%s: %q changed by the nick's new holder: %+v", who, m.OriginID, m)
			}
		}
		imp := byOrigin(t, d, room, "mallory-1")
		if imp.Direction != securestore.Incoming {
			t.Errorf("%s: mallory's message under alice's nick stored as outgoing", who)
		}
		if imp.Extra[securestore.ExtraSender] == "" || imp.Extra[securestore.ExtraSender] == byOrigin(t, d, room, a.OriginID).Extra[securestore.ExtraSender] {
			t.Errorf("%s: mallory's message has alice's identity: %q", who, imp.Extra[securestore.ExtraSender])
		}
	}
	check(bob, "bob (live)")
	if n := len(eventsOf[MessageRetracted](bob)) + len(eventsOf[MessageCorrected](bob)); n != 0 {
		t.Errorf("bob reported %d edits by the nick's new holder", n)
	}

	// alice comes back under her nick and catches up from the room's archive.
	if err := alice.session.JoinRoom(ctx, room, "alice"); err != nil {
		t.Fatal(err)
	}
	byOrigin(t, alice, room, "mallory-2")
	check(alice, "alice (archive)")
	if out := alice.bodies(room, securestore.Outgoing); len(out) != 1 {
		t.Errorf("alice's own messages after catch-up: %v", out)
	}
	if n := len(eventsOf[MessageRetracted](alice)) + len(eventsOf[MessageCorrected](alice)); n != 0 {
		t.Errorf("alice reported %d edits by the nick's new holder", n)
	}

	// The real author's recall still applies everywhere.
	if err := alice.session.Retract(room, a.ID); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("alice's own recall", 30*time.Second, func() bool { return isTombstone(stored(t, bob, aOnBob.ID)) })
}

// TestRoomRealJIDIsIdentity: in a non-anonymous room without occupant-ids,
// the real JID the room puts on archived messages names the author (the
// room's, which comes last, not one the sender slipped in first). A message
// under the user's nick from another account is not the user's; a recall by
// another account under bob's nick changes nothing; bob's own recall applies
// (hostile server as the room).
func TestRoomRealJIDIsIdentity(t *testing.T) {
	real := func(jid string) string {
		return `<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="` + jid + `"/></x>`
	}
	gc := func(id, nick, body, extra string) string {
		return roomResult(id, `<message xmlns="jabber:client" type="groupchat" from="`+hostileRoom+`/`+nick+`" id="`+id+`"><body>`+body+`</body><origin-id xmlns="urn:xmpp:sid:0" id="`+id+`"/>`+extra+`</message>`)
	}
	srv := hostile.Start(hostile.Session{RoomMAM: map[string][]string{hostileRoom: {
		gc("g1", "bob", "bob's note", real("bob@evil.test")),
		gc("g2", "alice", "not alice", real("mallory@evil.test")),
		gc("g3", "alice", "alice from her phone", real("alice@evil.test")),
		gc("g4", "bob", "forged recall", real("bob@evil.test")+`<retract xmlns="urn:xmpp:message-retract:1" id="g1"/>`+real("mallory@evil.test")),
		gc("g5", "bob", "bob's second", real("bob@evil.test")),
		gc("g6", "bob", "recall", `<retract xmlns="urn:xmpp:message-retract:1" id="g5"/>`+real("bob@evil.test")),
	}}})
	defer srv.Close()
	d := hostileDevice(t, srv)
	joinHostileRoom(t, d, srv)
	d.waitFor("room archive", 10*time.Second, func() bool { return len(d.conversation(hostileRoom)) >= 4 })
	time.Sleep(200 * time.Millisecond)
	by := map[string]securestore.Message{}
	for _, m := range d.conversation(hostileRoom) {
		by[m.OriginID] = m
	}
	if m := by["g2"]; m.Direction != securestore.Incoming || m.Extra[securestore.ExtraSender] != "mallory@evil.test" {
		t.Errorf("mallory under alice's nick: direction %v sender %q", m.Direction, m.Extra[securestore.ExtraSender])
	}
	if m := by["g3"]; m.Direction != securestore.Outgoing {
		t.Errorf("alice's own message from another device stored as %v", m.Direction)
	}
	if m := by["g1"]; m.Body != "bob's note" || m.Extra[securestore.ExtraSender] != "bob@evil.test" {
		t.Errorf("bob's note after a forged recall: %+v", m)
	}
	if m := by["g5"]; !isTombstone(m) {
		t.Errorf("bob's own recall not applied: %+v", m)
	}
}

// TestRoomReferencesByStanzaID: in a room, a recall and an acknowledgement
// quote the room's stanza-id. A member (mallory) who gives her own message
// an origin-id equal to another member's stanza-id cannot block that
// member's recall (bob's recalled text goes) nor catch an acknowledgement
// meant for alice's page (it reaches alice's page, per member) (Prosody).
func TestRoomReferencesByStanzaID(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "mallory")
	ctx := context.Background()
	room := "icu-refs@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	carol := startDevice(t, srv, "carol", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "alice", "", []string{bob.jid, carol.jid, srv.JID("mallory")}); err != nil {
		t.Fatal(err)
	}
	for nick, d := range map[string]*device{"bob": bob, "carol": carol} {
		if err := d.session.JoinRoom(ctx, room, nick); err != nil {
			t.Fatal(err)
		}
	}
	mal := rawClient(t, srv, "mallory")
	jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := mal.JoinRoom(jctx, room, "mallory"); err != nil {
		t.Fatal(err)
	}
	b, err := bob.session.Send(room, "Bed 4: patient name and MRN", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := alice.session.Send(room, "Bed 9 deteriorating", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	bOnCarol := byOrigin(t, carol, room, b.OriginID)
	pOnCarol := byOrigin(t, carol, room, page.OriginID)
	carol.waitFor("stanza-ids", 30*time.Second, func() bool {
		bOnCarol, pOnCarol = stored(t, carol, bOnCarol.ID), stored(t, carol, pOnCarol.ID)
		return bOnCarol.StanzaID != "" && pOnCarol.StanzaID != ""
	})
	alice.waitFor("bob's message", 30*time.Second, func() bool {
		m, err := alice.store.MessageByStanzaID(room, bOnCarol.StanzaID)
		return err == nil && m.Body != ""
	})
	// mallory's decoys: origin-ids equal to the room's stanza-ids.
	for i, sid := range []string{bOnCarol.StanzaID, pOnCarol.StanzaID} {
		el := xmpp.NewElement(xmpp.NSClient, "message", "type", "groupchat", "to", room, "id", sid)
		el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText([]string{"decoy one", "decoy two"}[i]),
			xmpp.NewElement(xmpp.NSSID, "origin-id", "id", sid))
		if err := mal.Send(el); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []*device{alice, carol} {
		d.waitFor("the decoys", 30*time.Second, func() bool {
			in := d.bodies(room, securestore.Incoming)
			return in["decoy one"] == 1 && in["decoy two"] == 1
		})
	}

	// carol acknowledges alice's page; bob recalls his message.
	if _, err := carol.session.Respond(ctx, room, pOnCarol.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.Retract(room, b.ID); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("carol's acknowledgement on alice's page", 30*time.Second, func() bool {
		return stored(t, alice, page.ID).Members[carol.jid].State == securestore.ReceiptAcknowledged
	})
	for _, d := range []*device{alice, carol} {
		d.waitFor("bob's recall", 30*time.Second, func() bool {
			m, err := d.store.MessageByStanzaID(room, bOnCarol.StanzaID)
			return err == nil && isTombstone(m)
		})
		if in := d.bodies(room, securestore.Incoming); in["decoy one"] != 1 || in["decoy two"] != 1 {
			t.Errorf("%s: decoys changed: %v", d.jid, in)
		}
	}
}

// TestRoomArchiveRecallNotBlockedByDecoy: from a room's archive, a member's
// message whose origin-id equals another member's archive id does not
// block that member's recall (hostile server as the room).
func TestRoomArchiveRecallNotBlockedByDecoy(t *testing.T) {
	real := func(jid string) string {
		return `<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="` + jid + `"/></x>`
	}
	gc := func(id, nick, origin, body, extra string) string {
		return roomResult(id, `<message xmlns="jabber:client" type="groupchat" from="`+hostileRoom+`/`+nick+`" id="`+origin+`"><body>`+body+`</body><origin-id xmlns="urn:xmpp:sid:0" id="`+origin+`"/>`+extra+`</message>`)
	}
	srv := hostile.Start(hostile.Session{RoomMAM: map[string][]string{hostileRoom: {
		gc("s-1", "bob", "b-1", "Bed 4: patient name", real("bob@evil.test")),
		gc("s-2", "mallory", "s-1", "decoy", real("mallory@evil.test")),
		gc("s-3", "bob", "b-2", "recall", `<retract xmlns="urn:xmpp:message-retract:1" id="s-1"/>`+real("bob@evil.test")),
	}}})
	defer srv.Close()
	d := hostileDevice(t, srv)
	joinHostileRoom(t, d, srv)
	d.waitFor("room archive", 10*time.Second, func() bool { return len(d.conversation(hostileRoom)) >= 2 })
	time.Sleep(200 * time.Millisecond)
	for _, m := range d.conversation(hostileRoom) {
		switch m.StanzaID {
		case "s-1":
			if !isTombstone(m) {
				t.Errorf("bob's recall blocked by the decoy: %+v", m)
			}
		case "s-2":
			if m.Body != "decoy" {
				t.Errorf("the decoy was recalled instead: %+v", m)
			}
		}
	}
}
