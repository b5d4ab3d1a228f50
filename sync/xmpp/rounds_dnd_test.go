package xmpp

import (
	gosync "sync"
	"testing"
)

// TestDNDSpoofedEvent: against a hostile server, a do-not-disturb event
// whose from is another account or one of our full JIDs is dropped (it
// could silence every device of ours), one that does not parse is dropped,
// and one from our bare JID is reported; none reaches OnMessage.
func TestDNDSpoofedEvent(t *testing.T) {
	ev := func(from, since string) string {
		return `<message xmlns="jabber:client" from="` + from + `" to="alice@evil.test/r1" type="headline"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:rounds:dnd:0"><item id="current"><dnd xmlns="urn:rounds:dnd:0" since="` + since + `"><reply>away</reply></dnd></item></items></event></message>`
	}
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		f.send(ev("mallory@evil.test", "2026-12-07T09:00:00Z"))
		f.send(ev("alice@evil.test/other", "2026-12-07T09:01:00Z"))
		f.send(ev("alice@evil.test", "yesterday"))
		f.send(ev("alice@evil.test", "2026-12-07T09:03:00Z"))
		f.send(`<message xmlns="jabber:client" from="bob@evil.test/x" to="alice@evil.test/r1" type="chat" id="fence"><body>x</body></message>`)
		f.readUntil("never")
	}))
	var mu gosync.Mutex
	var got []DND
	var box inbox
	dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger(), OnMessage: box.add,
		OnDND: func(d DND) { mu.Lock(); got = append(got, d); mu.Unlock() }})
	waitFor(t, "fence", func() bool { return len(box.snapshot()) > 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Since.Minute() != 3 || got[0].Reply != "away" {
		t.Fatalf("do-not-disturb events reported: %+v", got)
	}
	if len(box.snapshot()) != 1 {
		t.Fatal("events leaked to OnMessage")
	}
}
