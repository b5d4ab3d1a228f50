package sync

import (
	"context"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestRoomThreeMembers: a care-team room with three staff. Each message is
// stored once by everyone (the sender's own reflection included), and read
// markers are kept per member.
func TestRoomThreeMembers(t *testing.T) {
	roomScenario(t, testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol"), "icu-team")
}

func roomScenario(t *testing.T, srv *testserver.Server, name string) {
	ctx := context.Background()
	room := name + "@conference." + srv.Domain
	devs := map[string]*device{}
	for _, u := range []string{"alice", "bob", "carol"} {
		d := startDevice(t, srv, u, deviceOptions{})
		if err := d.session.JoinRoom(ctx, room, u); err != nil {
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
	for _, d := range []*device{alice, bob} {
		if err := d.session.JoinRoom(ctx, room, d.jid[:3]); err != nil {
			t.Fatal(err)
		}
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
