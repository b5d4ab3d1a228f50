package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// TestPresenceRequestAllowOrRefuse, through a real Prosody: when bob asks
// to see alice's presence, alice is shown the request with bob's card name
// and address; allowing sends 'subscribed' (bob's roster then says he sees
// her, and he sees her available) and asks to see bob's in return; when
// carol asks and alice refuses, carol is sent 'unsubscribed', and the
// request is gone from alice's list. A request is asked
// again at sign-in by the server until answered.
func TestPresenceRequestAllowOrRefuse(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := srv.JID("carol")
	publishCard(t, bob, sync.Profile{Name: "Dr Ama Osei", Role: "Cardiology registrar"})

	if err := bob.c.AddContact(alice.jid, "Alice"); err != nil {
		t.Fatal(err)
	}
	var req PresenceRequest
	waitFor(t, "bob's request with his card name", 30*time.Second, func() bool {
		for _, r := range alice.c.PresenceRequests() {
			if r.Address == bob.jid && r.Name == "Dr Ama Osei" {
				req = r
				return true
			}
		}
		return false
	})
	if want := "Dr Ama Osei (" + bob.jid + ") wants to see when you are available"; req.Text != want {
		t.Errorf("request reads %q, want %q", req.Text, want)
	}
	if req.Avatar.Initials != "AO" {
		t.Errorf("request avatar %+v", req.Avatar)
	}
	if err := alice.c.AnswerPresenceRequest(bob.jid, true); err != nil {
		t.Fatal(err)
	}
	if len(alice.c.PresenceRequests()) != 0 {
		t.Errorf("answered request still listed: %+v", alice.c.PresenceRequests())
	}
	subOf := func(d *device, who string) string {
		st, _ := d.c.openSession()
		ct, err := st.Contact(who)
		if err != nil {
			return ""
		}
		return ct.Subscription
	}
	waitFor(t, "bob's roster: he sees alice", 30*time.Second, func() bool { s := subOf(bob, alice.jid); return s == "to" || s == "both" })
	waitFor(t, "bob sees alice available", 30*time.Second, func() bool { show, _ := bob.c.presenceOf(alice.jid); return show == "available" })
	// Alice asked to see bob in return: bob is asked now.
	waitFor(t, "alice's request at bob", 30*time.Second, func() bool {
		for _, r := range bob.c.PresenceRequests() {
			if r.Address == alice.jid {
				return true
			}
		}
		return false
	})

	// Carol asks from a bare client that shows what comes back.
	answers := make(chan string, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("carol"), Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password},
		OnPresence: func(p *xmpp.Presence) {
			if xmpp.BareJID(p.From) == alice.jid && p.Type != "" && p.Type != "unavailable" {
				answers <- p.Type
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Prosody tells only the resources that read the roster.
	if _, err := raw.Roster(ctx); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(xmpp.NewElement(xmpp.NSClient, "presence")); err != nil {
		t.Fatal(err)
	}
	if err := raw.Subscribe(alice.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's request", 30*time.Second, func() bool {
		rs := alice.c.PresenceRequests()
		return len(rs) == 1 && rs[0].Address == carol && strings.HasPrefix(rs[0].Text, carol+" wants")
	})
	// Carol's card was read to name her in the request; a stranger's card
	// is not kept once she is refused (anyone can ask; kept cards are bounded).
	profileKept := func() bool {
		st, _ := alice.c.openSession()
		_, ok := sync.Profiles(st)[carol]
		return ok
	}
	waitFor(t, "carol's card read for her request", 30*time.Second, profileKept)
	if err := alice.c.AnswerPresenceRequest(carol, false); err != nil {
		t.Fatal(err)
	}
	if profileKept() {
		t.Error("refused stranger's card still kept")
	}
	if err := alice.c.AnswerPresenceRequest(carol, false); err != ErrNoPresenceRequest {
		t.Errorf("answering twice: %v", err)
	}
	select {
	case typ := <-answers:
		if typ != "unsubscribed" {
			t.Errorf("carol got %q from alice, want unsubscribed", typ)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("carol got no answer")
	}
	if len(alice.c.PresenceRequests()) != 0 {
		t.Errorf("refused request still listed: %+v", alice.c.PresenceRequests())
	}
}
