//go:build unix

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// TestSeedMakesEveryoneMutual: after seeding, every demo account sees every
// other one with a mutual subscription, so the demo's directory and inbox show
// presence instead of "Offline" for people who are online.
func TestSeedMakesEveryoneMutual(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{Domain: "rounds.test"})
	if err := srv.CreateAccounts(demoPassword, append(demoStaff, demoTools...)...); err != nil {
		t.Fatal(err)
	}
	if err := seed(srv, demoPassword); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, user := range demoStaff {
		c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID(user), Resource: "check",
			Credentials: xmpp.Credentials{Password: demoPassword}})
		if err != nil {
			t.Fatal(err)
		}
		items, err := c.Roster(ctx)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != len(demoStaff)-1 {
			t.Fatalf("%s has %d contacts, want %d", user, len(items), len(demoStaff)-1)
		}
		for _, it := range items {
			if it.Subscription != "both" || it.Name == "" {
				t.Errorf("%s sees %s as %q (subscription %s), want a name and both", user, it.JID, it.Name, it.Subscription)
			}
		}
	}
}

// TestSeedPublishesTheStaffCards: after seeding, anyone signed in reads each
// demo account's vCard4 card (XEP-0292) as seeded.
func TestSeedPublishesTheStaffCards(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{Domain: "rounds.test"})
	if err := srv.CreateAccounts(demoPassword, append(demoStaff, demoTools...)...); err != nil {
		t.Fatal(err)
	}
	if err := seed(srv, demoPassword); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("it.admin"), Resource: "check",
		Credentials: xmpp.Credentials{Password: demoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for user, want := range demoCards {
		got, ok, err := c.FetchVCard(ctx, srv.JID(user))
		if err != nil || !ok || got != want {
			t.Errorf("%s: card %+v (ok %v, err %v), want %+v", user, got, ok, err, want)
		}
	}
	// And the pictures (XEP-0084), which pass the checks every device makes.
	for user, want := range demoPictures {
		m, ok, err := c.FetchAvatarMetadata(ctx, srv.JID(user))
		if err != nil || !ok || m.Info == nil || m.Info.ID != xmpp.AvatarID(want) {
			t.Errorf("%s: picture metadata %+v (ok %v, err %v)", user, m.Info, ok, err)
			continue
		}
		if got, err := c.FetchAvatarData(ctx, srv.JID(user), *m.Info); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: picture data: %v", user, err)
		}
	}
}
