package xmpp

import (
	"strings"
	"sync"
	"testing"
	"time"

	"rounds/internal/testserver"
)

type displayedLog struct {
	mu  sync.Mutex
	got []string // conv + " " + stanza-id
}

func (d *displayedLog) add(conv, sid string) {
	d.mu.Lock()
	d.got = append(d.got, conv+" "+sid)
	d.mu.Unlock()
}

func (d *displayedLog) has(s string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, g := range d.got {
		if g == s {
			return true
		}
	}
	return false
}

func (d *displayedLog) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

// TestDisplayedSyncAgainstServers: alice's phone publishes the displayed
// state of a chat and of a room; her desktop is told (once caps +notify is
// known to the server); the node is private; an event forged by bob is
// ignored.
func TestDisplayedSyncAgainstServers(t *testing.T) {
	testserver.EachServer(t, testDisplayedSyncAgainstServers)
}

func testDisplayedSyncAgainstServers(t *testing.T, k testserver.Kind) {
	s := k.StartT(t, testserver.Options{}, "alice", "bob")
	var desk displayedLog
	var deskBox inbox
	pc, dc := baseConfig(s, "alice"), baseConfig(s, "alice")
	pc.Resource = "phone"
	dc.Resource, dc.OnDisplayedSync, dc.OnMessage = "desk", desk.add, deskBox.add
	phone, deskC, bob := dialT(t, pc), dialT(t, dc), dialT(t, baseConfig(s, "bob"))
	for _, c := range []*Client{phone, deskC} {
		if err := c.SetPresence(ShowAvailable, ""); err != nil {
			t.Fatal(err)
		}
	}
	room := "icu@conference." + s.Domain
	if err := phone.CreateRoom(ctxT(t), room, "alice", RoomConfig{}); err != nil {
		t.Fatal(err)
	}

	// The server learns the desk's +notify through caps asynchronously:
	// publish until the desk hears of it.
	conv := s.JID("bob")
	var want string
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		sid := "chat-sid-" + NewID()
		if err := phone.PublishDisplayed(ctxT(t), conv, sid); err != nil {
			t.Fatal(err)
		}
		want = conv + " " + sid
		time.Sleep(100 * time.Millisecond)
		if desk.has(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk never notified; got %v", desk.all())
		}
	}
	if err := phone.PublishDisplayed(ctxT(t), room, "room-sid-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "room displayed", func() bool { return desk.has(room + " room-sid-1") })

	// What was stored: by = own account for the chat, the room for the room;
	// and the node is private (bob may not read it).
	items, err := phone.SendIQ(ctxT(t), NewElement(NSClient, "iq", "type", "get").Append(
		NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "items", "node", NSMDS))))
	if err != nil {
		t.Fatal(err)
	}
	byOf := map[string]string{}
	for _, it := range items.Child(NSPubSub, "pubsub").Child(NSPubSub, "items").ChildrenNamed(NSPubSub, "item") {
		byOf[it.Attr("id")] = it.Child(NSMDS, "displayed").Child(NSSID, "stanza-id").Attr("by")
	}
	if byOf[conv] != s.JID("alice") || byOf[room] != room {
		t.Fatalf("stored items: %v", byOf)
	}
	_, err = bob.SendIQ(ctxT(t), NewElement(NSClient, "iq", "type", "get", "to", s.JID("alice")).Append(
		NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "items", "node", NSMDS))))
	if err == nil {
		t.Fatal("bob could read alice's displayed-sync node")
	}

	// Bob forges the event straight to the desk; a normal message follows as
	// a fence.
	forged := NewElement(NSClient, "message", "to", deskC.JID().String(), "type", "headline").Append(
		NewElement(NSPubSubEvent, "event").Append(NewElement(NSPubSubEvent, "items", "node", NSMDS).Append(
			NewElement(NSPubSubEvent, "item", "id", conv).Append(NewElement(NSMDS, "displayed").Append(
				NewElement(NSSID, "stanza-id", "id", "forged", "by", s.JID("alice")))))))
	if err := bob.Send(forged); err != nil {
		t.Fatal(err)
	}
	fence := NewChat(deskC.JID().String(), "fence")
	if err := bob.Send(fence); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "fence", func() bool { return deskBox.find(func(m *Message) bool { return m.ID == fence.ID() }) != nil })
	for _, g := range desk.all() {
		if strings.HasSuffix(g, " forged") {
			t.Fatalf("forged displayed-sync accepted: %v", desk.all())
		}
	}
	if deskBox.find(func(m *Message) bool { return m.Stanza.Child(NSPubSubEvent, "event") != nil }) != nil {
		t.Fatal("displayed-sync event reached OnMessage")
	}
}

// TestDisplayedSyncSpoofedEvent: against a hostile server, an event whose
// from is another account or one of our full JIDs is dropped.
func TestDisplayedSyncSpoofedEvent(t *testing.T) {
	ev := func(from, sid string) string {
		return `<message xmlns="jabber:client" from="` + from + `" to="alice@evil.test/r1" type="headline"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:mds:displayed:0"><item id="bob@evil.test"><displayed xmlns="urn:xmpp:mds:displayed:0"><stanza-id xmlns="urn:xmpp:sid:0" id="` + sid + `" by="alice@evil.test"/></displayed></item></items></event></message>`
	}
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		f.send(ev("mallory@evil.test", "s1"))
		f.send(ev("alice@evil.test/other", "s2"))
		f.send(ev("alice@evil.test", "g1"))
		f.send(`<message xmlns="jabber:client" from="bob@evil.test/x" to="alice@evil.test/r1" type="chat" id="fence"><body>x</body></message>`)
		f.readUntil("never")
	}))
	var d displayedLog
	var box inbox
	dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger(), OnMessage: box.add, OnDisplayedSync: d.add})
	waitFor(t, "fence", func() bool { return len(box.snapshot()) > 0 })
	if got := d.all(); len(got) != 1 || got[0] != "bob@evil.test g1" {
		t.Fatalf("displayed sync: %v", got)
	}
	if len(box.snapshot()) != 1 {
		t.Fatalf("events leaked to OnMessage")
	}
}

// TestDisplayedPublishOptionsFallback: a server that rejects publish-options
// gets a node configuration making it private, then the item without them.
func TestDisplayedPublishOptionsFallback(t *testing.T) {
	iqID := func(frame string) string {
		i := strings.Index(frame, ` id="`)
		s := frame[i+5:]
		return s[:strings.IndexByte(s, '"')]
	}
	var mu sync.Mutex
	var frames []string
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		a := f.readUntil(NSMDS)
		mu.Lock()
		frames = append(frames, a)
		mu.Unlock()
		f.send(`<iq xmlns="jabber:client" type="error" id="` + iqID(a) + `"><error type="cancel"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><precondition-not-met xmlns="http://jabber.org/protocol/pubsub#errors"/></error></iq>`)
		b := f.readUntil(NSMDS)
		mu.Lock()
		frames = append(frames, b)
		mu.Unlock()
		f.send(`<iq xmlns="jabber:client" type="result" id="` + iqID(b) + `"/>`)
		c := f.readUntil(NSMDS)
		mu.Lock()
		frames = append(frames, c)
		mu.Unlock()
		f.send(`<iq xmlns="jabber:client" type="result" id="` + iqID(c) + `"/>`)
		f.readUntil("never")
	}))
	c := dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger()})
	if err := c.PublishDisplayed(ctxT(t), "bob@evil.test/phone", "sid1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(frames) != 3 {
		t.Fatalf("frames: %v", frames)
	}
	for _, w := range []string{`<item id="bob@evil.test">`, `id="sid1" by="alice@evil.test"`, "publish-options", "pubsub#access_model", "whitelist"} {
		if !strings.Contains(frames[0], w) {
			t.Errorf("first publish lacks %s: %s", w, frames[0])
		}
	}
	for _, w := range []string{NSPubSubOwner, "<configure", "pubsub#node_config", "whitelist", "pubsub#max_items"} {
		if !strings.Contains(frames[1], w) {
			t.Errorf("configure lacks %s: %s", w, frames[1])
		}
	}
	if strings.Contains(frames[2], "publish-options") || !strings.Contains(frames[2], `id="sid1"`) {
		t.Errorf("retry: %s", frames[2])
	}
}

// TestPrivatePublishWaitsForPrivateNode: a server that answers the publish
// with wait/resource-constraint (ejabberd 23.01 refusing an option, or a
// server genuinely overloaded) must not get the item without options before
// the node is known to be private: a new PEP node takes the server's default
// access model (presence), and contacts asking +notify would be sent the
// read state at once. Here the node configuration is refused too (still
// overloaded): the publish fails and nothing is published without options.
func TestPrivatePublishWaitsForPrivateNode(t *testing.T) {
	iqID := func(frame string) string {
		i := strings.Index(frame, ` id="`)
		s := frame[i+5:]
		return s[:strings.IndexByte(s, '"')]
	}
	var mu sync.Mutex
	var frames []string
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		for {
			a := f.readUntil(NSMDS)
			if a == "" {
				return
			}
			mu.Lock()
			frames = append(frames, a)
			mu.Unlock()
			f.send(`<iq xmlns="jabber:client" type="error" id="` + iqID(a) + `"><error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
		}
	}))
	c := dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger()})
	if err := c.PublishDisplayed(ctxT(t), "bob@evil.test/phone", "sid1"); err == nil {
		t.Errorf("publish reported done although the node was never made private")
	}
	mu.Lock()
	defer mu.Unlock()
	for i, fr := range frames[1:] {
		if strings.Contains(fr, "<publish ") && !strings.Contains(fr, "publish-options") {
			t.Fatalf("frame %d published the item without options before the node was private: %s", i+1, fr)
		}
	}
}
