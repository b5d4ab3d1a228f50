package sync

import (
	"context"
	"errors"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestRoomThreeMembers: a care-team room with three staff. Each message is
// stored once by everyone (the sender's own reflection included), and read
// markers are kept per member.
func TestRoomThreeMembers(t *testing.T) { testserver.EachServer(t, testRoomThreeMembers) }

func testRoomThreeMembers(t *testing.T, k testserver.Kind) {
	roomScenario(t, k.StartT(t, testserver.Options{}, "alice", "bob", "carol"), "icu-team")
}

func roomScenario(t *testing.T, srv *testserver.Server, name string) {
	ctx := context.Background()
	room := name + "@conference." + srv.Domain
	devs := map[string]*device{}
	for _, u := range []string{"alice", "bob", "carol"} {
		d := startDevice(t, srv, u, deviceOptions{})
		join := func() error { return d.session.JoinRoom(ctx, room, u) }
		if u == "alice" {
			join = func() error {
				return d.session.CreateRoom(ctx, room, u, "", []string{srv.JID("bob"), srv.JID("carol")})
			}
		}
		if err := join(); err != nil {
			t.Fatalf("%s join: %v", u, err)
		}
		devs[u] = d
	}
	alice, bob, carol := devs["alice"], devs["bob"], devs["carol"]
	const n = 30
	ids := alice.send(room, "handover", n)
	for _, d := range []*device{bob, carol} {
		d.waitFor("room messages", 30*time.Second, func() bool { return len(d.bodies(room, securestore.Incoming)) >= n })
		expectExactlyOnce(t, d.bodies(room, securestore.Incoming), "handover", n)
	}
	alice.allAtLeast(ids, securestore.ReceiptSent, 30*time.Second)
	expectExactlyOnce(t, alice.bodies(room, securestore.Outgoing), "handover", n)
	if in := alice.bodies(room, securestore.Incoming); len(in) != 0 {
		t.Fatalf("alice stored her own reflected messages as incoming: %v", in)
	}
	conv, err := alice.store.Conversation(room)
	if err != nil || conv.Kind != securestore.KindRoom {
		t.Fatalf("room conversation: %+v, %v", conv, err)
	}

	// Carol reads everything; bob reads nothing.
	msgs := carol.conversation(room)
	if err := carol.session.MarkDisplayed(ctx, room, msgs[len(msgs)-1].ID); err != nil {
		t.Fatal(err)
	}
	last := ids[len(ids)-1]
	alice.waitFor("carol's read marker", 30*time.Second, func() bool {
		m, _ := alice.store.Message(last)
		return m.Members[carol.jid].State == securestore.ReceiptRead
	})
	m, _ := alice.store.Message(ids[0])
	if m.Members[carol.jid].State != securestore.ReceiptRead {
		t.Errorf("carol's marker did not cover earlier messages: %+v", m.Members)
	}
	if st, ok := m.Members[bob.jid]; ok && st.State == securestore.ReceiptRead {
		t.Errorf("bob marked read without reading: %+v", m.Members)
	}
}

// TestRoomRejoinAfterRestart: after the server restarts, the Session rejoins its
// rooms and catches up the room archive; nothing sent meanwhile is lost.
func TestRoomRejoinAfterRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	room := "ward-3@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "ali", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	alice.send(room, "early", 10)
	bob.waitFor("early", 30*time.Second, func() bool { return len(bob.bodies(room, securestore.Incoming)) >= 10 })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	alice.send(room, "late", 10)
	bob.waitFor("late", 60*time.Second, func() bool { return len(bob.bodies(room, securestore.Incoming)) >= 20 })
	got := bob.bodies(room, securestore.Incoming)
	expectExactlyOnce(t, got, "early", 10)
	expectExactlyOnce(t, got, "late", 10)
}

// TestJoinMissingRoomCreatesNothing: joining a room that does not exist is
// ErrRoomNotFound; the Session does not remember it (no conversation, not
// rejoined), and the server has no such room afterwards (disco#info).
func TestJoinMissingRoomCreatesNothing(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	room := "icu-typo@conference." + srv.Domain
	if err := alice.session.JoinRoom(ctx, room, "alice"); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("join of a missing room: %v", err)
	}
	if alice.session.isRoom(room) {
		t.Fatal("missing room remembered")
	}
	if _, err := alice.store.Conversation(room); !errors.Is(err, securestore.ErrNotFound) {
		t.Fatalf("missing room has a conversation: %v", err)
	}
	expectNoRoom(t, srv, room)
}

// expectNoRoom: disco#info on room answers item-not-found (or gone).
func expectNoRoom(t *testing.T, srv *testserver.Server, room string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("bob"), Resource: "disco-" + xmpp.NewID()[:6],
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.QueryDiscoInfo(ctx, room)
	var se *xmpp.StanzaError
	if !errors.As(err, &se) || (se.Condition != "item-not-found" && se.Condition != "gone") {
		t.Fatalf("disco#info on %s: %v; the room exists", room, err)
	}
}

// TestRejoinSkipsUnavailableRooms: bob is in three rooms. While he is
// offline, one is destroyed and his membership of another is revoked. His
// next sign-in still comes online (before, the first failed join failed the
// setup and the Session reconnected forever), reports both rooms
// (RoomUnavailable: gone, and registration-required), forgets the destroyed
// one without recreating it, and the third room still syncs.
func TestRejoinSkipsUnavailableRooms(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	gone, revoked, kept := "closed-ward@conference."+srv.Domain, "old-team@conference."+srv.Domain, "icu@conference."+srv.Domain
	for _, r := range []string{gone, revoked, kept} {
		if err := alice.session.CreateRoom(ctx, r, "alice", "", []string{bob.jid}); err != nil {
			t.Fatal(err)
		}
		if err := bob.session.JoinRoom(ctx, r, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	bobStore := bob.path
	bob.stop()

	owner, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: alice.jid, Resource: "admin",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if err := owner.DestroyRoom(ctx, gone, "ward closed"); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.SendIQ(ctx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "set", "to", revoked).Append(
		xmpp.NewElement(xmpp.NSMUCAdmin, "query").Append(
			xmpp.NewElement(xmpp.NSMUCAdmin, "item", "affiliation", "none", "jid", bob.jid)))); err != nil {
		t.Fatal(err)
	}

	bob = startDevice(t, srv, "bob", deviceOptions{storePath: bobStore}) // waits until online
	var seenGone, seenRevoked bool
	bob.waitFor("both rooms reported", 10*time.Second, func() bool {
		bob.mu.Lock()
		defer bob.mu.Unlock()
		for _, e := range bob.events {
			if ru, ok := e.(RoomUnavailable); ok {
				seenGone = seenGone || (ru.Room == gone && ru.Gone)
				seenRevoked = seenRevoked || (ru.Room == revoked && !ru.Gone && ru.Condition == "registration-required")
			}
		}
		return seenGone && seenRevoked
	})
	if bob.session.isRoom(gone) || !bob.session.isRoom(revoked) {
		t.Fatalf("remembered: gone %v, revoked %v (want false, true)", bob.session.isRoom(gone), bob.session.isRoom(revoked))
	}
	expectNoRoom(t, srv, gone)

	alice.send(kept, "still here", 3)
	bob.waitFor("the kept room syncs", 30*time.Second, func() bool {
		return len(bob.bodies(kept, securestore.Incoming)) >= 3
	})
	expectExactlyOnce(t, bob.bodies(kept, securestore.Incoming), "still here", 3)
}

// TestRoomReceiptCountsPerMember: a XEP-0184 receipt from a room occupant
// says that member's device has the message, no more: it is recorded under
// that member's stable identity and does not move the whole message to
// delivered; a receipt from our own occupant (the room reflects ours)
// counts for nothing.
func TestRoomReceiptCountsPerMember(t *testing.T) {
	testserver.EachServer(t, testRoomReceiptCountsPerMember)
}

func testRoomReceiptCountsPerMember(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx := context.Background()
	room := "ward-9@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "alice", "", []string{srv.JID("bob"), srv.JID("carol")}); err != nil {
		t.Fatal(err)
	}
	bob := startDevice(t, srv, "bob", deviceOptions{})
	if err := bob.session.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	page, err := alice.session.Send(room, "Bed 4: review K+ now", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.allAtLeast([]securestore.MessageID{page.ID}, securestore.ReceiptSent, 30*time.Second)
	bob.waitFor("the page", 30*time.Second, func() bool { return len(bob.conversation(room)) == 1 })
	before := stored(t, alice, page.ID).Receipt.State
	receipt := func() *xmpp.Element {
		return xmpp.NewElement(xmpp.NSClient, "message", "to", room, "type", "groupchat", "id", xmpp.NewID()).Append(
			xmpp.NewElement(xmpp.NSReceipts, "received", "id", page.OriginID))
	}
	// alice's own receipt, reflected by the room from room/alice.
	if err := alice.session.currentClient().Send(receipt()); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.currentClient().Send(receipt()); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("a receipt to count", 30*time.Second, func() bool {
		m := stored(t, alice, page.ID)
		return m.Members[bob.jid].State >= securestore.ReceiptDelivered || m.Receipt.State != before
	})
	time.Sleep(500 * time.Millisecond) // both receipts handled, whichever came first
	m := stored(t, alice, page.ID)
	if m.Members[bob.jid].State != securestore.ReceiptDelivered {
		t.Errorf("bob's receipt not recorded for bob: %+v", m.Members)
	}
	if m.Receipt.State != before {
		t.Errorf("one occupant's receipt moved the whole page: %v -> %v", before, m.Receipt.State)
	}
	if r, ok := m.Members[alice.jid]; ok {
		t.Errorf("our own reflected receipt counted: %+v", r)
	}
	if r, ok := m.Members[srv.JID("carol")]; ok {
		t.Errorf("carol recorded without a receipt: %+v", r)
	}
	for k := range m.Members {
		if k == "bob" || k == "alice" {
			t.Errorf("member recorded by nick %q, not identity: %+v", k, m.Members)
		}
	}
}
