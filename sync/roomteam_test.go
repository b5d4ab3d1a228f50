package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestRoomInvitation: alice creates a care-team room with nobody else in it
// and invites bob. Bob's device keeps the invitation (who, which room, the
// reason) and joins nothing by itself; accepting joins the members-only room
// (the invitation made him a member) and forgets the invitation. Inviting
// him again does not demote the admin he has since become.
func TestRoomInvitation(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	room := "icu-team@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "alice", "ICU team", nil); err != nil {
		t.Fatal(err)
	}
	if err := alice.session.InviteToRoom(ctx, room, bob.jid, "Night shift ICU"); err != nil {
		t.Fatal(err)
	}
	var inv []Invitation
	bob.waitFor("the invitation", 30*time.Second, func() bool {
		inv, _ = bob.session.Invitations()
		return len(inv) == 1
	})
	if inv[0].Room != room || inv[0].From != alice.jid || inv[0].Reason != "Night shift ICU" {
		t.Fatalf("invitation %+v", inv[0])
	}
	if bob.session.isRoom(room) {
		t.Fatal("an invitation joined the room by itself")
	}
	if err := bob.session.AcceptInvitation(ctx, room, "bob"); err != nil {
		t.Fatalf("accepting: %v", err)
	}
	if !bob.session.InRoom(room) {
		t.Fatal("not in the room after accepting")
	}
	if inv, _ := bob.session.Invitations(); len(inv) != 0 {
		t.Fatalf("invitation kept after joining: %+v", inv)
	}
	if err := alice.session.SetRoomMember(ctx, room, bob.jid, AffiliationAdmin); err != nil {
		t.Fatal(err)
	}
	if err := alice.session.InviteToRoom(ctx, room, bob.jid, ""); err != nil {
		t.Fatal(err)
	}
	members, err := alice.session.RoomMembers(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(members, RoomMember{JID: bob.jid, Affiliation: AffiliationAdmin}) {
		t.Fatalf("inviting an admin again changed him: %+v", members)
	}
	if err := bob.session.AcceptInvitation(ctx, "nowhere@conference."+srv.Domain, "bob"); !errors.Is(err, securestore.ErrNotFound) {
		t.Fatalf("accepting an invitation never received: %v", err)
	}
}

// TestInvitationTrust: invitations bob's device must not keep: one to a
// room that does not exist, one sent through a room he is in (from an
// occupant's address, not a person's), and one that is not a room JID. An
// invitation from a colleague to a real room that follows them is kept;
// none of them joins anything.
func TestInvitationTrust(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "mallory")
	ctx := context.Background()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	lounge, icu := "lounge@conference."+srv.Domain, "icu@conference."+srv.Domain
	if err := alice.session.CreateRoom(ctx, lounge, "alice", "", []string{bob.jid, srv.JID("mallory")}); err != nil {
		t.Fatal(err)
	}
	if err := alice.session.CreateRoom(ctx, icu, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := bob.session.JoinRoom(ctx, lounge, "bob"); err != nil {
		t.Fatal(err)
	}
	mc, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("mallory"), Resource: "m",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if err := mc.JoinRoom(ctx, lounge, "mallory"); err != nil {
		t.Fatal(err)
	}
	invite := func(to, room string) {
		t.Helper()
		m := xmpp.NewElement(xmpp.NSClient, "message", "to", to, "id", xmpp.NewID()).Append(
			xmpp.NewElement(xmpp.NSDirectInvite, "x", "jid", room))
		if err := mc.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	invite(bob.jid, "ghost-ward@conference."+srv.Domain)
	invite(lounge+"/bob", icu)
	invite(bob.jid, "conference."+srv.Domain)
	invite(bob.jid, lounge) // he is in it already
	if err := alice.session.InviteToRoom(ctx, icu, bob.jid, ""); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("alice's invitation", 30*time.Second, func() bool {
		inv, _ := bob.session.Invitations()
		return slices.ContainsFunc(inv, func(i Invitation) bool { return i.From == alice.jid })
	})
	// The checks run per invitation: give the earlier ones the same time.
	time.Sleep(500 * time.Millisecond)
	inv, _ := bob.session.Invitations()
	if len(inv) != 1 || inv[0].Room != icu || inv[0].From != alice.jid {
		t.Fatalf("kept %+v, want only alice's to %s", inv, icu)
	}
	if bob.session.isRoom(icu) {
		t.Fatal("an invitation joined a room by itself")
	}
}

// TestBookmarksFollowDevices: the rooms of an account follow it across its
// devices through XEP-0402 bookmarks. A room alice joins on her phone is
// joined by her desktop when it signs in; a room she creates while both are
// online is joined by the other at once (+notify), and leaving it on one
// leaves it on the other. Bob cannot read her bookmarks (whitelist).
func TestBookmarksFollowDevices(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	ward, icu := "ward-7@conference."+srv.Domain, "icu@conference."+srv.Domain
	phone := startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "phone"})
	if err := phone.session.CreateRoom(ctx, ward, "alice", "Ward 7", nil); err != nil {
		t.Fatal(err)
	}
	desk := startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "desk"})
	if !desk.session.InRoom(ward) {
		t.Fatal("the second device did not join the room bookmarked by the first at sign-in")
	}
	if cv, err := desk.store.Conversation(ward); err != nil || cv.Kind != securestore.KindRoom {
		t.Fatalf("bookmarked room's conversation: %+v, %v", cv, err)
	}
	if err := phone.session.CreateRoom(ctx, icu, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	desk.waitFor("joining the room created on the phone", 30*time.Second, func() bool { return desk.session.InRoom(icu) })
	if err := phone.session.LeaveRoom(ctx, icu); err != nil {
		t.Fatal(err)
	}
	desk.waitFor("leaving the room left on the phone", 30*time.Second, func() bool { return !desk.session.isRoom(icu) })
	if !desk.session.InRoom(ward) {
		t.Fatal("leaving one room left another")
	}

	bc, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("bob"), Resource: "b",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	items, err := bc.GetItems(ctx, phone.jid, xmpp.NSBookmarks)
	if err == nil || len(items) > 0 {
		t.Fatalf("bob read alice's bookmarks: %d items, %v", len(items), err)
	}
}

// TestLeaveOfflineRetractsAtSignIn: a room left while offline is not
// joined again at the next sign-in (its bookmark is retracted then, before
// it could read as joined on another device).
func TestLeaveOfflineRetractsAtSignIn(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	ctx := context.Background()
	ward := "ward-2@conference." + srv.Domain
	path := t.TempDir() + "/alice.db"
	d := startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "phone", storePath: path})
	if err := d.session.CreateRoom(ctx, ward, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	d.stop()
	st := openStore(t, path)
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice")}, FollowBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LeaveRoom(ctx, ward); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	d = startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "phone", storePath: path})
	if d.session.isRoom(ward) {
		t.Fatal("a room left offline was joined again from its bookmark")
	}
	other := startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "desk"})
	if other.session.isRoom(ward) {
		t.Fatal("the bookmark of a room left offline is still there")
	}
}

// TestRoomMarkerNeedsRealJID: in a room that shows real JIDs to moderators
// only, a member's displayed marker names nobody alice can verify (only a
// nick, which anyone may take once its holder leaves), so it must not
// appear in her message's "read by". Before, the marker was recorded under
// the nick.
func TestRoomMarkerNeedsRealJID(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx := context.Background()
	room := "semi@conference." + srv.Domain
	dial := func(user string, onMsg func(*xmpp.Message)) *xmpp.Client {
		c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID(user), Resource: "raw",
			Credentials: xmpp.Credentials{Password: testserver.Password}, OnMessage: onMsg})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	carol := dial("carol", nil)
	if err := carol.CreateRoom(ctx, room, "carol", xmpp.RoomConfig{Members: []string{srv.JID("alice"), srv.JID("bob")}}); err != nil {
		t.Fatal(err)
	}
	form := xmpp.NewElement("jabber:x:data", "x", "type", "submit")
	for _, f := range [][2]string{{"FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"}, {"muc#roomconfig_whois", "moderators"},
		{"muc#roomconfig_membersonly", "1"}, {"muc#roomconfig_persistentroom", "1"}, {"muc#roomconfig_publicroom", "0"}} {
		form.Append(xmpp.NewElement("jabber:x:data", "field", "var", f[0]).Append(xmpp.NewElement("jabber:x:data", "value").SetText(f[1])))
	}
	if _, err := carol.SendIQ(ctx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "set", "to", room).Append(
		xmpp.NewElement(xmpp.NSMUCOwner, "query").Append(form))); err != nil {
		t.Fatal(err)
	}
	alice := startDevice(t, srv, "alice", deviceOptions{})
	if err := alice.session.JoinRoom(ctx, room, "alice"); err != nil {
		t.Fatal(err)
	}
	got := make(chan *xmpp.Message, 16)
	bob := dial("bob", func(m *xmpp.Message) {
		if m.Type == "groupchat" && m.Body != "" {
			got <- m
		}
	})
	if err := bob.JoinRoom(ctx, room, "bob"); err != nil {
		t.Fatal(err)
	}
	ids := alice.send(room, "obs", 1)
	var msg *xmpp.Message
	select {
	case msg = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("bob did not get alice's message")
	}
	if err := bob.Send(xmpp.NewDisplayed(msg, room)); err != nil {
		t.Fatal(err)
	}
	if err := bob.Send(xmpp.NewGroupChat(room, "fence")); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's fence", 20*time.Second, func() bool { return alice.bodies(room, securestore.Incoming)["fence"] == 1 })
	m, err := alice.store.Message(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Members) != 0 {
		t.Fatalf("a marker from an occupant without a real JID was recorded: %+v", m.Members)
	}
}

// TestInvitationInteropSlixmpp: invitations between Rounds and another
// client (slixmpp's XEP-0249 plugin, as Gajim-era clients and poezio use
// it): carol (slixmpp) reads alice's invitation with its room and reason;
// carol's invitation to alice's room reaches bob's device and is kept for
// him to accept.
func TestInvitationInteropSlixmpp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	room := "icu@conference." + srv.Domain
	if err := alice.session.CreateRoom(ctx, room, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := alice.session.InviteToRoom(ctx, room, srv.JID("carol"), "ICU team"); err != nil {
		t.Fatal(err)
	}
	e, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "invite" })
	if err != nil {
		t.Fatal(err)
	}
	if e.JID != room || e.Body != "ICU team" || xmpp.BareJID(e.From) != alice.jid {
		t.Fatalf("slixmpp read the invitation as %+v", e)
	}
	if err := carol.Invite(bob.jid, room, "join us"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("carol's invitation", 30*time.Second, func() bool {
		inv, _ := bob.session.Invitations()
		return len(inv) == 1 && inv[0].From == srv.JID("carol") && inv[0].Room == room && inv[0].Reason == "join us"
	})
}

// TestInvitationFloodKeepsColleagues: anyone can send invitations to real
// rooms (their own, on their own server), and only the 50 newest were kept,
// so a stranger's flood pushed a colleague's invitation out. The store's
// bound now gives way in the flood: the domain holding the most kept
// invitations, within it the sender holding the most, oldest first.
func TestInvitationFloodKeepsColleagues(t *testing.T) {
	st := openStore(t, t.TempDir()+"/bob.db")
	defer st.Close()
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: "ws://127.0.0.1:1/ws", JID: "bob@hospital.example"}})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(room, from string) {
		t.Helper()
		if err := s.keepInvitation(Invitation{Room: room, From: from, At: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	icu := "icu@conference.hospital.example"
	keep(icu, "alice@hospital.example")
	// One stranger on the hospital's server, then many on their own.
	for i := range maxInvitations + 10 {
		keep(fmt.Sprintf("flood-%d@conference.hospital.example", i), "mallory@hospital.example")
	}
	for i := range maxInvitations + 10 {
		keep(fmt.Sprintf("r%d@muc.evil.example", i), fmt.Sprintf("m%d@evil.example", i))
	}
	list, err := s.Invitations()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) > maxInvitations {
		t.Fatalf("%d invitations kept, bound is %d", len(list), maxInvitations)
	}
	if !slices.ContainsFunc(list, func(i Invitation) bool { return i.Room == icu && i.From == "alice@hospital.example" }) {
		t.Fatalf("a flood of %d invitations pushed out alice's", 2*(maxInvitations+10))
	}
	if list[len(list)-1].From != fmt.Sprintf("m%d@evil.example", maxInvitations+9) {
		t.Fatalf("the newest invitation was not kept: last is %+v", list[len(list)-1])
	}
}

// TestBookmarkOnForeignServerNotJoined: the bookmarks are shared with every
// client of the account, so a room on another server bookmarked with
// autojoin (by a personal client, or planted) was remembered and joined by
// every Rounds device at sign-in, listed among its care teams. Only rooms
// on the account's own domain or one under it are followed; the foreign
// bookmark is left as it is.
func TestBookmarkOnForeignServerNotJoined(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	ctx := context.Background()
	foreign := "lobby@conference.elsewhere.example"
	ward := "ward-3@conference." + srv.Domain
	ac, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice"), Resource: "personal",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	if err := ac.PublishBookmark(ctx, xmpp.Bookmark{Room: foreign, Autojoin: true}); err != nil {
		t.Fatal(err)
	}
	phone := startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "phone"})
	if err := phone.session.CreateRoom(ctx, ward, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	desk := startDevice(t, srv, "alice", deviceOptions{bookmarks: true, resource: "desk"})
	if desk.session.isRoom(foreign) {
		t.Fatal("a bookmarked room on another server was joined at sign-in")
	}
	if cv, err := desk.store.Conversation(foreign); err == nil {
		t.Fatalf("a bookmarked room on another server is listed: %+v", cv)
	}
	if !desk.session.isRoom(ward) {
		t.Fatal("the bookmarked room on our own server was not followed")
	}
	marks, err := ac.FetchBookmarks(ctx)
	if err != nil || !slices.ContainsFunc(marks, func(b xmpp.Bookmark) bool { return b.Room == foreign }) {
		t.Fatalf("the foreign bookmark was not left as it was: %+v, %v", marks, err)
	}
}
