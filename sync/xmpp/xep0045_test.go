package xmpp

import (
	"errors"
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

// TestMUCAgainstProsody: alice creates a room (it must be unlocked for bob to
// get in), both see a groupchat with the room's stanza-id, alice gets her
// reflection with her origin-id, the room's archive holds it, the owner sees
// real JIDs in this semi-anonymous room while a participant does not, a nick
// in use is a conflict, and LeaveRoom is seen by the others.
func TestMUCAgainstProsody(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	room := "ward7@conference." + s.Domain
	var aBox, bBox inbox
	var aPres, bPres presences
	ac, bc := baseConfig(s, "alice"), baseConfig(s, "bob")
	ac.OnMessage, ac.OnPresence = aBox.add, aPres.add
	bc.OnMessage, bc.OnPresence = bBox.add, bPres.add
	alice, bob, carol := dialT(t, ac), dialT(t, bc), dialT(t, baseConfig(s, "carol"))

	if err := alice.JoinRoom(ctxT(t), room, "Dr A"); err != nil {
		t.Fatal(err)
	}
	if err := bob.JoinRoom(ctxT(t), room, "Nurse B"); err != nil {
		t.Fatalf("second occupant (room still locked?): %v", err)
	}
	if !alice.isJoinedRoom(room) || !bob.isJoinedRoom(room) {
		t.Fatal("joined rooms not recorded")
	}

	// Alice is the owner, so she sees bob's real JID; bob does not see hers.
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
	if real := OccupantRealJID(aliceSeen); real != "" {
		t.Fatalf("participant sees real JID %q in a semi-anonymous room", real)
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
