package sync

import (
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// The archive's look-back (archivetail.go) and recalls, corrections and
// reactions that the archive shows late. On Prosody the archive writes a
// row at once, so "late" is played by a relay in front of alice that hides
// every frame holding a marker (live, offline and archive results alike)
// until released: the row is in the archive, but alice's catch-up reads
// past it without seeing it, as when a stalled old server session writes
// it after the catch-up (TestStalledOldSessionArchivesLate, ejabberd).

// hidingRelay hides, while hiding, every server→client frame holding one of
// its markers, and counts those it hid.
type hidingRelay struct {
	*faultproxy.Relay
	mu      gosync.Mutex
	markers []string
	hidden  int
}

func startHidingRelay(t *testing.T, srv *testserver.Server) *hidingRelay {
	r := &hidingRelay{Relay: faultproxy.StartRelay(srv.WSURL())}
	t.Cleanup(r.Close)
	r.OnDown(func(frame string) []string {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, m := range r.markers {
			if strings.Contains(frame, m) {
				r.hidden++
				return nil
			}
		}
		return []string{frame}
	})
	return r
}

func (r *hidingRelay) hide(markers ...string) {
	r.mu.Lock()
	r.markers = markers
	r.mu.Unlock()
}

func (r *hidingRelay) hiddenCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hidden
}

// lateSetup: Prosody; alice (behind the relay, store at a fixed path) has
// bob's message body stored; she then goes offline. It returns bob's copy
// and alice's.
func lateSetup(t *testing.T, body string) (srv *testserver.Server, relay *hidingRelay, path string, alice, bob *device, sent, got securestore.Message) {
	srv = testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	relay = startHidingRelay(t, srv)
	path = filepath.Join(t.TempDir(), "alice.db")
	alice = startDevice(t, srv, "alice", deviceOptions{url: relay.URL(), storePath: path})
	bob = startDevice(t, srv, "bob", deviceOptions{})
	sent, err := bob.session.Send(alice.jid, body, SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's message", 30*time.Second, func() bool {
		got, err = alice.store.MessageByOriginID(bob.jid, sent.OriginID)
		return err == nil
	})
	alice.stop()
	return srv, relay, path, alice, bob, sent, got
}

// signInPastIt starts alice again after bob sent "after" (which moves her
// cursor past the hidden rows), waits until her catch-up stored it and the
// relay hid at least one frame, then stops hiding: the next tail read's
// look-back finds the rows before the cursor.
func signInPastIt(t *testing.T, srv *testserver.Server, relay *hidingRelay, path string, bob *device) *device {
	t.Helper()
	after, err := bob.session.Send(srv.JID("alice"), "after", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bob.allAtLeast([]securestore.MessageID{after.ID}, securestore.ReceiptSent, 30*time.Second)
	alice := startDevice(t, srv, "alice", deviceOptions{url: relay.URL(), storePath: path})
	alice.waitFor("bob's later message and the hidden row", 30*time.Second, func() bool {
		return alice.bodies(bob.jid, securestore.Incoming)["after"] == 1 && relay.hiddenCount() > 0
	})
	relay.hide()
	return alice
}

// events counts alice's events of type E about message id.
func countEvents[E Event](d *device, id securestore.MessageID, about func(E) securestore.MessageID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, e := range d.events {
		if x, ok := e.(E); ok && about(x) == id {
			n++
		}
	}
	return n
}

func retractedID(e MessageRetracted) securestore.MessageID { return e.Message }
func correctedID(e MessageCorrected) securestore.MessageID { return e.Message }

// signInAgain stops alice and signs her in once more (a fresh sign-in: a
// catch-up and the look-back at once), and gives its reads a moment.
func signInAgain(t *testing.T, srv *testserver.Server, relay *hidingRelay, path string, alice *device) *device {
	t.Helper()
	alice.stop()
	alice = startDevice(t, srv, "alice", deviceOptions{url: relay.URL(), storePath: path})
	time.Sleep(3 * time.Second) // the catch-up and the 0 s tail read with its look-back
	return alice
}

// TestLookBackAppliesLateRecall: bob recalls a message while alice is
// offline and her catch-up does not see the recall (archived late). Her
// look-back reads it before the cursor: the recall is applied (the text is
// gone) and announced once; a later sign-in that reads it again changes
// nothing and announces nothing.
func TestLookBackAppliesLateRecall(t *testing.T) {
	srv, relay, path, _, bob, sent, got := lateSetup(t, "K+ 6.9 bed 4 (wrong patient)")
	relay.hide("urn:xmpp:message-retract")
	if err := bob.session.Retract(srv.JID("alice"), sent.ID); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the recall sent", 30*time.Second, func() bool { out, _ := bob.store.Outbox(); return len(out) == 0 })
	alice := signInPastIt(t, srv, relay, path, bob)
	alice.waitFor("the late recall applied", 40*time.Second, func() bool {
		m, err := alice.store.Message(got.ID)
		return err == nil && m.Body == "" && m.Extra[securestore.ExtraRetracted] != ""
	})
	time.Sleep(time.Second)
	if n := countEvents(alice, got.ID, retractedID); n != 1 {
		t.Errorf("the recall was announced %d times, want 1", n)
	}
	alice = signInAgain(t, srv, relay, path, alice)
	if n := countEvents(alice, got.ID, retractedID); n != 0 {
		t.Errorf("on the next sign-in the recall was announced %d times again", n)
	}
}

// TestLookBackAppliesLateCorrection: bob corrects a message while alice is
// offline and her catch-up does not see the correction: her look-back
// applies it, once.
func TestLookBackAppliesLateCorrection(t *testing.T) {
	srv, relay, path, _, bob, sent, got := lateSetup(t, "heparin 500 units")
	relay.hide("LATECORR")
	if err := bob.session.Correct(srv.JID("alice"), sent.ID, "heparin 5000 units LATECORR"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the correction sent", 30*time.Second, func() bool { out, _ := bob.store.Outbox(); return len(out) == 0 })
	alice := signInPastIt(t, srv, relay, path, bob)
	alice.waitFor("the late correction applied", 40*time.Second, func() bool {
		m, err := alice.store.Message(got.ID)
		return err == nil && m.Body == "heparin 5000 units LATECORR"
	})
	time.Sleep(time.Second)
	if n := countEvents(alice, got.ID, correctedID); n != 1 {
		t.Errorf("the correction was announced %d times, want 1", n)
	}
	alice = signInAgain(t, srv, relay, path, alice)
	if n := countEvents(alice, got.ID, correctedID); n != 0 {
		t.Errorf("on the next sign-in the correction was announced %d times again", n)
	}
	if m, _ := alice.store.Message(got.ID); len(securestore.History(m)) != 1 {
		t.Errorf("history %v, want the one earlier text", securestore.History(m))
	}
}

// TestLookBackLateCorrectionOvertaken: bob corrects a message twice while
// alice is offline; her catch-up sees only the second (the first archived
// late). The look-back then reads the first, older in the archive's order:
// it must not put the older text back over the newer one.
func TestLookBackLateCorrectionOvertaken(t *testing.T) {
	srv, relay, path, _, bob, sent, got := lateSetup(t, "metoprolol 50 mg")
	relay.hide("FIRSTCORR")
	if err := bob.session.Correct(srv.JID("alice"), sent.ID, "metoprolol 25 mg FIRSTCORR"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the first correction sent", 30*time.Second, func() bool { out, _ := bob.store.Outbox(); return len(out) == 0 })
	if err := bob.session.Correct(srv.JID("alice"), sent.ID, "metoprolol 12.5 mg"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the second correction sent", 30*time.Second, func() bool { out, _ := bob.store.Outbox(); return len(out) == 0 })
	alice := signInPastIt(t, srv, relay, path, bob)
	if m, err := alice.store.Message(got.ID); err != nil || m.Body != "metoprolol 12.5 mg" {
		t.Fatalf("after the catch-up: %q %v, want the newest text", m.Body, err)
	}
	// The tail reads at 5 and 20 s read the first correction before the
	// cursor.
	time.Sleep(22 * time.Second)
	if m, err := alice.store.Message(got.ID); err != nil || m.Body != "metoprolol 12.5 mg" {
		t.Fatalf("after the look-back: %q %v; the older correction undid the newer one", m.Body, err)
	}
}

// TestLookBackAppliesLateWithdrawal: bob reacts to alice's message (she
// stores it live), then withdraws the reaction while she is offline, and
// her catch-up does not see the withdrawal (archived late). The look-back
// reads the reaction and its withdrawal: the reaction ends withdrawn, and
// a later sign-in reading both again leaves it so.
func TestLookBackAppliesLateWithdrawal(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	relay := startHidingRelay(t, srv)
	path := filepath.Join(t.TempDir(), "alice.db")
	alice := startDevice(t, srv, "alice", deviceOptions{url: relay.URL(), storePath: path})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	mine, err := alice.session.Send(bob.jid, "bed 7 needs a review", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var theirs securestore.Message
	bob.waitFor("alice's message", 30*time.Second, func() bool {
		theirs, err = bob.store.MessageByOriginID(alice.jid, mine.OriginID)
		return err == nil
	})
	reactions := func() []string {
		m, err := alice.store.Message(mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		return securestore.Reactions(m)[bob.jid].Values
	}
	if err := bob.session.React(alice.jid, theirs.ID, []string{"👀"}); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's reaction", 30*time.Second, func() bool { return slices.Equal(reactions(), []string{"👀"}) })
	alice.stop()
	relay.hide("urn:xmpp:reactions:0")
	if err := bob.session.React(alice.jid, theirs.ID, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the withdrawal goes out
	alice = signInPastIt(t, srv, relay, path, bob)
	alice.waitFor("the late withdrawal applied", 40*time.Second, func() bool { return len(reactions()) == 0 })
	alice = signInAgain(t, srv, relay, path, alice)
	time.Sleep(3 * time.Second)
	if got := reactions(); len(got) != 0 {
		t.Fatalf("after the next sign-in bob's reaction is %v again, want withdrawn", got)
	}
}

// TestLookBackLateMessageAndItsRecall: bob sends a message and recalls it
// while alice is offline, and her catch-up sees neither (both archived
// late). Her look-back reads both in one page: the message is stored as
// recalled, and no MessagesAdded ever carries its text (it would alert and
// show the recalled words until the read on from the cursor was done).
func TestLookBackLateMessageAndItsRecall(t *testing.T) {
	srv, relay, path, _, bob, _, _ := lateSetup(t, "bed 2 obs due")
	relay.hide("LATEPHI", "urn:xmpp:message-retract")
	sent, err := bob.session.Send(srv.JID("alice"), "K+ 7.2 bed 9 LATEPHI (wrong patient)", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bob.allAtLeast([]securestore.MessageID{sent.ID}, securestore.ReceiptSent, 30*time.Second)
	if err := bob.session.Retract(srv.JID("alice"), sent.ID); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the recall sent", 30*time.Second, func() bool { out, _ := bob.store.Outbox(); return len(out) == 0 })
	alice := signInPastIt(t, srv, relay, path, bob)
	alice.waitFor("the late message stored as recalled", 40*time.Second, func() bool {
		m, err := alice.store.MessageByOriginID(bob.jid, sent.OriginID)
		return err == nil && isTombstone(m)
	})
	for _, e := range eventsOf[MessagesAdded](alice) {
		for _, m := range e.Messages {
			if m.OriginID == sent.OriginID && m.Body != "" {
				t.Fatalf("MessagesAdded carried the recalled text (catch-up %v): %q", e.CatchUp, m.Body)
			}
		}
	}
}
