package app

import (
	"context"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

func publishCard(t *testing.T, d *device, p sync.Profile) {
	t.Helper()
	_, s := d.c.openSession()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.PublishProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// TestPeopleShowByTheirCards: bob sees people by the names their vCard4
// cards give, with their job title; a card cannot take a name someone else
// shows under: two cards claiming "Dr Ama Osei" both show with their
// address, and the name bob's roster gives dave wins over dave's card;
// bob is "You" to himself. Through a real Prosody (PEP).
func TestPeopleShowByTheirCards(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "mallory", "carol", "dave", "bob")
	bob := signIn(t, srv, "bob", Config{})
	cards := map[string]sync.Profile{
		"alice":   {Name: "Dr Ama Osei", Role: "Cardiology registrar", Unit: "Cardiology", Phone: "+44 20 7946 0012"},
		"mallory": {Name: "Dr. Ama  Оsei", Role: "Consultant"}, // a Cyrillic О
		"carol":   {Name: "Nurse Carol Kim", Role: "Staff nurse"},
		"dave":    {Name: "Nurse Carol Kim"},
	}
	for user, p := range cards {
		d := signIn(t, srv, user, Config{})
		publishCard(t, d, p)
		if _, err := d.c.Send(bob.jid, "hello from "+user); err != nil {
			t.Fatal(err)
		}
	}
	if err := bob.c.AddContact(srv.JID("dave"), "Dave (porter)"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "four chats", 30*time.Second, func() bool { rows, _ := bob.c.Inbox(""); return len(rows) == 4 })
	_, s := bob.c.openSession()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.RefreshProfiles(ctx, srv.JID("alice"), srv.JID("mallory"), srv.JID("carol"), srv.JID("dave")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alice":   "Dr Ama Osei (alice)",
		"mallory": "Dr. Ama Оsei (mallory)",
		"carol":   "Nurse Carol Kim",
		"dave":    "Dave (porter)",
	}
	waitFor(t, "names from cards", 30*time.Second, func() bool {
		for user, name := range want {
			if r, _ := bob.row(srv.JID(user)); r.Title != name {
				return false
			}
		}
		return true
	})
	for user, name := range want {
		r, _ := bob.row(srv.JID(user))
		if r.Title != name {
			t.Errorf("%s: inbox %q, want %q", user, r.Title, name)
		}
	}
	if r, _ := bob.row(srv.JID("alice")); r.Role != "Cardiology registrar" || r.Avatar.Initials != "AO" || r.Avatar.Colour == (Avatar{}).Colour {
		t.Errorf("alice's row: role %q, avatar %+v", r.Role, r.Avatar)
	}
	p := bob.c.Person(srv.JID("alice"))
	if p.Name != "Dr Ama Osei (alice)" || !p.Claimed || p.Unit != "Cardiology" || p.Phone != "+44 20 7946 0012" {
		t.Errorf("Person(alice) %+v", p)
	}
	if me := bob.c.Person(bob.jid); me.Name != "You" || !me.Self {
		t.Errorf("Person(bob) to bob: %+v", me)
	}
	// The conversation's rows name the sender the same way.
	ms, err := bob.c.Messages(srv.JID("carol"), 10)
	if err != nil || len(ms) == 0 || ms[0].Sender != "Nurse Carol Kim" {
		t.Fatalf("carol's message rows: %+v %v", ms, err)
	}
}

// TestCardChangeShowsWithoutSignIn: alice follows bob's card once read;
// when bob publishes a new one, the PEP notification updates alice's inbox
// title and his title in the directory without a new sign-in or refresh.
// Through a real Prosody.
func TestCardChangeShowsWithoutSignIn(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	publishCard(t, bob, sync.Profile{Name: "Bob Mensah", Role: "Staff nurse"})
	if _, err := bob.c.Send(alice.jid, "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's chat", 30*time.Second, func() bool { _, ok := alice.row(bob.jid); return ok })
	_, s := alice.c.openSession()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.RefreshProfiles(ctx, bob.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first card", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return r.Title == "Bob Mensah" })
	publishCard(t, bob, sync.Profile{Name: "Charge Nurse Bob Mensah", Role: "Charge nurse"})
	waitFor(t, "new card shown", 30*time.Second, func() bool {
		r, _ := alice.row(bob.jid)
		return r.Title == "Charge Nurse Bob Mensah" && r.Role == "Charge nurse"
	})
	// The alert card names him the same way, with his avatar and title.
	if _, err := bob.c.SendUrgent(alice.jid, "K+ 6.8 bed 4", securestore.UrgencyHigh); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's alert", 30*time.Second, func() bool { _, ok := alertOn(alice, bob.jid); return ok })
	a, _ := alertOn(alice, bob.jid)
	if a.From != "Charge Nurse Bob Mensah" || a.FromTitle != "Charge nurse" || a.FromAvatar.Initials != "BM" || a.FromAvatar != func() Avatar { r, _ := alice.row(bob.jid); return r.Avatar }() {
		t.Errorf("alert from %q, title %q, avatar %+v", a.From, a.FromTitle, a.FromAvatar)
	}
}
