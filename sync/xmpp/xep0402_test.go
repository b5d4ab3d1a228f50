package xmpp

import (
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
)

// parseBookmarkItem decodes a stored <item/> and parses its bookmark.
func parseBookmarkItem(doc []byte) (Bookmark, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return Bookmark{}, err
	}
	var payload *Element
	if len(el.Children) > 0 {
		payload = el.Children[0]
	}
	return ParseBookmark(el.Attr("id"), payload)
}

// TestBookmarkFixtures: every good_ bookmark parses, every fail_ one is an
// error; the good ones round-trip through Element.
func TestBookmarkFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/bookmarks/*.xml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseBookmarkItem(doc)
		good := strings.HasPrefix(filepath.Base(f), "good_")
		if good != (err == nil) {
			t.Errorf("%s: %+v, %v", f, b, err)
			continue
		}
		if good {
			again, err := ParseBookmark(b.Room, b.Element())
			if err != nil || again != b {
				t.Errorf("%s: round trip %+v, %v; want %+v", f, again, err, b)
			}
		}
	}
	b, _ := parseBookmarkItem([]byte(`<item id="icu@conference.hospital.org"><conference xmlns="urn:xmpp:bookmarks:1" autojoin="true"><nick>lee</nick></conference></item>`))
	if b != (Bookmark{Room: "icu@conference.hospital.org", Nick: "lee", Autojoin: true}) {
		t.Fatalf("parsed %+v", b)
	}
}

// TestInviteFixtures: the same for direct invitations; a reason longer
// than MaxInviteReasonRunes is dropped, the invitation stands.
func TestInviteFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/invite/*.xml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		el, err := DecodeElement(doc, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := ParseDirectInvite(el)
		good := strings.HasPrefix(filepath.Base(f), "good_")
		if good != (err == nil && inv != nil) {
			t.Errorf("%s: %+v, %v", f, inv, err)
		}
	}
	el, err := DecodeElement([]byte("<message xmlns='jabber:client'><x xmlns='jabber:x:conference' jid='icu@conference.h.org' reason='"+strings.Repeat("é", MaxInviteReasonRunes+1)+"'/></message>"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := ParseDirectInvite(el)
	if err != nil || inv == nil || inv.Room != "icu@conference.h.org" || inv.Reason != "" {
		t.Fatalf("%+v, %v", inv, err)
	}
	built, err := NewDirectInvite("bob@h.org/phone", "icu@conference.h.org", " Night shift ")
	if err != nil || built.To() != "bob@h.org" {
		t.Fatalf("%v, %v", built, err)
	}
	if inv, _ := ParseDirectInvite(built); inv.Room != "icu@conference.h.org" || inv.Reason != "Night shift" {
		t.Fatalf("round trip %+v", inv)
	}
	if _, err := NewDirectInvite("bob@h.org", "icu@conference.h.org/nick", ""); err == nil {
		t.Fatal("an invitation to an occupant JID was built")
	}
}

// FuzzParseBookmark: no input panics; what parses is a bare room JID.
func FuzzParseBookmark(f *testing.F) {
	files, _ := filepath.Glob("testdata/bookmarks/*.xml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		b, err := parseBookmarkItem(doc)
		if err == nil && BareJID(b.Room) != b.Room {
			t.Fatalf("bookmark room %q is not bare", b.Room)
		}
	})
}

// FuzzParseDirectInvite: no input panics; what parses names a bare room.
func FuzzParseDirectInvite(f *testing.F) {
	files, _ := filepath.Glob("testdata/invite/*.xml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		el, err := DecodeElement(doc, Limits{})
		if err != nil {
			return
		}
		inv, err := ParseDirectInvite(el)
		if err == nil && inv != nil && BareJID(inv.Room) != inv.Room {
			t.Fatalf("invitation room %q is not bare", inv.Room)
		}
	})
}

// TestBookmarksSpoofedEvent: bookmark notifications from anyone but our
// own bare JID are dropped (they could make every device join a room of
// theirs); ours are delivered, additions and retractions.
func TestBookmarksSpoofedEvent(t *testing.T) {
	ev := func(from, inner string) string {
		return `<message xmlns="jabber:client" from="` + from + `" to="alice@evil.test/r1" type="headline"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:bookmarks:1">` + inner + `</items></event></message>`
	}
	item := func(room string) string {
		return `<item id="` + room + `"><conference xmlns="urn:xmpp:bookmarks:1" autojoin="true"/></item>`
	}
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		f.send(ev("mallory@evil.test", item("trap@conference.evil.test")))
		f.send(ev("alice@evil.test/other", item("trap2@conference.evil.test")))
		f.send(ev("alice@evil.test", item("icu@conference.evil.test")))
		f.send(ev("alice@evil.test", `<retract id="ward@conference.evil.test"/>`))
		f.send(`<message xmlns="jabber:client" from="bob@evil.test/x" to="alice@evil.test/r1" type="chat" id="fence"><body>x</body></message>`)
		f.readUntil("never")
	}))
	var mu gosync.Mutex
	var set []Bookmark
	var gone []string
	var box inbox
	dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger(), OnMessage: box.add,
		OnBookmarks: func(s []Bookmark, r []string) {
			mu.Lock()
			set = append(set, s...)
			gone = append(gone, r...)
			mu.Unlock()
		}})
	waitFor(t, "fence", func() bool { return len(box.snapshot()) > 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(set) != 1 || set[0].Room != "icu@conference.evil.test" || !set[0].Autojoin {
		t.Fatalf("bookmarks reported: %+v", set)
	}
	if len(gone) != 1 || gone[0] != "ward@conference.evil.test" {
		t.Fatalf("retractions reported: %v", gone)
	}
	if len(box.snapshot()) != 1 {
		t.Fatal("events leaked to OnMessage")
	}
}
