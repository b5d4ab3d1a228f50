package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// sharedPhone is one device's configuration that several people sign in on.
func sharedPhone(t *testing.T, clk *fakeClock, pol Policy) Config {
	cfg := testConfig(t)
	cfg.Policy = pol
	if clk != nil {
		cfg.Clock = clk
	}
	return cfg
}

func profileOf(t *testing.T, cfg Config, account string) Profile {
	t.Helper()
	list, err := Profiles(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if p.Account == account {
			return p
		}
	}
	t.Fatalf("no profile for %s in %+v", account, list)
	return Profile{}
}

// TestSharedPhoneProfiles: two nurses on one phone, each with a store and a
// PIN of their own. Switching signs the first out completely (nothing of
// hers is reachable through her Client, her messages raise no notification
// on the phone while the other is active) and she finds everything again
// when she switches back; a PIN is tried only on the store of the person
// chosen; the list on disk names who uses the phone and nothing else.
func TestSharedPhoneProfiles(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave")
	phone := sharedPhone(t, nil, Policy{})
	carol := signIn(t, srv, "carol", Config{})
	dave := signIn(t, srv, "dave", Config{})

	alice := signIn(t, srv, "alice", phone)
	if _, err := carol.c.Send(alice.jid, "MARKER-ALICE-1 bed 4 obs"); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(carol.jid, 1)

	// Switch user: Alice's Client is locked and signed out first.
	alice.c.Lock()
	alice.c.SignOut()
	for _, err := range []error{errOf(alice.c.Inbox("")), errOf(alice.c.Messages(carol.jid, 10)), errOf(alice.c.Directory(""))} {
		if !errors.Is(err, ErrSignedOut) {
			t.Fatalf("Alice's data reachable after switching: %v", err)
		}
	}
	if alice.c.Unlock(context.Background(), testPIN) == nil {
		t.Fatal("a signed-out Client unlocked again")
	}

	bobPIN := []byte("135790")
	c, err := SignIn(context.Background(), phone, srv.JID("bob"), testserver.Password, srv.WSURL(), bobPIN)
	if err != nil {
		t.Fatalf("second person on the phone: %v", err)
	}
	bob := &device{t: t, cfg: phone, c: c, notifier: phone.Notifier.(*fakeNotifier), sound: phone.Sound.(*fakeSound), jid: srv.JID("bob")}
	bob.collect()
	t.Cleanup(c.SignOut)
	bob.waitOnline()
	phone.Notifier.(*fakeNotifier).reset()

	// While Bob is active, a message to Alice raises nothing on the phone;
	// Bob's own messages do.
	if _, err := dave.c.Send(alice.jid, "MARKER-ALICE-2 while bob holds the phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.c.Send(bob.jid, "MARKER-BOB-1"); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(carol.jid, 1)
	waitFor(t, "Bob's notification", 10*time.Second, func() bool { return bob.notifier.countFor(carol.jid) > 0 })
	if n := bob.notifier.countFor(dave.jid); n != 0 {
		t.Fatalf("%d notifications for Alice's message while Bob was active", n)
	}
	rows, err := bob.c.Inbox("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == dave.jid || strings.Contains(r.Preview, "MARKER-ALICE") {
			t.Fatalf("Alice's conversation in Bob's inbox: %+v", r)
		}
	}

	// The lock screen's list: Bob (last used) first, then Alice, by name.
	list, err := Profiles(phone)
	if err != nil || len(list) != 2 || list[0].Account != bob.jid || list[1].Account != alice.jid || list[1].Label() != "alice" {
		t.Fatalf("profiles %+v %v", list, err)
	}
	if _, err := Unlock(context.Background(), phone, testPIN); !errors.Is(err, ErrChooseProfile) {
		t.Fatalf("Unlock with two profiles: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(phone.DataDir, profileListName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(alice.jid)) || bytes.Contains(raw, []byte("MARKER")) || bytes.Contains(raw, testPIN) {
		t.Fatalf("profile list holds more than who uses the phone: %s", raw)
	}

	// Switch back: Bob out, Alice in with her PIN; her wrong PIN costs
	// her store an attempt, never Bob's.
	bob.c.Lock()
	bob.c.SignOut()
	var wp *WrongPINError
	if _, err := UnlockProfile(context.Background(), phone, list[1].ID, bobPIN); !errors.As(err, &wp) {
		t.Fatalf("Bob's PIN on Alice's profile: %v", err)
	}
	st, err := securestore.Open(ProfileStorePath(phone.DataDir, list[0].ID), bobPIN, phone.storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := st.AuditLog()
	st.Close()
	for _, e := range entries {
		if e.Kind == securestore.AuditUnlockFailed {
			t.Fatalf("Alice's wrong PIN counted on Bob's store: %+v", e)
		}
	}
	back, err := UnlockProfile(context.Background(), phone, list[1].ID, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(back.SignOut)
	again := &device{t: t, cfg: phone, c: back, notifier: phone.Notifier.(*fakeNotifier), sound: phone.Sound.(*fakeSound), jid: alice.jid}
	again.waitUnread(dave.jid, 1)
	if p := profileOf(t, phone, alice.jid); !p.LastUsed.After(profileOf(t, phone, bob.jid).LastUsed) {
		t.Fatal("Alice not first on the lock screen after switching back")
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestSingleProfileMigration: a device set up by a version with one store
// file per device (<DataDir>/<id>.db and its vault) keeps every message:
// the store and its vault move into the profile layout on the first start,
// and the profile learns its name at the first unlock.
func TestSingleProfileMigration(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	bob := signIn(t, srv, "bob", Config{})
	alice := signIn(t, srv, "alice", Config{})
	if _, err := bob.c.Send(alice.jid, "MARKER-OLD-LAYOUT"); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(bob.jid, 1)
	alice.c.SignOut()

	// Put the store back where the single-profile version kept it.
	dir := alice.cfg.DataDir
	id := profileID(alice.jid)
	old := filepath.Join(dir, id+".db")
	if err := os.Rename(StorePath(dir, alice.jid), old); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(old+".vault", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old+".vault", "blob"), []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, profilesDirName)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, profileListName)); err != nil {
		t.Fatal(err)
	}

	list, err := Profiles(alice.cfg)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Account != "" {
		t.Fatalf("after the move: %+v %v", list, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("old store still there: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(StorePath(dir, alice.jid)+".vault", "blob")); err != nil || string(b) != "sealed" {
		t.Fatalf("vault not moved with its store: %q %v", b, err)
	}
	c, err := Unlock(context.Background(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	defer c.SignOut()
	ms, err := c.Messages(bob.jid, 10)
	if err != nil || len(ms) != 1 || ms[0].Body != "MARKER-OLD-LAYOUT" {
		t.Fatalf("messages after the move: %+v %v", ms, err)
	}
	if p := profileOf(t, alice.cfg, alice.jid); p.Name != "alice" {
		t.Fatalf("profile not named at unlock: %+v", p)
	}
}

// TestCheckSignInBeforePIN: the password is checked with the server before
// a PIN is asked for; a wrong one creates nothing. The check reads the
// hospital's published PIN minimum (8 here, the device's own is 4), so the
// PIN screen can ask for it, and a PIN under it leaves the checked sign-in
// waiting for a better PIN rather than costing the password again.
func TestCheckSignInBeforePIN(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice")
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, `<pin min-length='8'/>`))
	cfg := sharedPhone(t, nil, Policy{})
	ctx := context.Background()
	if _, err := CheckSignIn(ctx, cfg, srv.JID("alice"), "not the password", srv.WSURL()); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if HasAccount(cfg) || len(storeFilesIn(t, cfg.DataDir)) != 0 {
		t.Fatal("a wrong password created a profile")
	}
	p, err := CheckSignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSURL())
	if err != nil || p.Existing || p.Account() != srv.JID("alice") {
		t.Fatalf("%+v %v", p, err)
	}
	if HasAccount(cfg) {
		t.Fatal("a profile before the PIN")
	}
	if p.MinPINLength() != 8 {
		t.Fatalf("PIN minimum at sign-in %d, want the published 8", p.MinPINLength())
	}
	var short *PINTooShortError
	if _, err := p.Finish([]byte("123456")); !errors.As(err, &short) || short.Min != 8 {
		t.Fatalf("short PIN: %v", err)
	}
	c, err := p.Finish([]byte("12345678"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "online", 30*time.Second, func() bool { return c.Connection().Connectivity == Online })
	if _, err := p.Finish([]byte("12345678")); err == nil {
		t.Fatal("a finished sign-in finished twice")
	}
	c.SignOut()

	// Signing in again as someone already on the device asks for their
	// own PIN (a wrong one counts), not a new one.
	again, err := CheckSignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSURL())
	if err != nil || !again.Existing {
		t.Fatalf("second sign-in: %+v %v", again, err)
	}
	var wp *WrongPINError
	if _, err := again.Finish([]byte("87654321")); !errors.As(err, &wp) {
		t.Fatalf("wrong PIN of an existing profile: %v", err)
	}
	c, err = again.Finish([]byte("12345678"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.SignOut()
	if list, _ := Profiles(cfg); len(list) != 1 {
		t.Fatalf("a second profile for the same person: %+v", list)
	}
}

// TestLockedNotificationNamesThePerson: where the policy allows it, the
// content-free notification of a locked phone says whom it is for, so the
// nurse holding a shared phone knows whom to hand it to; still no sender
// and no text. Without the policy it names nobody.
func TestLockedNotificationNamesThePerson(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	bob := clinicalSignIn(t, srv, "bob", "desk", clk)
	for _, allowed := range []bool{true, false} {
		phone := sharedPhone(t, clk, Policy{LockAfter: 24 * time.Hour, NameWhileLocked: allowed})
		alice := signIn(t, srv, "alice", phone)
		alice.c.Lock()
		if !alice.c.Listening() {
			t.Fatal("a locked phone stopped listening")
		}
		if _, err := bob.c.SendClinical(alice.jid, "MARKER-N bed 3 sats 84%", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "locked notification", 20*time.Second, func() bool { return len(lockedNotes(alice)) == 1 })
		n := lockedNotes(alice)[0]
		want := "STAT message — unlock Rounds"
		if allowed {
			want = "STAT message for alice — unlock Rounds"
		}
		if n.Body != want || containsAny(n, "MARKER") || containsAny(n, "bob") {
			t.Fatalf("policy %v: locked notification %+v, want body %q", allowed, n, want)
		}
		alice.c.SignOut()
	}
}

// TestWrongPINWipesOnlyThatProfile: too many wrong PINs on one person's
// profile erase that profile only; it leaves the list, and the other
// person on the phone still opens theirs.
func TestWrongPINWipesOnlyThatProfile(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	phone := sharedPhone(t, nil, Policy{MaxWrongPINs: 2})
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		c, err := SignIn(ctx, phone, srv.JID(u), testserver.Password, srv.WSURL(), testPIN)
		if err != nil {
			t.Fatal(err)
		}
		c.SignOut()
	}
	bobID := profileOf(t, phone, srv.JID("bob")).ID
	if _, err := UnlockProfile(ctx, phone, bobID, []byte("0000")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("first wrong PIN: %v", err)
	}
	if _, err := UnlockProfile(ctx, phone, bobID, []byte("0000")); !errors.Is(err, ErrWiped) {
		t.Fatalf("second wrong PIN: %v", err)
	}
	list, err := Profiles(phone)
	if err != nil || len(list) != 1 || list[0].Account != srv.JID("alice") {
		t.Fatalf("after the wipe: %+v %v", list, err)
	}
	if _, err := UnlockProfile(ctx, phone, bobID, testPIN); !errors.Is(err, ErrNoSuchProfile) {
		t.Fatalf("a wiped profile: %v", err)
	}
	c, err := UnlockProfile(ctx, phone, list[0].ID, testPIN)
	if err != nil {
		t.Fatalf("the other profile: %v", err)
	}
	c.SignOut()
}
