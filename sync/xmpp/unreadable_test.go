package xmpp

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestScanPrefixFixtures: each named bad input (testdata/unreadable/fail_*)
// is identified as far as its first bytes allow, and no further: a <result>
// or <delay> where the XEPs do not put one is not taken for one, a second
// element after the stanza does not override it, and an undecodable
// attribute is not guessed at.
func TestScanPrefixFixtures(t *testing.T) {
	stamp := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts.UTC()
	}
	want := map[string]stanzaPrefix{
		"fail_mam_result_truncated": {Name: "message", Space: NSClient, From: "alice@example.org", To: "alice@example.org/phone",
			QueryID: "q1", ResultID: "arch-42", Stamp: stamp("2026-11-20T08:00:00Z"),
			Inner: prefixInner{ID: "m-7", From: "bob@example.org/ward", To: "alice@example.org", Type: "chat", OriginID: "o-7", Seen: true}},
		"fail_carbon_truncated": {Name: "message", Space: NSClient, From: "alice@example.org", To: "alice@example.org/phone",
			Carbon: CarbonReceived, Inner: prefixInner{ID: "c-1", From: "bob@example.org/ward", To: "alice@example.org/laptop", Type: "chat", Seen: true}},
		"fail_chat_truncated": {Name: "message", Space: NSClient, ID: "live-1", From: "bob@example.org/ward", To: "alice@example.org", Type: "chat", OriginID: "o-live-1"},
		"fail_chat_deep":      {Name: "message", Space: NSClient, ID: "deep-1", From: "bob@example.org/ward", Type: "chat"},
		"fail_chat_malformed": {Name: "message", Space: NSClient, ID: "bad-1", From: "bob@example.org/ward", Type: "chat"},
		"fail_chat_bad_utf8":  {Name: "message", Space: NSClient, ID: "u-1", From: "bob@example.org/ward", Type: "chat"},
		// The start tag itself is not UTF-8: nothing of it is trusted.
		"fail_attr_bad_utf8":    {},
		"fail_garbage":          {},
		"fail_iq_get_truncated": {Name: "iq", Space: NSClient, ID: "push-3", From: "example.org", Type: "set"},
		"fail_two_elements":     {Name: "presence", Space: NSClient, ID: "p-1", From: "bob@example.org/ward"},
		"fail_mam_prefixed": {Name: "message", Space: NSClient, From: "icu@rooms.example.org", QueryID: "q2", ResultID: "room-9",
			Stamp: stamp("2026-11-20T08:30:00.5Z"), Inner: prefixInner{ID: "g-1", From: "icu@rooms.example.org/Dr Osei", Type: "groupchat", Seen: true}},
		"fail_nested_result":         {Name: "message", Space: NSClient, ID: "n-1", From: "mallory@example.org/x", Type: "chat"},
		"fail_pubsub_event":          {Name: "message", Space: NSClient, ID: "ev-1", From: "alice@example.org", Type: "headline", PubSub: true},
		"fail_delay_outside_forward": {Name: "message", Space: NSClient, ID: "d-1", From: "bob@example.org/ward", Type: "chat"},
	}
	files, _ := filepath.Glob("testdata/unreadable/fail_*.xml")
	if len(files) != len(want) {
		t.Errorf("%d fixtures, %d expectations", len(files), len(want))
	}
	for _, p := range files {
		name := strings.TrimSuffix(filepath.Base(p), ".xml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeElement(b, Limits{}); err == nil {
			t.Errorf("%s: decodes; a fail_ fixture must not", name)
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		if got := scanPrefix(b); !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
		}
	}
}

// FuzzScanPrefix: for any input the scan ends without panic and keeps
// nothing over its bounds; for a stanza the decoder does accept, it reads the
// same top-level name, ids and addresses, and the same MAM result ids, as
// the decoder does.
func FuzzScanPrefix(f *testing.F) {
	for _, glob := range []string{"testdata/unreadable/fail_*.xml", "testdata/good_*.xml", "testdata/fail_*.xml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := scanPrefix(b)
		for _, v := range []string{p.ID, p.From, p.To, p.Type, p.QueryID, p.ResultID, p.Inner.ID, p.Inner.From} {
			if len(v) > maxPrefixAttr || !utf8.ValidString(v) {
				t.Fatalf("kept %d bytes (valid UTF-8: %v)", len(v), utf8.ValidString(v))
			}
		}
		if len(b) > unreadablePrefixBytes {
			return
		}
		el, err := DecodeElement(b, Limits{MaxFrameBytes: 64 << 10, MaxDepth: 1 << 10, MaxElements: 1 << 16, MaxAttrs: 1 << 10})
		if err != nil {
			return
		}
		if p.Name != el.Name.Local || p.Space != el.Name.Space {
			t.Fatalf("name %s %s, decoder %s %s", p.Space, p.Name, el.Name.Space, el.Name.Local)
		}
		got := [4]string{p.ID, p.From, p.To, p.Type}
		dec := [4]string{el.Attr("id"), el.Attr("from"), el.Attr("to"), el.Attr("type")}
		for i := range dec {
			if len(dec[i]) > maxPrefixAttr {
				dec[i] = ""
			}
		}
		if got != dec {
			t.Fatalf("attrs %q, decoder %q", got, dec)
		}
		if el.Name.Local == "message" {
			r := el.Child(NSMAM, "result")
			if r != nil && (p.QueryID != r.Attr("queryid") || p.ResultID != r.Attr("id")) {
				t.Fatalf("result %q %q, decoder %q %q", p.QueryID, p.ResultID, r.Attr("queryid"), r.Attr("id"))
			}
			if r == nil && p.QueryID+p.ResultID != "" {
				t.Fatalf("result %q %q where the decoder has none", p.QueryID, p.ResultID)
			}
		}
	})
}

// TestUnreadableReasons: each refusal of the decoder is named for the audit.
func TestUnreadableReasons(t *testing.T) {
	lim := Limits{MaxFrameBytes: 1 << 10, MaxDepth: 4, MaxAttrs: 3, MaxElements: 5}
	cases := map[string]string{
		`<message xmlns="jabber:client"><a><b><c><d/></c></b></a></message>`:                      ReasonTooDeep,
		`<message xmlns="jabber:client" a="1" b="2" c="3" d="4"/>`:                                ReasonTooManyAttrs,
		`<message xmlns="jabber:client"><a/><a/><a/><a/><a/><a/></message>`:                       ReasonTooMany,
		"<message xmlns=\"jabber:client\"><body>\xff</body></message>":                            ReasonBadUTF8,
		`<message xmlns="jabber:client"><body>x</message>`:                                        ReasonMalformed,
		`<message xmlns="jabber:client"><!-- c --></message>`:                                     ReasonMalformed,
		`<message xmlns="jabber:client"><body>` + strings.Repeat("x", 2000) + `</body></message>`: ReasonTooLarge,
	}
	for in, want := range cases {
		_, err := DecodeElement([]byte(in), lim)
		se, ok := err.(*StreamError)
		if !ok {
			t.Fatalf("%.40q: err %v", in, err)
		}
		if got := unreadableReason(se); got != want {
			t.Errorf("%.60q: reason %s, want %s (%v)", in, got, want, err)
		}
	}
}

// TestUnreadableStanzasSkipped: stanzas the client cannot read (over the
// frame limit, too deep, malformed, bad UTF-8) are skipped and the stream
// stays up: the message after them arrives, each unreadable message is
// reported once with its sender and reason, a request gets an error answer,
// and a spoofed carbon is still refused.
func TestUnreadableStanzasSkipped(t *testing.T) {
	big := strings.Repeat("A", 20<<10)
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		f.send(`<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test/r1" id="big"><body>` + big + `</body></message>`)
		f.send(`<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" id="deep">` + strings.Repeat("<b>", 100) + strings.Repeat("</b>", 100) + `</message>`)
		f.send(`<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" id="bad"><body>x</message>`)
		f.send("<message xmlns=\"jabber:client\" type=\"chat\" from=\"bob@evil.test/x\" id=\"utf\"><body>\xff</body></message>")
		f.send(`<iq xmlns="jabber:client" type="set" id="push1" from="evil.test"><query xmlns="jabber:iq:roster"><item jid="` + big + `"/></query></iq>`)
		f.send(`<message xmlns="jabber:client" from="mallory@evil.test/x" to="alice@evil.test/r1"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="chief@evil.test/x" to="alice@evil.test" type="chat" id="spoof"><body>` + big + `</body></message></forwarded></received></message>`)
		f.send(`<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test/r1" id="after"><body>after</body></message>`)
		f.readUntil("never")
	}))
	var box inbox
	disconnected := make(chan error, 1)
	c := dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger(), OnMessage: box.add, Limits: Limits{MaxFrameBytes: 16 << 10},
		OnDisconnect: func(err error) { disconnected <- err }})
	waitFor(t, "the message after the bad ones", func() bool { return box.find(func(m *Message) bool { return m.ID == "after" }) != nil })
	select {
	case err := <-disconnected:
		t.Fatalf("stream ended: %v", err)
	default:
	}
	if !c.Connected() {
		t.Fatal("not connected")
	}
	want := map[string]string{"big": ReasonTooLarge, "deep": ReasonTooDeep, "bad": ReasonMalformed, "utf": ReasonBadUTF8}
	got := map[string]string{}
	for _, m := range box.snapshot() {
		if m.Unreadable == nil {
			if m.ID != "after" || m.Body != "after" {
				t.Errorf("unexpected readable message %+v", m)
			}
			continue
		}
		if m.From != "bob@evil.test/x" || m.Body != "" || m.Stanza != nil {
			t.Errorf("unreadable %s: from %q body %d bytes", m.ID, m.From, len(m.Body))
		}
		if _, dup := got[m.ID]; dup {
			t.Errorf("%s reported twice", m.ID)
		}
		got[m.ID] = m.Unreadable.Reason
		if m.ID == "big" && m.Unreadable.Size < int64(len(big)) {
			t.Errorf("big: size %d", m.Unreadable.Size)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unreadable reported %v, want %v", got, want)
	}
	waitFor(t, "error answer to the unreadable request", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return strings.Contains(strings.Join(fs.frames, "\n"), `type="error" id="push1" to="evil.test"><error type="modify"><policy-violation`)
	})
}
