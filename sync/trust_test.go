package sync

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"rounds/internal/hostile"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Tests of who said it, when, and which id names it (issue #11 items 2-6),
// against the hostile server for what a real server will not do.

const hostileRoom = "ward@rooms.evil.test"

// roomResult is a result of hostileRoom's archive: inner is the forwarded
// message (its attributes and children as the forging room wrote them).
func roomResult(id, inner string) string {
	return `<message xmlns="jabber:client" from="` + hostileRoom + `" to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="` + id + `"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-11-20T08:00:00Z"/>` + inner + `</forwarded></result></message>`
}

// joinHostileRoom joins hostileRoom and waits for its catch-up to finish.
func joinHostileRoom(t *testing.T, d *device, srv *hostile.Server) {
	t.Helper()
	d.waitFor("online", 10*time.Second, func() bool { return d.session.State().Connectivity == Online })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.session.JoinRoom(ctx, hostileRoom, "alice"); err != nil {
		t.Fatalf("join: %v (client sent %q)", err, srv.Received())
	}
}

func auditKinds(t *testing.T, st *securestore.Store, kind string) []securestore.AuditEntry {
	t.Helper()
	log, err := st.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	var out []securestore.AuditEntry
	for _, e := range log {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestRoomArchiveCannotForge: a room's archive speaks only for that room. A
// result "from" a colleague in 1:1, one that would be stored as the user's
// own outgoing message, a wipe directive "from" an admin, a carbon inside an
// archive, and a 1:1 retraction of a colleague's message are all dropped and
// audited (ids and JIDs, no text); no wipe is requested; a genuine occupant's
// message is stored.
func TestRoomArchiveCannotForge(t *testing.T) {
	forged := []string{
		roomResult("f1", `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test" id="f1"><body>forged 1:1 from bob</body></message>`),
		roomResult("f2", `<message xmlns="jabber:client" type="chat" from="alice@evil.test/phone" to="bob@evil.test" id="f2"><body>forged as alice's own</body></message>`),
		roomResult("f3", `<message xmlns="jabber:client" type="chat" from="admin@evil.test/console" to="alice@evil.test" id="f3"><body>wipe</body><wipe xmlns="urn:rounds:wipe:0" id="w1" issued="2026-11-20T08:00:00Z"/></message>`),
		roomResult("f4", `<message xmlns="jabber:client" type="groupchat" from="`+hostileRoom+`" to="alice@evil.test" id="f4"><body>forged from the room itself</body></message>`),
		roomResult("f5", `<message xmlns="jabber:client" type="groupchat" from="other@rooms.evil.test/bob" to="alice@evil.test" id="f5"><body>forged from another room</body></message>`),
		roomResult("f6", `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test" id="f6"><body>This person attempted to retract</body><retract xmlns="urn:xmpp:message-retract:1" id="b1"/></message>`),
	}
	genuine := roomResult("g1", `<message xmlns="jabber:client" type="groupchat" from="`+hostileRoom+`/carol" id="g1"><body>genuine room message</body></message>`)
	srv := hostile.Start(hostile.Session{
		MAMResults: []string{archived("", "b1", "")},
		RoomMAM:    map[string][]string{hostileRoom: append(forged, genuine)},
	})
	defer srv.Close()
	d := hostileDevice(t, srv)
	d.waitFor("bob's genuine archived message", 10*time.Second, func() bool { return len(d.conversation("bob@evil.test")) == 1 })
	joinHostileRoom(t, d, srv)
	d.waitFor("the genuine room message", 10*time.Second, func() bool { return len(d.conversation(hostileRoom)) >= 1 })

	if got := d.conversation(hostileRoom); len(got) != 1 || got[0].Body != "genuine room message" || got[0].Direction != securestore.Incoming {
		t.Errorf("room conversation: %+v", got)
	}
	bob := d.conversation("bob@evil.test")
	if len(bob) != 1 || bob[0].Body != "archived b1" || isTombstone(bob[0]) {
		t.Errorf("bob's conversation after forgeries: %+v", bob)
	}
	for _, conv := range []string{"admin@evil.test", "alice@evil.test", "other@rooms.evil.test"} {
		if got := d.conversation(conv); len(got) != 0 {
			t.Errorf("forged messages stored in %s: %+v", conv, got)
		}
	}
	if w := eventsOf[WipeRequested](d); len(w) != 0 {
		t.Errorf("a room's archive requested a wipe: %+v", w)
	}
	rej := auditKinds(t, d.store, securestore.AuditRejected)
	if len(rej) != 1 {
		t.Fatalf("audit entries for rejected results: %+v", rej)
	}
	for _, id := range []string{"f1", "f2", "f3", "f4", "f5", "f6", "bob@evil.test/x", "admin@evil.test/console"} {
		if !strings.Contains(rej[0].Detail, id) {
			t.Errorf("audit detail lacks %q: %s", id, rej[0].Detail)
		}
	}
	if strings.Contains(rej[0].Detail, "forged") || strings.Contains(rej[0].Detail, "wipe\"") {
		t.Errorf("audit detail carries message text: %s", rej[0].Detail)
	}
}

// TestOwnArchiveClaims: the user's own archive holds the user's 1:1
// traffic. A groupchat message (rooms have their own archives) and a message
// neither from nor to the account are dropped and audited.
func TestOwnArchiveClaims(t *testing.T) {
	own := func(id, inner string) string {
		return `<message xmlns="jabber:client" to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="` + id + `"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-11-20T08:00:00Z"/>` + inner + `</forwarded></result></message>`
	}
	srv := hostile.Start(hostile.Session{MAMResults: []string{
		own("o1", `<message xmlns="jabber:client" type="groupchat" from="`+hostileRoom+`/bob" to="alice@evil.test" id="o1"><body>groupchat in the user archive</body></message>`),
		own("o2", `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="carol@evil.test" id="o2"><body>between others</body></message>`),
		own("o3", `<message xmlns="jabber:client" type="chat" from="alice@evil.test/phone" to="bob@evil.test" id="o3"><body>alice's own</body></message>`),
		own("o4", `<message xmlns="jabber:client" type="chat" from="bob@evil.test/x" to="alice@evil.test" id="o4"><body>to alice</body></message>`),
	}})
	defer srv.Close()
	d := hostileDevice(t, srv)
	d.waitFor("genuine archived messages", 10*time.Second, func() bool { return len(d.conversation("bob@evil.test")) == 2 })
	got := d.bodies("bob@evil.test", securestore.Outgoing)
	if got["alice's own"] != 1 || d.bodies("bob@evil.test", securestore.Incoming)["to alice"] != 1 {
		t.Errorf("genuine own-archive messages: %+v", d.conversation("bob@evil.test"))
	}
	if n := len(d.conversation(hostileRoom)) + len(d.conversation("carol@evil.test")); n != 0 {
		t.Errorf("%d claims the user's archive cannot make were stored", n)
	}
	rej := auditKinds(t, d.store, securestore.AuditRejected)
	if len(rej) != 1 || !strings.Contains(rej[0].Detail, `"o1"`) || !strings.Contains(rej[0].Detail, `"o2"`) || strings.Contains(rej[0].Detail, `"o3"`) {
		t.Errorf("audit: %+v", rej)
	}
}

// TestSenderTimestampsNotTrusted: a sender's <delay/> decides neither order
// nor retention. A 2099 stamp (the sender's, "our server's" on a live
// message, or an archive's) is clamped to the time of receipt, so it cannot
// pin a conversation to the top of the inbox; a backdated one is stored at
// its time of receipt, after what was already there, with the claim kept
// for display.
func TestSenderTimestampsNotTrusted(t *testing.T) {
	start := time.Now().Add(-time.Second)
	carolArchived := `<message xmlns="jabber:client" to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="c0"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="` +
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `"/><message xmlns="jabber:client" type="chat" from="carol@evil.test/x" to="alice@evil.test" id="c0"><body>an hour ago</body></message></forwarded></result></message>`
	futureArchived := `<message xmlns="jabber:client" to="alice@evil.test/r1"><result xmlns="urn:xmpp:mam:2" queryid="QUERYID" id="e0"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2099-01-01T00:00:00Z"/><message xmlns="jabber:client" type="chat" from="erin@evil.test/x" to="alice@evil.test" id="e0"><body>archive says 2099</body></message></forwarded></result></message>`
	delayed := func(from, id, body, stamp, by string) string {
		byAttr := ""
		if by != "" {
			byAttr = ` from="` + by + `"`
		}
		return `<message xmlns="jabber:client" type="chat" from="` + from + `" to="alice@evil.test/r1" id="` + id + `"><body>` + body + `</body><delay xmlns="urn:xmpp:delay"` + byAttr + ` stamp="` + stamp + `"/></message>`
	}
	backdated := time.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339)
	srv := hostile.Start(hostile.Session{
		MAMResults: []string{carolArchived, futureArchived},
		Frames: []string{
			delayed("bob@evil.test/x", "b1", "from the future", "2099-01-01T00:00:00Z", ""),
			delayed("dave@evil.test/x", "d1", "future, claiming our server", "2099-01-01T00:00:00Z", "evil.test"),
			delayed("carol@evil.test/x", "c1", "backdated", backdated, "carol@evil.test"),
		},
	})
	defer srv.Close()
	d := hostileDevice(t, srv)
	d.waitFor("all messages", 10*time.Second, func() bool {
		return len(d.conversation("bob@evil.test")) == 1 && len(d.conversation("dave@evil.test")) == 1 &&
			len(d.conversation("carol@evil.test")) == 2 && len(d.conversation("erin@evil.test")) == 1
	})
	end := time.Now().Add(time.Second)
	for _, conv := range []string{"bob@evil.test", "dave@evil.test", "erin@evil.test"} {
		m := d.conversation(conv)[0]
		if m.Timestamp.Before(start) || m.Timestamp.After(end) {
			t.Errorf("%s: stored at %v, want the time of receipt", conv, m.Timestamp)
		}
		c, err := d.store.Conversation(conv)
		if err != nil || c.LastActivity.After(end) {
			t.Errorf("%s pinned to the future: %+v %v", conv, c, err)
		}
	}
	carol := d.conversation("carol@evil.test")
	if carol[1].Body != "backdated" || carol[1].Timestamp.Before(start) {
		t.Errorf("backdated message slipped into old history: %+v", carol)
	}
	if carol[1].Extra[ExtraClaimedAt] != backdated {
		t.Errorf("claimed time not kept: %q", carol[1].Extra[ExtraClaimedAt])
	}
	if got := d.conversation("bob@evil.test")[0].Extra[ExtraClaimedAt]; got != "2099-01-01T00:00:00Z" {
		t.Errorf("claimed future time not kept: %q", got)
	}
}

// TestServerDelayBelievedOnlyWhileSettingUp: our server's stamp (offline
// storage, from our domain or bare JID) is believed while the stream is
// being set up, when the server delivers what it held; once the Session is
// ready the same stamp is a sender's claim. A room's stamp on a live
// groupchat message is never believed (rooms are joined without history; an
// occupant can add <delay from="room"/> where the room does not strip it),
// nor, while setting up, an occupant's stamp naming our domain (our server
// holds no groupchat offline).
func TestServerDelayBelievedOnlyWhileSettingUp(t *testing.T) {
	s, _ := unconnectedSession(t)
	s.rooms["icu@rooms.hospital.test"] = &room{jid: "icu@rooms.hospital.test", nick: "alice", members: map[string]string{}}
	held := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	stamp := func(m *xmpp.Message) time.Time {
		var sm securestore.Message
		s.stampTime(&sm, m, time.Time{})
		return sm.Timestamp
	}
	for _, by := range []string{"hospital.test", "alice@hospital.test"} {
		m := &xmpp.Message{Type: "chat", From: "bob@hospital.test/x", Delays: []xmpp.Delay{{Stamp: held, From: by}}}
		if got := stamp(m); !got.Equal(held) {
			t.Errorf("setting up, stamp by %s: got %v, want %v", by, got, held)
		}
	}
	forged := &xmpp.Message{Type: "chat", From: "bob@hospital.test/x", Delays: []xmpp.Delay{{Stamp: held, From: "bob@hospital.test"}}}
	if got := stamp(forged); got.Equal(held) {
		t.Error("the sender's own stamp was believed")
	}
	room := &xmpp.Message{Type: "groupchat", From: "icu@rooms.hospital.test/bob", Delays: []xmpp.Delay{{Stamp: held, From: "icu@rooms.hospital.test"}}}
	other := &xmpp.Message{Type: "groupchat", From: "icu@rooms.hospital.test/bob", Delays: []xmpp.Delay{{Stamp: held, From: "lab@rooms.hospital.test"}}}
	occupantAsServer := &xmpp.Message{Type: "groupchat", From: "icu@rooms.hospital.test/bob", Delays: []xmpp.Delay{{Stamp: held, From: "hospital.test"}}}
	if got := stamp(occupantAsServer); got.Equal(held) {
		t.Error("setting up: a groupchat message's stamp naming our domain (an occupant's claim) was believed")
	}
	if got := stamp(&xmpp.Message{Type: "groupchat", From: "icu@rooms.hospital.test/bob", Delays: []xmpp.Delay{{Stamp: held, From: "alice@hospital.test"}}}); !got.Equal(held) {
		t.Errorf("setting up: XEP-0198 replay's stamp on a groupchat message: got %v, want %v", got, held)
	}
	s.setReady(true)
	if got := stamp(&xmpp.Message{Type: "chat", From: "bob@hospital.test/x", Delays: []xmpp.Delay{{Stamp: held, From: "hospital.test"}}}); got.Equal(held) {
		t.Error("a server stamp on a live message (session ready) was believed")
	}
	if got := stamp(room); got.Equal(held) {
		t.Error("a room's stamp on a live groupchat message (joined without history) was believed")
	}
	if got := stamp(other); got.Equal(held) {
		t.Error("a stamp naming another room was believed")
	}
}

// TestServerDelayNotBeforeLastOnline: while setting up, a <delay/> naming
// our domain or our bare JID may be a sender's (a live message arriving
// during catch-up carries it unchanged). Our server holds a message only
// while no resource of ours is online, so a stamp earlier than this device's
// last time online (recorded in the store, read by the next Session) less
// the clock-skew allowance is not believed: stored at receipt, claim kept.
// A stamp within the allowance, or after, still is.
func TestServerDelayNotBeforeLastOnline(t *testing.T) {
	st := openStore(t, t.TempDir()+"/a.db")
	defer st.Close()
	cfg := Config{Store: st, XMPP: xmpp.Config{URL: "wss://example.invalid/ws", JID: "alice@hospital.test"}}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first.setReady(true) // online: recorded
	online := time.Now()
	s, err := New(cfg) // the next start, setting up
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(at time.Time, by string) securestore.Message {
		var sm securestore.Message
		s.stampTime(&sm, &xmpp.Message{Type: "chat", From: "bob@hospital.test/x", Delays: []xmpp.Delay{{Stamp: at, From: by}}}, time.Time{})
		return sm
	}
	old := time.Date(2019, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, by := range []string{"hospital.test", "alice@hospital.test"} {
		sm := stamp(old, by)
		if sm.Timestamp.Before(online) {
			t.Errorf("stamp by %s before the last time online believed: %v", by, sm.Timestamp)
		}
		if sm.Extra[ExtraClaimedAt] != "2019-03-01T08:00:00Z" {
			t.Errorf("claim not kept: %q", sm.Extra[ExtraClaimedAt])
		}
	}
	skewed := online.Add(-time.Minute).UTC().Truncate(time.Second)
	if got := stamp(skewed, "hospital.test").Timestamp; !got.Equal(skewed) {
		t.Errorf("stamp within the clock-skew allowance: got %v, want %v", got, skewed)
	}
}

// TestSenderIDsScopedLive: ids a sender chose (no origin-id: the stanza
// id) decide nothing alone. A lab gateway whose counter restarted sends "1"
// twice with different results: both stored; its resend of the second:
// stored once. Two members of a room, both counting from "1": both stored
// (hostile server; the room is rejoined at sign-in).
func TestSenderIDsScopedLive(t *testing.T) {
	plain := func(from, typ, id, body string) string {
		return `<message xmlns="jabber:client" type="` + typ + `" from="` + from + `" to="alice@evil.test/r1" id="` + id + `"><body>` + body + `</body></message>`
	}
	srv := hostile.Start(hostile.Session{Frames: []string{
		plain("lab@evil.test/gw", "chat", "1", "K+ 4.1"),
		plain("lab@evil.test/gw", "chat", "1", "K+ 6.9"),
		plain("lab@evil.test/gw", "chat", "1", "K+ 6.9"),
		plain(hostileRoom+"/nurse1", "groupchat", "1", "BP 120/80 bed 3"),
		plain(hostileRoom+"/nurse2", "groupchat", "1", "BP 90/60 bed 5"),
		plain("lab@evil.test/gw", "chat", "end", "end"),
	}, RoomMAM: map[string][]string{hostileRoom: nil}})
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "alice.db")
	st := openStore(t, path)
	if err := st.SetSetting(settingRooms, []byte(hostileRoom+"\x00alice\x00")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	d := hostileDeviceAt(t, srv, path)
	d.waitFor("the last frame", 10*time.Second, func() bool { return d.bodies("lab@evil.test", securestore.Incoming)["end"] == 1 })
	lab := d.bodies("lab@evil.test", securestore.Incoming)
	if lab["K+ 4.1"] != 1 || lab["K+ 6.9"] != 1 {
		t.Errorf("lab results: %v (want each once)", lab)
	}
	room := d.bodies(hostileRoom, securestore.Incoming)
	if room["BP 120/80 bed 3"] != 1 || room["BP 90/60 bed 5"] != 1 {
		t.Errorf("room members' id 1: %v (want both)", room)
	}
}

// TestRoomPrivateMessagesNotStoredAsRoom: a private message through a room
// (type chat from room@service/nick, or ours to one, from another device)
// is not stored: under the room's conversation it would show one member a
// text, page or acknowledgement the rest of the team never saw. Groupchat
// messages and 1:1 messages are stored as before.
func TestRoomPrivateMessagesNotStoredAsRoom(t *testing.T) {
	s, _ := unconnectedSession(t)
	const icu = "icu@rooms.hospital.test"
	s.rooms[icu] = &room{jid: icu, nick: "alice", members: map[string]string{"mallory": "mallory@hospital.test"}}
	for name, m := range map[string]*xmpp.Message{
		"private message from an occupant":     {Type: "chat", From: icu + "/mallory", To: "alice@hospital.test/phone", ID: "pm1", Body: "STAT bed 3"},
		"normal-type message from an occupant": {From: icu + "/mallory", To: "alice@hospital.test/phone", ID: "pm2", Body: "ack"},
		"our private message, carbon":          {Type: "chat", From: "alice@hospital.test/desk", To: icu + "/mallory", ID: "pm3", Body: "ok", Carbon: xmpp.CarbonSent},
	} {
		if sm, ok := s.toStored(m, false); ok {
			t.Errorf("%s stored in %q", name, sm.ConversationID)
		}
	}
	if sm, ok := s.toStored(&xmpp.Message{Type: "groupchat", From: icu + "/mallory", ID: "g1", Body: "in the room"}, false); !ok || sm.ConversationID != icu {
		t.Errorf("groupchat message: stored %v in %q", ok, sm.ConversationID)
	}
	if sm, ok := s.toStored(&xmpp.Message{Type: "chat", From: "mallory@hospital.test/x", ID: "c1", Body: "1:1"}, false); !ok || sm.ConversationID != "mallory@hospital.test" {
		t.Errorf("1:1 message: stored %v in %q", ok, sm.ConversationID)
	}
}

// TestRoomAckAttributedToItsAuthor: an acknowledgement in a room is
// recorded on the page under its author's stable identity (Extra sender),
// never under whoever holds its nick today: an ack mallory gave under the
// nick "bob", read from the room's archive after bob took his nick back,
// must not read as bob's. Without a stable identity only the nick is named.
func TestRoomAckAttributedToItsAuthor(t *testing.T) {
	s, st := unconnectedSession(t)
	const icu = "icu@rooms.hospital.test"
	s.rooms[icu] = &room{jid: icu, nick: "alice", members: map[string]string{"bob": "bob@hospital.test"}}
	now := time.Now()
	page := securestore.Message{ConversationID: icu, From: "alice@hospital.test/phone", To: icu, Direction: securestore.Outgoing,
		Body: "STAT bed 3", OriginID: "p1", StanzaID: "sid-p1", StanzaIDBy: icu, Timestamp: now, ReceivedAt: now,
		Extra: map[string]string{ExtraAck: "required", securestore.ExtraSender: "alice@hospital.test"}}
	page.Receipt.State = securestore.ReceiptSent
	added, err := st.AppendMessages([]securestore.Message{page})
	if err != nil || len(added) != 1 {
		t.Fatal(err)
	}
	ack := func(origin, sender string) {
		t.Helper()
		x := map[string]string{ExtraResponse: string(ResponseAck), ExtraResponseTo: "sid-p1"}
		if sender != "" {
			x[securestore.ExtraSender] = sender
		}
		got, err := st.AppendMessages([]securestore.Message{{ConversationID: icu, From: icu + "/bob", Direction: securestore.Incoming,
			Body: "ack", OriginID: origin, Timestamp: now, ReceivedAt: now, Extra: x}})
		if err != nil || len(got) != 1 {
			t.Fatal(err)
		}
		s.applyResponse(got[0])
	}
	ack("a1", "mallory@hospital.test") // mallory, under the nick bob holds now
	ack("a2", "")                      // someone without a stable identity under that nick
	m, err := st.Message(added[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := m.Members["bob@hospital.test"]; ok && r.State == securestore.ReceiptAcknowledged {
		t.Errorf("bob recorded as acknowledging: %+v", m.Members)
	}
	if r := m.Members["mallory@hospital.test"]; r.State != securestore.ReceiptAcknowledged {
		t.Errorf("mallory's acknowledgement not recorded under her JID: %+v", m.Members)
	}
}

// TestAuditQuotesBounded: ids and JIDs an audit entry quotes from the wire
// (a forged archive result's id and from, an unreadable message's ids) are
// cut to a few hundred bytes each: the audit log is never purged, and a
// hostile archive could otherwise put megabytes into every entry.
func TestAuditQuotesBounded(t *testing.T) {
	s, st := unconnectedSession(t)
	huge := strings.Repeat("é", 50000)
	var rs []rejectedResult
	for range 25 {
		rs = append(rs, rejectedResult{id: huge, from: huge + "@x/y", typ: huge, reason: "not a groupchat message"})
	}
	s.auditRejected("icu@rooms.hospital.test", rs)
	_, detail := unreadableAudit([]securestore.Message{{ID: 1, ConversationID: "bob@hospital.test", From: huge, OriginID: huge, StanzaID: huge,
		StanzaIDBy: "alice@hospital.test", Extra: map[string]string{ExtraUnreadable: xmpp.ReasonTooLarge}}})
	if len(detail) > 4096 || !utf8.ValidString(detail) {
		t.Errorf("unreadable audit detail: %d bytes (valid UTF-8 %v)", len(detail), utf8.ValidString(detail))
	}
	rej := auditKinds(t, st, securestore.AuditRejected)
	if len(rej) != 1 {
		t.Fatalf("%d rejected entries", len(rej))
	}
	if n := len(rej[0].Detail); n > 32*1024 || !utf8.ValidString(rej[0].Detail) {
		t.Errorf("rejected audit detail: %d bytes (valid UTF-8 %v)", n, utf8.ValidString(rej[0].Detail))
	}
}

// unconnectedSession is alice@hospital.test's Session over a fresh store,
// never connected: tests hand its handlers stanzas directly.
func unconnectedSession(t *testing.T) (*Session, *securestore.Store) {
	t.Helper()
	st := openStore(t, t.TempDir()+"/a.db")
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: "wss://example.invalid/ws", JID: "alice@hospital.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}
