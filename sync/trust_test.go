package sync

import (
	"context"
	"strings"
	"testing"
	"time"

	"rounds/internal/hostile"
	"rounds/securestore"
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
