package sync

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestForgedStanzaIDIsNotTheOnceKey: the once-only record of recalls,
// corrections and reactions (securestore, applied.go) is keyed by the
// stanza-id the user's own server assigned. A sender may put its own
// <stanza-id by='alice'> in what it sends; Prosody 0.12 strips it only
// from copies it does not archive, so an archived message reaches alice
// with the sender's forged id first and the server's own appended last.
// bob gives his reaction and then his recall one forged id: the recall is
// a different stanza (the server gave it its own id) and is applied live.
// alice's archive tail reads after the first are held back (tailLessClock),
// since one of them would apply the recall from the archive within a
// minute of the sign-in; after that minute a suppressed recall stayed
// suppressed until the next sign-in.
func TestForgedStanzaIDIsNotTheOnceKey(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{clock: tailLessClock{}})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	sent, err := bob.session.Send(alice.jid, "K+ 6.9 bed 4 (wrong patient)", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got securestore.Message
	alice.waitFor("bob's message", 30*time.Second, func() bool {
		got, err = alice.store.MessageByOriginID(bob.jid, sent.OriginID)
		return err == nil
	})
	bc := rawClient(t, srv, "bob")
	forged := func(payload *xmpp.Element, body string) {
		t.Helper()
		id := xmpp.NewID()
		el := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", alice.jid, "id", id)
		el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(body), payload, xmpp.NewStoreHint(),
			xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id),
			xmpp.NewElement(xmpp.NSSID, "stanza-id", "by", alice.jid, "id", "forged-once-key"))
		if err := bc.Send(el); err != nil {
			t.Fatal(err)
		}
	}
	forged(xmpp.Reactions{ID: sent.OriginID, Reactions: []string{"👀"}}.Element(), "👀")
	alice.waitFor("bob's reaction", 30*time.Second, func() bool {
		m, err := alice.store.Message(got.ID)
		return err == nil && len(securestore.Reactions(m)) == 1
	})
	forged(xmpp.NewRetract(sent.OriginID), xmpp.RetractFallback)
	alice.waitFor("bob's recall applied", 30*time.Second, func() bool {
		m, err := alice.store.Message(got.ID)
		return err == nil && isTombstone(m)
	})
}

// tailLessClock is the system clock whose waits of 5 s or more never end:
// the archive tail's later reads (archiveTailRereads) do not run, so what
// a test sees was applied live.
type tailLessClock struct{}

func (tailLessClock) Now() time.Time { return time.Now() }
func (tailLessClock) After(d time.Duration) <-chan time.Time {
	if d >= 5*time.Second {
		return nil
	}
	return time.After(d)
}
