package sync

import (
	"context"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestRoomMessagesSurviveServerRestart: alice posts to the care-team room and
// the server restarts before the room has passed the messages on. On its way
// down Prosody takes every occupant out of its rooms and the room bounces
// what arrives after that (not-acceptable: "not currently connected"). Those
// bounces say "you were not in the room at that moment", not "you may not
// post here": each message must stay queued, be sent again (same origin-id)
// once alice is back in the room, reach bob once and end sent, never failed.
func TestRoomMessagesSurviveServerRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	room := "care-team@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "alice", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	const n = 60
	ids := alice.send(room, "before-restart", n)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("every message sent or failed", 60*time.Second, func() bool {
		for _, id := range ids {
			if s := alice.receiptState(id); s < securestore.ReceiptSent {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if m, _ := alice.store.Message(id); m.Receipt.State == securestore.ReceiptFailed {
			t.Errorf("message %d failed after the restart: %q", id, m.Receipt.Reason)
		}
	}
	bob.waitFor("the room's messages", 60*time.Second, func() bool { return len(bob.bodies(room, securestore.Incoming)) >= n })
	time.Sleep(500 * time.Millisecond) // a second copy would arrive right behind
	expectExactlyOnce(t, bob.bodies(room, securestore.Incoming), "before-restart", n)
	expectExactlyOnce(t, alice.bodies(room, securestore.Outgoing), "before-restart", n)
}

// TestRoomBounceAfterDropResends: the room has dropped alice while her
// Session still counts her in (what Prosody does when a message it passed to
// her old session after a restart bounces: "Kicked: service unavailable",
// status 333; reproduced here by the same error presence to the room). Her
// next room messages come back not-acceptable ("You are not currently
// connected to this chat"). They must not end failed: the Session rejoins and
// sends them again with the same origin-id; bob gets each once.
func TestRoomBounceAfterDropResends(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	room := "care-team@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "alice", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	dropFromRoom(t, alice, room+"/alice")
	const n = 20
	ids := alice.send(room, "after-drop", n)
	alice.waitFor("every message sent or failed", 60*time.Second, func() bool {
		for _, id := range ids {
			if s := alice.receiptState(id); s < securestore.ReceiptSent {
				return false
			}
		}
		return true
	})
	failed := 0
	for _, id := range ids {
		if m, _ := alice.store.Message(id); m.Receipt.State == securestore.ReceiptFailed {
			failed++
			if failed == 1 {
				t.Errorf("message %d failed: %q", id, m.Receipt.Reason)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d room messages failed after the room dropped the sender", failed, n)
	}
	bob.waitFor("the room's messages", 60*time.Second, func() bool { return len(bob.bodies(room, securestore.Incoming)) >= n })
	time.Sleep(500 * time.Millisecond) // a second copy would arrive right behind
	expectExactlyOnce(t, bob.bodies(room, securestore.Incoming), "after-drop", n)
	if !alice.session.InRoom(room) {
		t.Error("alice is not back in the room")
	}
}

// dropFromRoom makes the room drop d's occupant as Prosody does when a stanza
// it routed to that occupant bounces: an error presence from the occupant's
// real JID (muc.lib.lua handle_kickable). It is written on d's own stream, so
// the room handles it before anything d sends afterwards.
func dropFromRoom(t *testing.T, d *device, occupant string) {
	t.Helper()
	c := d.session.currentClient()
	if c == nil {
		t.Fatal("no client")
	}
	p := xmpp.NewElement(xmpp.NSClient, "presence", "to", occupant, "type", "error")
	e := xmpp.NewElement(xmpp.NSClient, "error", "type", "cancel")
	e.Append(xmpp.NewElement("urn:ietf:params:xml:ns:xmpp-stanzas", "service-unavailable"))
	p.Append(e)
	if err := c.Send(p); err != nil {
		t.Fatal(err)
	}
}

// TestRoomBounceRefusedFailsWithReason: a bounce that the rejoin shows is
// final fails the message with a reason the user can act on: bob's
// membership of one room was revoked and another room was destroyed while
// his Session still counted him in both.
func TestRoomBounceRefusedFailsWithReason(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	revoked, gone := "old-team@conference."+srv.Domain, "closed-ward@conference."+srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	for _, r := range []string{revoked, gone} {
		if err := alice.session.CreateRoom(ctx, r, "alice", "", []string{bob.jid}); err != nil {
			t.Fatal(err)
		}
		if err := bob.session.JoinRoom(ctx, r, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	owner := alice.session.currentClient()
	if _, err := owner.SendIQ(ctx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "set", "to", revoked).Append(
		xmpp.NewElement(xmpp.NSMUCAdmin, "query").Append(
			xmpp.NewElement(xmpp.NSMUCAdmin, "item", "affiliation", "none", "jid", bob.jid)))); err != nil {
		t.Fatal(err)
	}
	if err := owner.DestroyRoom(ctx, gone, "ward closed"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{revoked: "no longer a member", gone: "no longer exists"}
	for r, words := range want {
		ids := bob.send(r, "refused", 2)
		bob.waitFor("failed with a reason", 30*time.Second, func() bool {
			for _, id := range ids {
				if bob.receiptState(id) != securestore.ReceiptFailed {
					return false
				}
			}
			return true
		})
		for _, id := range ids {
			if m, _ := bob.store.Message(id); !strings.Contains(m.Receipt.Reason, words) {
				t.Errorf("%s: message failed with %q, want a reason saying %q", r, m.Receipt.Reason, words)
			}
		}
	}
}
