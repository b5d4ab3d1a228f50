package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// phoneOrDesktop sets the background policy of a phone or a desktop for one test,
// whatever this build's default is.
func phoneOrDesktop(t *testing.T, phone bool) {
	old := lockInBackground
	lockInBackground = phone
	t.Cleanup(func() { lockInBackground = old })
}

// TestBackgroundOnDesktopKeepsSyncing: a desktop that loses focus stays
// signed in and online, and a message in the conversation on screen now
// raises a notification (nobody is looking); back in front it does not.
func TestBackgroundOnDesktopKeepsSyncing(t *testing.T) {
	phoneOrDesktop(t, false)
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	alice.c.SetOpenConversation(bob.jid, true)

	send := func(text string, unread int) {
		t.Helper()
		if _, err := bob.c.Send(alice.jid, text); err != nil {
			t.Fatal(err)
		}
		alice.waitUnread(bob.jid, unread)
	}
	send("seen on screen", 1)
	if n := alice.notifier.countFor(bob.jid); n != 0 {
		t.Fatalf("%d notifications for the conversation on screen", n)
	}

	alice.c.Background()
	if alice.c.Locked() {
		t.Fatal("desktop locked on leaving the foreground")
	}
	send("arrives while in the background", 2)
	if alice.c.Connection().Connectivity != 2 {
		t.Fatal("desktop went offline in the background")
	}
	waitFor(t, "notification while in the background", 10*time.Second, func() bool { return alice.notifier.countFor(bob.jid) == 1 })

	alice.c.Foreground()
	alice.c.SetOpenConversation(bob.jid, true) // withdraws it, as the UI does on focus
	alice.notifier.reset()
	send("seen on screen again", 3)
	time.Sleep(200 * time.Millisecond) // a notification would be raised with the store write
	if n := alice.notifier.countFor(bob.jid); n != 0 {
		t.Fatalf("%d notifications after coming back to the foreground", n)
	}
}

// TestBackgroundOnPhoneLocks: a phone that leaves the screen locks at once
// (store closed; the session listens into the locked inbox for as long as
// the platform lets the app run); coming back shows the lock, and after the
// PIN what arrived meanwhile is there.
func TestBackgroundOnPhoneLocks(t *testing.T) {
	phoneOrDesktop(t, true)
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})

	alice.c.Background()
	if !alice.c.Locked() {
		t.Fatal("phone did not lock on leaving the screen")
	}
	if alice.c.Connection().Connectivity != 0 {
		t.Fatal("session still running in the background")
	}
	waitFor(t, "Locked change", 5*time.Second, func() bool { return alice.changeCount(Change{Kind: Locked}) == 1 })
	if _, err := bob.c.Send(alice.jid, "sent while the phone was in a pocket"); err != nil {
		t.Fatal(err)
	}

	alice.c.Foreground()
	if !alice.c.Locked() {
		t.Fatal("coming back to the screen unlocked without a PIN")
	}
	if _, err := alice.c.Inbox(""); !errors.Is(err, ErrLocked) {
		t.Fatalf("Inbox after Foreground without PIN: %v", err)
	}
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	alice.waitOnline()
	alice.waitUnread(bob.jid, 1)
}
