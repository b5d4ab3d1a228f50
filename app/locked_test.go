package app

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// lockedNotes are d's notifications raised while locked.
func lockedNotes(d *device) []Notification {
	var out []Notification
	for _, n := range d.notifier.notifications() {
		if n.ConversationID == LockedNotification {
			out = append(out, n)
		}
	}
	return out
}

// TestLockedDesktopRingsForStat: a locked desktop keeps its session; a STAT
// page arriving then raises a notification without sender or text, which
// repeats on the policy's interval (injected clock); the sender sees it
// delivered, never read; the unlock screen's banner counts it; the page
// cannot be acknowledged while locked. After the unlock the alert is
// there at once, the banner and the locked notification are gone, the
// acknowledgement reaches the sender, and the message is stored once
// (the catch-up's archive copy is a duplicate).
func TestLockedDesktopRingsForStat(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)

	desk.c.Lock()
	if !desk.c.Locked() || !desk.c.Listening() {
		t.Fatalf("locked %v listening %v", desk.c.Locked(), desk.c.Listening())
	}
	if _, err := desk.c.Inbox(""); !errors.Is(err, ErrLocked) {
		t.Fatalf("Inbox while locked: %v", err)
	}
	sent, err := alice.c.SendClinical(desk.jid, "MARKER-L1 bed 7 K+ 6.9", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "locked notification", 20*time.Second, func() bool { return len(lockedNotes(desk)) == 1 })
	n := lockedNotes(desk)[0]
	if n.Body != "STAT message — unlock Rounds" || !n.Urgent || n.Level != "STAT" || n.Message != 0 {
		t.Fatalf("locked notification %+v", n)
	}
	if containsAny(n, "MARKER") || containsAny(n, "bed") || containsAny(n, "alice") {
		t.Fatalf("the locked notification tells more than the level: %+v", n)
	}
	if text, urgent := desk.c.LockedBanner(); text != "1 STAT message waiting" || !urgent {
		t.Fatalf("banner %q %v", text, urgent)
	}
	waitFor(t, "LockedWaiting change for the unlock screen", 2*time.Second, func() bool { return desk.changeCount(Change{Kind: LockedWaiting}) > 0 })
	waitFor(t, "delivered at the sender", 20*time.Second, func() bool {
		r, _ := alice.messageRow(desk.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptDelivered
	})
	rings := urgentSounds(desk)
	clk.Advance(2 * time.Minute)
	waitFor(t, "repeat while locked", 5*time.Second, func() bool { return urgentSounds(desk) == rings+1 && len(lockedNotes(desk)) == 2 })
	clk.Advance(2 * time.Minute)
	waitFor(t, "second repeat", 5*time.Second, func() bool { return urgentSounds(desk) == rings+2 })
	time.Sleep(200 * time.Millisecond)
	if r, _ := alice.messageRow(desk.jid, sent.ID); r.Receipt.State != securestore.ReceiptDelivered {
		t.Fatalf("sender sees %v while the desk is locked", r.Receipt.State)
	}
	if err := desk.c.Respond(alice.jid, 1, ResponseAck, ""); !errors.Is(err, ErrLocked) {
		t.Fatalf("acknowledge while locked: %v", err)
	}
	// The store file holds no plaintext of it, nor does the locked inbox.
	for _, f := range storeFilesIn(t, desk.cfg.DataDir) {
		for _, name := range []string{f, securestore.InboxPath(f)} {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), "MARKER-L1") {
				t.Fatalf("%s holds the page in clear", name)
			}
		}
	}

	if err := desk.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alert at once after unlock", 2*time.Second, func() bool { _, ok := alertOn(desk, alice.jid); return ok })
	if text, _ := desk.c.LockedBanner(); text != "" || desk.c.Listening() {
		t.Fatalf("after unlock: banner %q listening %v", text, desk.c.Listening())
	}
	if !desk.notifier.clearedFor(LockedNotification) {
		t.Fatal("the locked notification outlived the unlock")
	}
	in := desk.waitIncoming(alice.jid, "MARKER-L1")
	if err := desk.c.Respond(alice.jid, in.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acknowledged at the sender", 20*time.Second, func() bool {
		r, _ := alice.messageRow(desk.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
	desk.waitOnline()
	time.Sleep(300 * time.Millisecond) // the sign-in's catch-up fetched the archive copy
	ms, err := desk.c.Messages(alice.jid, 50)
	if err != nil {
		t.Fatal(err)
	}
	copies := 0
	for _, m := range ms {
		if strings.Contains(m.Body, "MARKER-L1") {
			copies++
		}
	}
	if copies != 1 {
		t.Fatalf("%d copies of the page after unlock and catch-up", copies)
	}
}

// TestLockedRoutineByPolicy: a routine message while locked notifies
// content-free by default; where the policy keeps routine messages quiet
// while locked (device config, or the org policy saying
// routine-notify='false') it raises nothing and the banner leaves it out,
// while an urgent message still notifies.
func TestLockedRoutineByPolicy(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{Policy: Policy{QuietRoutineWhileLocked: true}})

	bob.c.Lock()
	carol.c.Lock()
	for _, to := range []*device{bob, carol} {
		if _, err := alice.c.Send(to.jid, "routine MARKER-R"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "bob's locked notification", 20*time.Second, func() bool { return len(lockedNotes(bob)) == 1 })
	if n := lockedNotes(bob)[0]; n.Body != "New message — unlock Rounds" || n.Urgent {
		t.Fatalf("routine locked notification %+v", n)
	}
	if text, urgent := bob.c.LockedBanner(); text != "1 new message waiting" || urgent {
		t.Fatalf("bob's banner %q %v", text, urgent)
	}
	waitFor(t, "carol's arrival counted", 20*time.Second, func() bool { return carol.changeCount(Change{Kind: LockedWaiting}) > 0 })
	time.Sleep(200 * time.Millisecond)
	if len(lockedNotes(carol)) != 0 {
		t.Fatalf("quiet policy notified: %+v", lockedNotes(carol))
	}
	if text, _ := carol.c.LockedBanner(); text != "" {
		t.Fatalf("quiet policy banner %q", text)
	}
	if _, err := alice.c.SendUrgent(carol.jid, "urgent MARKER-U", securestore.UrgencyHigh); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's urgent notification", 20*time.Second, func() bool { return len(lockedNotes(carol)) == 1 })
	if n := lockedNotes(carol)[0]; n.Body != "Urgent message — unlock Rounds" || !n.Urgent {
		t.Fatalf("urgent locked notification %+v", n)
	}
	if text, _ := carol.c.LockedBanner(); text != "1 Urgent message waiting" {
		t.Fatalf("carol's banner %q", text)
	}

	// The org policy's <locked routine-notify='false'/> makes a device quiet.
	f := false
	if got := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{LockedRoutineNotify: &f}); !got.QuietRoutineWhileLocked {
		t.Fatal("org policy routine-notify=false did not quieten the device")
	}
	tr := true
	if got := mergePolicy(Policy{QuietRoutineWhileLocked: true}.withDefaults(), &OrgPolicy{LockedRoutineNotify: &tr}); !got.QuietRoutineWhileLocked {
		t.Fatal("org policy loosened a quiet device")
	}
}

// TestSignOutWhileListening: signing out of a locked, listening Client
// ends its session (nothing keeps receiving for a signed-out account).
func TestSignOutWhileListening(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	bob.c.Lock()
	bob.c.SignOut()
	if bob.c.Listening() {
		t.Fatal("still listening after sign-out")
	}
	if _, err := alice.c.Send(bob.jid, "after sign-out"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if len(lockedNotes(bob)) != 0 {
		t.Fatal("a signed-out client notified")
	}
}

// TestLockedRingStopsOnAckElsewhere: bob's desk is locked and rings for a
// STAT page; bob acknowledges it on his phone. The desk stops repeating the
// alert while still locked (the clock moves past several repeats), the lock
// screen no longer counts a STAT message, and the locked notification is
// withdrawn. A second STAT page, not acknowledged, still rings.
func TestLockedRingStopsOnAckElsewhere(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)

	desk.c.Lock()
	if !desk.c.Listening() {
		t.Fatal("desk not listening while locked")
	}
	if _, err := alice.c.SendClinical(desk.jid, "MARKER-A1 bed 4", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "locked notification", 20*time.Second, func() bool { return len(lockedNotes(desk)) == 1 })
	in := phone.waitIncoming(alice.jid, "MARKER-A1")
	if err := phone.c.Respond(alice.jid, in.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the banner drops the STAT", 20*time.Second, func() bool {
		text, urgent := desk.c.LockedBanner()
		return !urgent && !strings.Contains(text, "STAT")
	})
	if !desk.notifier.clearedFor(LockedNotification) {
		t.Fatal("the locked notification stays after the ack elsewhere")
	}
	rings := urgentSounds(desk)
	for range 3 {
		clk.Advance(2 * time.Minute)
		time.Sleep(100 * time.Millisecond)
	}
	if got := urgentSounds(desk); got != rings {
		t.Fatalf("the locked desk rang %d more times after bob acknowledged on his phone", got-rings)
	}

	if _, err := alice.c.SendClinical(desk.jid, "MARKER-A2 bed 5", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second page counted", 20*time.Second, func() bool {
		text, urgent := desk.c.LockedBanner()
		return urgent && strings.Contains(text, "1 STAT message")
	})
	rings = urgentSounds(desk)
	clk.Advance(2 * time.Minute)
	waitFor(t, "the second page repeats", 5*time.Second, func() bool { return urgentSounds(desk) > rings })
}

// TestLockedRepeatsForEachPage: with a policy of two repeats, a locked desk
// rings a first STAT page and its two repeats and then stops; a second STAT
// page that comes later gets its own repeats, not none because the first
// used them up.
func TestLockedRepeatsForEachPage(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	desk := signIn(t, srv, "bob", Config{Clock: clk, Resource: "desk",
		Policy: Policy{LockAfter: 24 * time.Hour, UrgentRepeat: 2 * time.Minute, UrgentRepeatCount: 2}})
	desk.c.Lock()
	if _, err := alice.c.SendClinical(desk.jid, "MARKER-R1", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first page rings", 20*time.Second, func() bool { return urgentSounds(desk) == 1 })
	for i := 2; i <= 3; i++ {
		clk.Advance(2 * time.Minute)
		waitFor(t, "a repeat", 5*time.Second, func() bool { return urgentSounds(desk) == i })
	}
	clk.Advance(2 * time.Minute)
	time.Sleep(200 * time.Millisecond)
	if n := urgentSounds(desk); n != 3 {
		t.Fatalf("%d rings for the first page, want 1 and 2 repeats", n)
	}
	if _, err := alice.c.SendClinical(desk.jid, "MARKER-R2", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "second page rings", 20*time.Second, func() bool { return urgentSounds(desk) == 4 })
	clk.Advance(2 * time.Minute)
	time.Sleep(200 * time.Millisecond)
	if n := urgentSounds(desk); n != 5 {
		t.Fatalf("the second page was not repeated: %d rings, want 5", n)
	}
}

// TestLockedRemoteWipe: a remote wipe that arrives while the device is
// locked is judged at once, by the rule the unlocked path uses, with what
// the app kept in memory at the lock (the policy's admins, the store's
// set-up time). A stranger's directive is only sealed (the banner counts
// it; the store and its locked inbox stay); the admin's wipes the profile
// without its key: the store file and the locked inbox are gone, the
// notifications are withdrawn, the Client is signed out and cannot be
// unlocked.
func TestLockedRemoteWipe(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "mallory")
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, `<admin jid='`+it.jid+`'/>`))
	alice := signIn(t, srv, "alice", Config{})
	mallory := signIn(t, srv, "mallory", Config{})
	alice.waitPolicy(1)
	files := storeFilesIn(t, alice.cfg.DataDir)
	if len(files) != 1 {
		t.Fatalf("store files %v", files)
	}
	// A notification up at the lock goes with the wipe.
	if _, err := mallory.c.Send(alice.jid, "before the lock"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "notification before the lock", 20*time.Second, func() bool { return alice.notifier.countFor(mallory.jid) == 1 })
	// Issued times travel with second precision: a directive must not
	// fall in the second alice's store was set up in to prove anything.
	time.Sleep(1100 * time.Millisecond)
	alice.c.Lock()
	if !alice.c.Listening() {
		t.Fatal("not listening while locked")
	}
	inbox := securestore.InboxPath(files[0])

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, ms, _ := mallory.c.sess()
	if err := ms.SendWipe(ctx, alice.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a stranger's wipe sealed", 20*time.Second, func() bool {
		text, _ := alice.c.LockedBanner()
		return text == "1 new message waiting"
	})
	time.Sleep(300 * time.Millisecond)
	for _, f := range []string{files[0], inbox} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("a stranger's wipe while locked removed %s: %v", f, err)
		}
	}
	if !alice.c.Listening() || alice.changeCount(Change{Kind: SignedOut}) != 0 {
		t.Fatal("a stranger's wipe while locked stopped the Client")
	}

	_, is, _ := it.c.sess()
	if err := is.SendWipe(ctx, alice.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice wiped while locked", 20*time.Second, func() bool {
		return len(storeFilesIn(t, alice.cfg.DataDir)) == 0 && alice.changeCount(Change{Kind: SignedOut}) == 1
	})
	for _, f := range []string{files[0], inbox} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s still there after a wipe while locked: %v", f, err)
		}
	}
	if alice.c.Listening() {
		t.Fatal("still listening after a wipe")
	}
	if !alice.notifier.clearedFor(mallory.jid) || !alice.notifier.clearedFor(LockedNotification) {
		t.Fatal("notifications outlived a wipe while locked")
	}
	if err := alice.c.Unlock(context.Background(), testPIN); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("unlock after a wipe while locked: %v", err)
	}
	if HasAccount(alice.cfg) {
		t.Fatal("the device still has an account")
	}
}

// TestLockedWipeRacingUnlock: a remote wipe while locked that runs while
// an Unlock has the store open leaves one of two whole outcomes: either
// the device is wiped (no store file, no keyring secret, signed out) or the
// unlock won and the profile is intact and open. Never a wipe that could
// not read the open store's header and so left its keyring secret behind.
func TestLockedWipeRacingUnlock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	var cfg Config
	cfg.Policy.AllowKeyring = true
	alice := signIn(t, srv, "alice", cfg)
	keyring := alice.cfg.Secrets.(*fakeKeyring)
	secrets := func() int {
		n := 0
		keyring.mu.Range(func(k, _ any) bool {
			if !strings.HasSuffix(k.(string), ".audit") {
				n++
			}
			return true
		})
		return n
	}
	if secrets() == 0 {
		t.Fatal("no keyring secret: the test proves nothing")
	}
	alice.c.Lock()
	alice.c.mu.Lock()
	l := alice.c.listen
	alice.c.mu.Unlock()
	if l == nil {
		t.Fatal("not listening while locked")
	}
	wiped := make(chan error, 1)
	unlockOpened = func() {
		// The wipe starts while Unlock has the store open; it is given
		// time to finish (or to wait its turn) before Unlock goes on.
		go func() { wiped <- alice.c.wipeLockedProfile(l) }()
		select {
		case err := <-wiped:
			wiped <- err
		case <-time.After(3 * time.Second):
		}
	}
	defer func() { unlockOpened = func() {} }()
	unlockErr := alice.c.Unlock(context.Background(), testPIN)
	unlockOpened = func() {}
	select {
	case err := <-wiped:
		if err != nil {
			t.Logf("wipe: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wipe never finished")
	}
	files := storeFilesIn(t, alice.cfg.DataDir)
	if unlockErr == nil {
		if alice.c.Locked() || len(files) != 1 || secrets() == 0 {
			t.Fatalf("unlock won but the profile is not whole: locked %v, files %v, keyring secrets %d", alice.c.Locked(), files, secrets())
		}
		return
	}
	if !errors.Is(unlockErr, ErrSignedOut) {
		t.Fatalf("unlock racing a wipe: %v", unlockErr)
	}
	if len(files) != 0 || secrets() != 0 {
		t.Fatalf("wipe racing an unlock left files %v and %d keyring secrets", files, secrets())
	}
}
