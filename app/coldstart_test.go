package app

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// restart ends d's Client as a process that stops does: no sign-out (which
// would remove the listen ticket), its Session closed, its store closed.
// It returns the profile's id.
func restart(t *testing.T, d *device) string {
	t.Helper()
	c := d.c
	c.tickets.wait() // what the last unlock or lock kept is on disk
	c.stopListening()
	if st, ok := c.halt(); ok {
		st.Close()
	}
	c.finish()
	return profileID(d.jid)
}

// coldStart is ListenLocked on d's device, followed like a device.
func coldStart(t *testing.T, d *device, id string) (*device, error) {
	t.Helper()
	c, err := ListenLocked(d.cfg, id)
	if err != nil {
		return nil, err
	}
	nd := &device{t: t, cfg: d.cfg, c: c, notifier: d.notifier, sound: d.sound, jid: d.jid}
	nd.collect()
	t.Cleanup(c.SignOut)
	return nd, nil
}

// lockedOnline waits until d's locked Session is signed in.
func lockedOnline(t *testing.T, d *device) {
	t.Helper()
	waitFor(t, d.jid+" listening online", 30*time.Second, func() bool {
		d.c.mu.Lock()
		l := d.c.listen
		d.c.mu.Unlock()
		return l != nil && l.session.State().Connectivity == sync.Online
	})
}

// TestColdStartLockedRingsForStat: Rounds on a desktop restarts (an update,
// a reboot overnight) and comes up locked. From the listen ticket its last
// unlock kept it signs in without the PIN and listens: a STAT page raises
// the content-free notification, repeats, and the lock screen counts it;
// the sender sees it delivered. Neither the store, the locked inbox nor the
// ticket file holds the page or the account in clear. The PIN then opens
// the store, the alert is up at once, and the acknowledgement reaches the
// sender.
func TestColdStartLockedRingsForStat(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)
	id := restart(t, desk)

	cold, err := coldStart(t, desk, id)
	if err != nil {
		t.Fatalf("cold start: %v", err)
	}
	if !cold.c.Locked() || !cold.c.Listening() || cold.c.LockedNote() != "" {
		t.Fatalf("cold start: locked %v listening %v note %q", cold.c.Locked(), cold.c.Listening(), cold.c.LockedNote())
	}
	if _, err := cold.c.Inbox(""); !errors.Is(err, ErrLocked) {
		t.Fatalf("Inbox of a cold-started Client: %v", err)
	}
	lockedOnline(t, cold)
	sent, err := alice.c.SendClinical(desk.jid, "MARKER-C1 bed 3 K+ 7.1", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "locked notification after a cold start", 20*time.Second, func() bool { return len(lockedNotes(cold)) == 1 })
	n := lockedNotes(cold)[0]
	if n.Body != "STAT message — unlock Rounds" || !n.Urgent || containsAny(n, "MARKER") || containsAny(n, "alice") {
		t.Fatalf("locked notification %+v", n)
	}
	if text, urgent := cold.c.LockedBanner(); text != "1 STAT message waiting" || !urgent {
		t.Fatalf("banner %q %v", text, urgent)
	}
	waitFor(t, "delivered at the sender", 20*time.Second, func() bool {
		r, _ := alice.messageRow(desk.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptDelivered
	})
	rings := urgentSounds(cold)
	clk.Advance(2 * time.Minute)
	waitFor(t, "repeat while cold-started locked", 5*time.Second, func() bool { return urgentSounds(cold) == rings+1 })
	// Delivered, never read: no displayed marker (XEP-0333) leaves a
	// locked device, cold-started or not.
	time.Sleep(2 * time.Second)
	if r, _ := alice.messageRow(desk.jid, sent.ID); r.Receipt.State != securestore.ReceiptDelivered {
		t.Fatalf("the page at the sender while bob is cold-started locked: receipt state %v, want delivered", r.Receipt.State)
	}
	for _, f := range storeFilesIn(t, desk.cfg.DataDir) {
		for _, name := range []string{f, securestore.InboxPath(f), securestore.ListenPath(f)} {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, clear := range []string{"MARKER-C1", desk.jid, "bob@"} {
				if strings.Contains(string(raw), clear) {
					t.Fatalf("%s holds %q in clear", name, clear)
				}
			}
		}
	}
	if err := cold.c.Respond(alice.jid, 1, ResponseAck, ""); !errors.Is(err, ErrLocked) {
		t.Fatalf("acknowledge while cold-started locked: %v", err)
	}

	if err := cold.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alert at once after unlock", 2*time.Second, func() bool { _, ok := alertOn(cold, alice.jid); return ok })
	if !cold.notifier.clearedFor(LockedNotification) || cold.c.Listening() {
		t.Fatalf("after unlock: locked notification cleared %v, listening %v", cold.notifier.clearedFor(LockedNotification), cold.c.Listening())
	}
	in := cold.waitIncoming(alice.jid, "MARKER-C1")
	if err := cold.c.Respond(alice.jid, in.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acknowledged at the sender", 20*time.Second, func() bool {
		r, _ := alice.messageRow(desk.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
}

// TestColdStartDeafSaysSo: without the keyring item (a keyring wiped or
// unavailable, the ticket copied to another machine) or with a damaged
// ticket file, or with the policy off, a cold start does not listen, does
// not crash, says so in the lock screen's words, and the PIN opens the
// profile as before.
func TestColdStartDeafSaysSo(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	desk := signIn(t, srv, "bob", Config{})
	id := restart(t, desk)
	path := ProfileStorePath(desk.cfg.DataDir, id)
	if _, err := os.Stat(securestore.ListenPath(path)); err != nil {
		t.Fatalf("no listen ticket kept at sign-in: %v", err)
	}

	other := desk.cfg
	other.Secrets = &fakeKeyring{} // the ticket without its keyring item
	if _, err := ListenLocked(other, id); !errors.Is(err, ErrNotListening) || ColdStartNote(err) != noteDeaf {
		t.Fatalf("cold start without the keyring item: %v, note %q", err, ColdStartNote(err))
	}
	raw, err := os.ReadFile(securestore.ListenPath(path))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-3] ^= 0x40
	if err := os.WriteFile(securestore.ListenPath(path), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenLocked(desk.cfg, id); !errors.Is(err, ErrNotListening) || !errors.Is(err, securestore.ErrCorrupt) {
		t.Fatalf("cold start with a damaged ticket: %v", err)
	}
	off := desk.cfg
	off.Policy.DeafAfterRestart = true
	if _, err := ListenLocked(off, id); !errors.Is(err, ErrNotListening) {
		t.Fatalf("cold start with the policy off: %v", err)
	}
	c, err := UnlockProfile(t.Context(), off, id, testPIN)
	if err != nil {
		t.Fatalf("PIN after a deaf cold start: %v", err)
	}
	defer c.SignOut()
	// The policy off removes the ticket at the unlock.
	c.tickets.wait()
	if _, err := os.Stat(securestore.ListenPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("listen ticket kept with the policy off: %v", err)
	}
}

// TestColdStartKeysRefused: the password was changed on the server while
// Rounds was stopped. The cold-started Client is refused once, stops (no
// retry storm), raises nothing and its lock screen says why; the PIN still
// opens the store.
func TestColdStartKeysRefused(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	desk := signIn(t, srv, "bob", Config{})
	id := restart(t, desk)
	if err := srv.CreateAccount("bob", "a-new-password-1"); err != nil {
		t.Fatal(err)
	}
	cold, err := coldStart(t, desk, id)
	if err != nil {
		t.Fatalf("cold start: %v", err)
	}
	waitFor(t, "the refusal on the lock screen", 30*time.Second, func() bool { return cold.c.LockedNote() == noteKeysRefused })
	cold.c.mu.Lock()
	l := cold.c.listen
	cold.c.mu.Unlock()
	time.Sleep(2 * time.Second)
	if st := l.session.State(); st.Connectivity != sync.AuthFailed || st.Attempt != 1 {
		t.Fatalf("after the refusal: %+v, want AuthFailed after 1 attempt", st)
	}
	if len(lockedNotes(cold)) != 0 {
		t.Fatalf("notified: %+v", lockedNotes(cold))
	}
	if err := cold.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatalf("PIN after the refusal: %v", err)
	}
	if cold.c.LockedNote() != "" {
		t.Fatalf("note after unlock %q", cold.c.LockedNote())
	}
}

// stuckKeyring is a keyring whose Set does not return until released (a
// Secret Service that hangs, or waits for the user to unlock it).
type stuckKeyring struct {
	fakeKeyring
	release chan struct{}
}

func (k *stuckKeyring) Set(id string, s []byte) error {
	<-k.release
	return k.fakeKeyring.Set(id, s)
}

// TestListenTicketOffTheUnlockPath: a keyring that hangs does not hold up
// the sign-in, the lock or the unlock: keeping the listen ticket waits
// for it on the side.
func TestListenTicketOffTheUnlockPath(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	k := &stuckKeyring{release: make(chan struct{})}
	cfg := testConfig(t)
	cfg.Secrets = k
	done := make(chan struct{})
	var d *device
	go func() {
		defer close(done)
		d = signIn(t, srv, "bob", cfg)
		d.c.Lock()
		if err := d.c.Unlock(t.Context(), testPIN); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		close(k.release)
		t.Fatal("sign-in, lock and unlock waited for a hanging keyring")
	}
	close(k.release)
	d.c.tickets.wait()
	if _, err := os.Stat(securestore.ListenPath(d.c.path)); err != nil {
		t.Fatalf("the ticket after the keyring answered: %v", err)
	}
}

// TestColdStartRoomStat: the rooms the person is in are part of what the
// lock keeps: after a restart the locked Client joins them, and a STAT in
// the ward's room rings content-free before the PIN; the unlock merges it.
func TestColdStartRoomStat(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)
	room := "ward-4b@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{desk.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	desk.c.Lock() // the ticket names the room now
	id := restart(t, desk)
	cold, err := coldStart(t, desk, id)
	if err != nil {
		t.Fatalf("cold start: %v", err)
	}
	lockedOnline(t, cold)
	if _, err := alice.c.SendClinical(room, "MARKER-RS ward 4B arrest bed 2", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the room's STAT rung after a cold start", 30*time.Second, func() bool { return len(lockedNotes(cold)) == 1 })
	if n := lockedNotes(cold)[0]; n.Body != "STAT message — unlock Rounds" || containsAny(n, "ward") || containsAny(n, "MARKER") {
		t.Fatalf("locked notification %+v", n)
	}
	if err := cold.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	cold.waitIncoming(room, "MARKER-RS")
}

// TestColdStartCoversForDND: bob is on do not disturb with carol covering
// when his Rounds restarts. Locked from a cold start it answers and
// forwards as a locked Rounds does: alice's STAT page reaches carol, alice
// gets the reply, and after the unlock the forward is audited once.
func TestColdStartCoversForDND(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	id := restart(t, bob)
	cold, err := coldStart(t, bob, id)
	if err != nil {
		t.Fatalf("cold start: %v", err)
	}
	lockedOnline(t, cold)
	if _, err := alice.c.SendClinical(bob.jid, "MARKER-CD bed 4 K+ 7.1", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forward at carol from a cold-started locked bob", 30*time.Second, func() bool {
		for _, r := range rowsFrom(carol, bob.jid) {
			if r.Forward != nil && strings.Contains(r.Body, "MARKER-CD") {
				return true
			}
		}
		return false
	})
	waitFor(t, "the reply at alice", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) >= 1 })
	if err := cold.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forward audited once after the unlock", 30*time.Second, func() bool {
		es, err := cold.c.AuditEntries()
		if err != nil {
			return false
		}
		n := 0
		for _, e := range es {
			if e.Kind == AuditDNDForward {
				n++
			}
		}
		return n == 1
	})
}

// TestColdStartPolicyOffLive: the hospital publishes <cold-start
// listen='false'/> while alice is signed in: her listen ticket goes at
// once, and a restart does not listen.
func TestColdStartPolicyOffLive(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice")
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, ``)) // the node exists before alice signs in
	alice := signIn(t, srv, "alice", Config{})
	alice.waitPolicy(1)
	path := ProfileStorePath(alice.cfg.DataDir, profileID(alice.jid))
	alice.c.tickets.wait()
	if _, err := os.Stat(securestore.ListenPath(path)); err != nil {
		t.Fatalf("no ticket before the policy: %v", err)
	}
	publish(t, it, PolicyNode, policyXML(2, `<cold-start listen='false'/>`))
	alice.waitPolicy(2)
	waitFor(t, "the ticket removed by the policy", 10*time.Second, func() bool {
		_, err := os.Stat(securestore.ListenPath(path))
		return errors.Is(err, os.ErrNotExist)
	})
	id := restart(t, alice)
	if _, err := ListenLocked(alice.cfg, id); !errors.Is(err, ErrNotListening) {
		t.Fatalf("cold start after the policy turned it off: %v", err)
	}
}

// stuckGetKeyring answers Get only when released.
type stuckGetKeyring struct {
	fakeKeyring
	release chan struct{}
}

func (k *stuckGetKeyring) Get(id string) ([]byte, error) {
	<-k.release
	return k.fakeKeyring.Get(id)
}

// TestColdStartKeyringHangs: a keyring that does not answer at the start
// leaves Rounds deaf with the plain words, after keyringWait, instead of
// holding up the lock screen.
func TestColdStartKeyringHangs(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	desk := signIn(t, srv, "bob", Config{})
	id := restart(t, desk)
	k := &stuckGetKeyring{release: make(chan struct{})}
	defer close(k.release)
	desk.cfg.Secrets.(*fakeKeyring).mu.Range(func(key, v any) bool { k.fakeKeyring.mu.Store(key, v); return true })
	cfg := desk.cfg
	cfg.Secrets = k
	old := keyringWait
	keyringWait = 200 * time.Millisecond
	defer func() { keyringWait = old }()
	done := make(chan error, 1)
	go func() { _, err := ListenLocked(cfg, id); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotListening) || ColdStartNote(err) != noteDeaf {
			t.Fatalf("cold start with a hanging keyring: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the start waited for a hanging keyring")
	}
}

// TestColdStartKeepsDNDPresence: bob is off shift when his desktop
// restarts. Locked, his Session went on announcing it (xa with the
// automatic reply as status); the cold-started one does too, not the
// presence he chose before (available), which told alice he could be
// reached.
func TestColdStartKeepsDNDPresence(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	if err := alice.c.AddContact(bob.jid, "Bob"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice's request at bob", 30*time.Second, func() bool { return len(bob.c.PresenceRequests()) == 1 })
	if err := bob.c.AnswerPresenceRequest(alice.jid, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice sees bob available", 30*time.Second, func() bool { show, _ := alice.c.presenceOf(bob.jid); return show == "available" })
	if err := bob.c.SetDND(DNDSettings{Reply: "Off shift, page the charge nurse", OffShift: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice sees bob off shift", 30*time.Second, func() bool { show, _ := alice.c.presenceOf(bob.jid); return show == "xa" })
	id := restart(t, bob)
	waitFor(t, "alice sees bob gone", 30*time.Second, func() bool { show, _ := alice.c.presenceOf(bob.jid); return show == "" })
	cold, err := coldStart(t, bob, id)
	if err != nil {
		t.Fatalf("cold start: %v", err)
	}
	lockedOnline(t, cold)
	var show, status string
	waitFor(t, "alice sees the cold-started bob", 30*time.Second, func() bool { show, status = alice.c.presenceOf(bob.jid); return show != "" })
	if show != "xa" || status != "Off shift, page the charge nurse" {
		t.Fatalf("alice sees the cold-started bob as %q %q; want off shift (xa) with his reply", show, status)
	}
}

// listenItems are the listen tickets' items in k.
func listenItems(k *fakeKeyring) []string {
	var out []string
	k.mu.Range(func(key, _ any) bool {
		if strings.HasPrefix(key.(string), "listen-") {
			out = append(out, key.(string))
		}
		return true
	})
	return out
}

// TestListenTicketSignOutRemovesItsKey: signing out (and End shift that
// keeps the profile, which signs out) removes the ticket file and its
// keyring item. A copy of the file taken before (a backup, a disk image)
// must not open with what the keyring still holds.
func TestListenTicketSignOutRemovesItsKey(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	desk := signIn(t, srv, "bob", Config{})
	desk.c.tickets.wait()
	path := ProfileStorePath(desk.cfg.DataDir, profileID(desk.jid))
	copied, err := os.ReadFile(securestore.ListenPath(path))
	if err != nil {
		t.Fatalf("no ticket kept at sign-in: %v", err)
	}
	keys := desk.cfg.Secrets.(*fakeKeyring)
	if n := len(listenItems(keys)); n != 1 {
		t.Fatalf("%d listen items in the keyring after sign-in, want 1", n)
	}
	desk.c.SignOut()
	desk.c.tickets.wait()
	if _, err := os.Stat(securestore.ListenPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ticket file after sign-out: %v", err)
	}
	if left := listenItems(keys); len(left) != 0 {
		t.Fatalf("sign-out left the listen ticket's keyring item %v", left)
	}
	if err := os.WriteFile(securestore.ListenPath(path), copied, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenLocked(desk.cfg, profileID(desk.jid)); !errors.Is(err, ErrNotListening) {
		t.Fatalf("a ticket copied before the sign-out still listens: %v", err)
	}
}

// TestListenTicketOfAnotherProfile: a shared phone holds two profiles.
// Alice's ticket file put in place of bob's (a swap on the disk, a
// restored backup) must not make bob's profile listen as alice: its lock
// screen would name her, her pages would ring as his and be sealed into
// his inbox (which his key cannot open), and her PIN typed at his store
// would count towards erasing it.
func TestListenTicketOfAnotherProfile(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	base := testConfig(t)
	alice := signIn(t, srv, "alice", base)
	aliceID := restart(t, alice)
	bob := signIn(t, srv, "bob", base)
	bobID := restart(t, bob)
	raw, err := os.ReadFile(securestore.ListenPath(ProfileStorePath(base.DataDir, aliceID)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(securestore.ListenPath(ProfileStorePath(base.DataDir, bobID)), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ListenLocked(base, bobID)
	if err == nil {
		defer c.SignOut()
		t.Fatalf("bob's profile listens from alice's ticket as %s", c.Account())
	}
	if !errors.Is(err, ErrNotListening) {
		t.Fatalf("bob's profile with alice's ticket: %v", err)
	}
}

// TestListenTicketNotKeptAfterWipe: the keyring hangs while the sign-in's
// listen ticket is being kept, and the device is wiped meanwhile (the
// user, a remote wipe). When the keyring answers, the late job must not
// put the ticket (the SCRAM keys, with a live keyring item) back next to
// a wiped profile.
func TestListenTicketNotKeptAfterWipe(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	k := &stuckKeyring{release: make(chan struct{})}
	cfg := testConfig(t)
	cfg.Secrets = k
	d := signIn(t, srv, "bob", cfg)
	if err := d.c.WipeDevice(); err != nil {
		close(k.release)
		t.Fatal(err)
	}
	close(k.release)
	d.c.tickets.wait()
	if _, err := os.Stat(securestore.ListenPath(d.c.path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a listen ticket next to the wiped store: %v", err)
	}
	if left := listenItems(&k.fakeKeyring); len(left) != 0 {
		t.Fatalf("the wipe left listen items in the keyring: %v", left)
	}
}

// TestColdStartSharedPhoneListensForTheNextPerson: the 07:00 hand-over on
// a shared device. Alice's Rounds is locked and listening; bob signs in
// (the Controller locks and signs alice out first). Then the device
// restarts: the lock screen's profile (the first in the list) is bob's and
// listens as bob; alice's ticket and its keyring item are gone, and her
// profile does not listen.
func TestColdStartSharedPhoneListensForTheNextPerson(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	base := testConfig(t)
	alice := signIn(t, srv, "alice", base)
	alice.c.Lock()
	alice.c.SignOut()
	alice.c.tickets.wait()
	bob := signIn(t, srv, "bob", base)
	restart(t, bob)
	profiles, err := Profiles(base)
	if err != nil || len(profiles) != 2 {
		t.Fatalf("profiles %v %v", profiles, err)
	}
	if !strings.EqualFold(profiles[0].Account, bob.jid) {
		t.Fatalf("after bob signed in, the lock screen's profile is %s", profiles[0].Account)
	}
	if _, err := ListenLocked(base, profileID(alice.jid)); !errors.Is(err, ErrNotListening) {
		t.Fatalf("alice's profile listens after she was signed out for bob: %v", err)
	}
	if _, err := os.Stat(securestore.ListenPath(ProfileStorePath(base.DataDir, profileID(alice.jid)))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("alice's ticket file after bob signed in: %v", err)
	}
	if n := len(listenItems(base.Secrets.(*fakeKeyring))); n != 1 {
		t.Fatalf("%d listen items in the keyring, want bob's one", n)
	}
	cold, err := coldStart(t, bob, profiles[0].ID)
	if err != nil {
		t.Fatalf("bob's cold start: %v", err)
	}
	if !strings.EqualFold(cold.c.Account(), bob.jid) || !cold.c.Listening() {
		t.Fatalf("cold start listens as %s (%v)", cold.c.Account(), cold.c.Listening())
	}
}

// TestColdStartPolicyOffWhileColdStarted: the hospital turns listening
// from a cold start off while a desktop sits cold-started at its lock
// screen overnight. The ticket (the SCRAM keys) goes as soon as the policy
// reaches it, as on an unlocked or locked Rounds, not at the next unlock.
func TestColdStartPolicyOffWhileColdStarted(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice")
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, ``))
	alice := signIn(t, srv, "alice", Config{})
	alice.waitPolicy(1)
	id := restart(t, alice)
	path := ProfileStorePath(alice.cfg.DataDir, id)
	cold, err := coldStart(t, alice, id)
	if err != nil {
		t.Fatal(err)
	}
	lockedOnline(t, cold)
	publish(t, it, PolicyNode, policyXML(2, `<cold-start listen='false'/>`))
	waitFor(t, "the ticket removed by the policy while cold-started", 15*time.Second, func() bool {
		_, err := os.Stat(securestore.ListenPath(path))
		return errors.Is(err, os.ErrNotExist)
	})
	waitFor(t, "the ticket's keyring item removed by the policy while cold-started", 10*time.Second, func() bool {
		return len(listenItems(alice.cfg.Secrets.(*fakeKeyring))) == 0
	})
}

// TestLockedNoteSaysOffline: a lock screen that listens looks the same as
// one that cannot reach the server. When the locked (here cold-started)
// Session loses the server and its attempts fail, the lock screen says
// that nothing can ring here until the connection is back; once it is
// back, the note goes.
func TestLockedNoteSaysOffline(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob")
	desk := signIn(t, srv, "bob", Config{})
	id := restart(t, desk)
	cold, err := coldStart(t, desk, id)
	if err != nil {
		t.Fatal(err)
	}
	lockedOnline(t, cold)
	if n := cold.c.LockedNote(); n != "" {
		t.Fatalf("note while listening online: %q", n)
	}
	srv.Halt()
	waitFor(t, "the lock screen says it is not connected", 30*time.Second, func() bool { return cold.c.LockedNote() == noteOffline })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the note gone once connected again", 90*time.Second, func() bool { return cold.c.LockedNote() == "" })
}

// TestEndShiftKeptRemovesListenTicket: End shift that keeps the profile
// locked for the next shift removes the listen ticket and its keyring
// item: the profile is kept, nobody listens for the person who left, and
// a copy of the ticket taken during the shift opens nothing.
func TestEndShiftKeptRemovesListenTicket(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	phone := sharedPhone(t, nil, Policy{ShiftKeep: 10 * time.Hour})
	alice := signIn(t, srv, "alice", phone)
	alice.c.tickets.wait()
	id := profileID(alice.jid)
	path := ProfileStorePath(phone.DataDir, id)
	copied, err := os.ReadFile(securestore.ListenPath(path))
	if err != nil {
		t.Fatalf("no ticket during the shift: %v", err)
	}
	h, err := alice.c.EndShift(t.Context())
	if err != nil || h.Keep == 0 {
		t.Fatalf("end shift: %+v %v", h, err)
	}
	alice.c.tickets.wait()
	if _, err := os.Stat(securestore.ListenPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ticket file after End shift: %v", err)
	}
	if left := listenItems(phone.Secrets.(*fakeKeyring)); len(left) != 0 {
		t.Fatalf("End shift left the keyring item %v", left)
	}
	if err := os.WriteFile(securestore.ListenPath(path), copied, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenLocked(phone, id); !errors.Is(err, ErrNotListening) {
		t.Fatalf("a ticket copied during the shift listens after End shift: %v", err)
	}
}
